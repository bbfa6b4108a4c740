// Tasks that submit tasks: a tree sum over [0, N) and a recursive Fibonacci,
// as examples/rust/nested (same output):
//
//   wrun submit nested.wasm 4096     # -> {"expected": 8386560, "n": 4096, "sum": 8386560}
//   wrun submit nested.wasm fib 15   # -> {"fib": 610, "n": 15}
#include <charconv>
#include <map>

#include <wrun/wrun.hpp>

// Sums lo..hi by splitting the range in two remote halves until one number
// is left: about 2N tasks for N numbers.
wrun::Result<uint64_t> tree_sum(uint64_t lo, uint64_t hi);
WRUN_TASK(tree_sum);

wrun::Result<uint64_t> tree_sum(uint64_t lo, uint64_t hi) {
    if (hi <= lo + 1) return hi > lo ? lo : 0;
    uint64_t mid = lo + (hi - lo) / 2;
    auto left = wrun::task(tree_sum).remote(lo, mid);
    if (!left) return wrun::fail(left.error());
    auto right = wrun::task(tree_sum).remote(mid, hi);
    if (!right) return wrun::fail(right.error());
    auto a = wrun::get(*left);
    if (!a) return a;
    auto b = wrun::get(*right);
    if (!b) return b;
    return *a + *b;
}

// The n-th Fibonacci number, one task per call.
wrun::Result<uint64_t> fib(uint64_t n);
WRUN_TASK(fib);

wrun::Result<uint64_t> fib(uint64_t n) {
    if (n < 2) return n;
    auto a = wrun::task(fib).remote(n - 1);
    if (!a) return wrun::fail(a.error());
    auto b = wrun::task(fib).remote(n - 2);
    if (!b) return wrun::fail(b.error());
    auto x = wrun::get(*a);
    if (!x) return x;
    auto y = wrun::get(*b);
    if (!y) return y;
    return *x + *y;
}

wrun::Result<uint64_t> parse(const std::vector<std::string>& args, size_t i, uint64_t fallback) {
    if (args.size() <= i) return fallback;
    uint64_t n;
    auto& a = args[i];
    auto [end, ec] = std::from_chars(a.data(), a.data() + a.size(), n);
    if (ec != std::errc() || end != a.data() + a.size()) return wrun::fail("\"" + a + "\": not a number");
    return n;
}

// `[N]` (default 4096): {"expected", "n", "sum"}; `fib [K]` (default 15): {"fib", "n"}.
wrun::Result<std::map<std::string, uint64_t>> job_main(std::vector<std::string> args) {
    if (!args.empty() && args[0] == "fib") {
        auto n = parse(args, 1, 15);
        if (!n) return wrun::fail(n.error());
        auto r = wrun::task(fib).remote(*n);
        if (!r) return wrun::fail(r.error());
        auto v = wrun::get(*r);
        if (!v) return wrun::fail(v.error());
        return std::map<std::string, uint64_t>{{"n", *n}, {"fib", *v}};
    }
    auto n = parse(args, 0, 4096);
    if (!n) return wrun::fail(n.error());
    auto r = wrun::task(tree_sum).remote(uint64_t{0}, *n);
    if (!r) return wrun::fail(r.error());
    auto sum = wrun::get(*r);
    if (!sum) return wrun::fail(sum.error());
    uint64_t expected = *n == 0 ? 0 : *n * (*n - 1) / 2;
    return std::map<std::string, uint64_t>{{"n", *n}, {"sum", *sum}, {"expected", expected}};
}
WRUN_MAIN(job_main);

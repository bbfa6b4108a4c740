// Monte Carlo estimate of pi: many independent sampling tasks, summed.
//
// The same algorithm as examples/rust/pi and examples/python/pi (splitmix64
// seeded by the task's index, two draws per point), so all print the same:
//
//   wrun submit pi.wasm 10   # -> {"tasks": 10, "inside": 78621, "total": 100000, "pi": ...}
#include <charconv>

#include <wrun/wrun.hpp>

// Points sampled per task.
constexpr uint64_t kPointsPerTask = 10'000;

// splitmix64: a small, fast, deterministic PRNG.
struct SplitMix64 {
    uint64_t state;
    uint64_t next() {
        state += 0x9E3779B97F4A7C15ULL;
        uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    // A uniform double in [0, 1).
    double unit() { return static_cast<double>(next() >> 11) / static_cast<double>(1ULL << 53); }
};

// Counts how many of `n` random points in the unit square fall inside the
// quarter circle.
uint64_t sample(uint64_t seed, uint64_t n) {
    SplitMix64 rng{seed};
    uint64_t inside = 0;
    for (uint64_t i = 0; i < n; ++i) {
        double x = rng.unit(), y = rng.unit();
        if (x * x + y * y < 1.0) ++inside;
    }
    return inside;
}
WRUN_TASK(sample);

// Fans out `args[0]` (default 1,000) sampling tasks and sums them.
wrun::Result<wrun::Value> job_main(std::vector<std::string> args) {
    uint64_t tasks = 1000;
    if (!args.empty()) {
        auto& a = args[0];
        auto [end, ec] = std::from_chars(a.data(), a.data() + a.size(), tasks);
        if (ec != std::errc() || end != a.data() + a.size())
            return wrun::fail("task count '" + a + "': not a non-negative integer");
    }
    std::vector<wrun::ObjectRef<uint64_t>> refs;
    refs.reserve(tasks);
    auto task = wrun::task(sample);
    for (uint64_t seed = 0; seed < tasks; ++seed) {
        auto r = task.remote(seed, kPointsPerTask);
        if (!r) return wrun::fail(r.error());
        refs.push_back(std::move(*r));
    }
    auto counts = wrun::get(refs);
    if (!counts) return wrun::fail(counts.error());
    uint64_t inside = 0;
    for (auto c : *counts) inside += c;
    uint64_t total = tasks * kPointsPerTask;
    return wrun::Value(wrun::Map{
        {"tasks", tasks},
        {"inside", inside},
        {"total", total},
        {"pi", 4.0 * static_cast<double>(inside) / static_cast<double>(total)},
    });
}
WRUN_MAIN(job_main);

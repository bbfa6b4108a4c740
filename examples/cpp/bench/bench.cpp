// No-op task throughput and latency of C++ guests, timed inside the driver:
//
//   wrun submit --env bench/lang-env.toml bench.wasm tasks 2000
//   # -> {"mode": "tasks", "ops": 2000, "seconds": ..., "per_second": ...}
//
// The environment grants the real clock (the job times itself) and may let
// tasks reuse warm instances.
#include <charconv>
#include <chrono>

#include <wrun/wrun.hpp>

// Does nothing.
void noop() {}
WRUN_TASK(noop);

wrun::Result<wrun::Value> job_main(std::vector<std::string> args) {
    std::string mode = args.empty() ? "tasks" : args[0];
    uint64_t n = 1000;
    if (args.size() > 1) {
        auto [end, ec] = std::from_chars(args[1].data(), args[1].data() + args[1].size(), n);
        if (ec != std::errc() || end != args[1].data() + args[1].size())
            return wrun::fail("count '" + args[1] + "': not a non-negative integer");
    }
    auto task = wrun::task(noop);
    auto start = std::chrono::steady_clock::now();
    if (mode == "tasks") {
        std::vector<wrun::ObjectRef<wrun::Value>> refs;
        refs.reserve(n);
        for (uint64_t i = 0; i < n; ++i) {
            auto r = task.remote();
            if (!r) return wrun::fail(r.error());
            refs.push_back(std::move(*r));
        }
        if (auto got = wrun::get(refs); !got) return wrun::fail(got.error());
    } else if (mode == "latency") {
        for (uint64_t i = 0; i < n; ++i) {
            auto r = task.remote();
            if (!r) return wrun::fail(r.error());
            if (auto got = wrun::get(*r); !got) return wrun::fail(got.error());
        }
    } else {
        return wrun::fail("unknown mode '" + mode + "': use tasks or latency");
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return wrun::Value(wrun::Map{
        {"mode", mode},
        {"ops", n},
        {"seconds", seconds},
        {"per_second", seconds > 0 ? static_cast<double>(n) / seconds : 0.0},
    });
}
WRUN_MAIN(job_main);

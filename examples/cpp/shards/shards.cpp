// The C++ stage of the cross-language pipeline (examples/python/pipeline):
// per-shard statistics, and a relay that calls a task of any component by
// name and reports the error it gets back, as C++ sees it.
//
//   wrun submit --component cpp=shards.wasm --component rust=tally.wasm \
//       --component java=report.wasm pipeline.wasm 8
#include <algorithm>

#include <wrun/wrun.hpp>

// Count, sum, sum of squares, min and max of one shard of integers. An empty
// shard is an application error (it has no min or max).
wrun::Result<wrun::Value> shard_stats(std::vector<int64_t> values) {
    if (values.empty()) return wrun::fail("empty shard: nothing to summarise");
    int64_t sum = 0, sum_sq = 0;
    for (int64_t v : values) {
        sum += v;
        sum_sq += v * v;
    }
    auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    return wrun::Value(wrun::Map{
        {"count", static_cast<uint64_t>(values.size())},
        {"sum", sum},
        {"sum_sq", sum_sq},
        {"min", *lo},
        {"max", *hi},
    });
}
WRUN_TASK(shard_stats);

// Calls `function` (any component, any language) with `arg`; returns its
// value, or the fields of the error it raised as C++ received them.
wrun::Value relay(std::string function, std::string arg) {
    auto ref = wrun::task(function).remote(arg);
    auto value = ref ? wrun::get(*ref) : wrun::Result<wrun::Value>(wrun::fail(ref.error()));
    if (value) return wrun::Map{{"ok", *value}};
    const wrun::Error& e = value.error();
    return wrun::Map{
        {"kind", wrun::kind_name(e.kind)},
        {"task", e.task},
        {"language", e.language},
        {"message", e.message},
    };
}
WRUN_TASK(relay);

// Calls `function` by name with `amount`; its error is passed on unchanged,
// so a Python caller of a Python task through here catches its own class.
wrun::Result<int64_t> pass_on(std::string function, int64_t amount) {
    auto ref = wrun::task<int64_t>(function).remote(amount);
    if (!ref) return wrun::fail(ref.error());
    return wrun::get(*ref);
}
WRUN_TASK(pass_on);

wrun::Result<wrun::Value> job_main(std::vector<std::string>) {
    return wrun::fail(
        "this component holds the pipeline's C++ tasks; submit examples/python/pipeline as the driver");
}
WRUN_MAIN(job_main);

// Where tasks run: the driver submits tasks that each need one unit of a
// custom resource (default `license`) and reports which node ran each. On a
// cluster, a driver whose node lacks the resource sees its tasks run on a
// node that has it.
//
//   wrun submit --address HEAD:PORT placement.wasm license 4
//   # -> {"driver": "<node id>", "tasks": ["<node id>", ...], "sum": 10}
//   wrun submit --address HEAD:PORT placement.wasm license timeout   # -> timeout
#include <charconv>
#include <cstdio>

#include <wrun/wrun.hpp>

std::string hex(uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

// The node this task runs on, and its argument back (to check values travel).
std::tuple<std::string, uint64_t> where(uint64_t i) { return {hex(wrun::node_id().hi), i}; }
WRUN_TASK(where);

// Never returns on its own (for timeouts that travel with the task).
uint64_t spin() {
    volatile uint64_t i = 0;
    for (;;) i = i + 1;
    return i;
}
WRUN_TASK(spin);

wrun::Result<wrun::Value> job_main(std::vector<std::string> args) {
    std::string resource = args.empty() ? "license" : args[0];
    // `RESOURCE timeout`: a task that needs RESOURCE and runs past its 200 ms.
    if (args.size() > 1 && args[1] == "timeout") {
        auto r = wrun::task(spin).cpus(0.5).resource(resource, 1).timeout_ms(200).remote();
        if (!r) return wrun::fail(r.error());
        auto v = wrun::get(*r);
        return wrun::Value(v ? std::string("no error") : std::string(wrun::kind_name(v.error().kind)));
    }
    uint64_t n = 4;
    if (args.size() > 1) {
        auto [end, ec] = std::from_chars(args[1].data(), args[1].data() + args[1].size(), n);
        if (ec != std::errc() || end != args[1].data() + args[1].size())
            return wrun::fail("count '" + args[1] + "': not a number");
    }
    std::vector<wrun::ObjectRef<std::tuple<std::string, uint64_t>>> refs;
    for (uint64_t i = 1; i <= n; ++i) {
        auto r = wrun::task(where).cpus(0.5).resource(resource, 1).remote(i);
        if (!r) return wrun::fail(r.error());
        refs.push_back(std::move(*r));
    }
    auto got = wrun::get(refs);
    if (!got) return wrun::fail(got.error());
    wrun::Array nodes;
    uint64_t sum = 0;
    for (auto& [node, i] : *got) {
        nodes.push_back(node);
        sum += i;
    }
    return wrun::Value(wrun::Map{
        {"driver", hex(wrun::node_id().hi)},
        {"tasks", nodes},
        {"sum", sum},
    });
}
WRUN_MAIN(job_main);

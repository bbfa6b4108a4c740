// A named actor shared by tasks: each task looks it up by name, increments
// it, and the driver checks the total, kills it and sees later calls fail.
//
//   wrun submit counter.wasm   # -> {"value": 55, "max_seen": 55, "after_kill": "actor-died"}
#include <algorithm>

#include <wrun/wrun.hpp>

// A counter living in its own actor instance.
class Counter {
public:
    explicit Counter(int64_t start) : n_(start) {}
    // Adds `by` and returns the new value.
    int64_t incr(int64_t by) { return n_ += by; }
    // The current value.
    int64_t value() const { return n_; }

private:
    int64_t n_;
};
WRUN_ACTOR(Counter, int64_t);
WRUN_METHOD(Counter, incr);
WRUN_METHOD(Counter, value);

// Increments the counter it is handed, after checking that looking the actor
// up by name finds the same one.
wrun::Result<int64_t> bump(wrun::ActorHandle c, int64_t by) {
    auto found = wrun::ActorHandle::lookup("counter");
    if (!found) return wrun::fail(found.error());
    if (!*found || **found != c) return wrun::fail("lookup found a different actor");
    auto r = c.call<int64_t>("incr", by);
    if (!r) return wrun::fail(r.error());
    return wrun::get(*r);
}
WRUN_TASK(bump);

wrun::Result<wrun::Value> job_main(std::vector<std::string>) {
    auto c = wrun::actor("Counter").name("counter").remote(int64_t{0});
    if (!c) return wrun::fail(c.error());
    std::vector<wrun::ObjectRef<int64_t>> bumps;
    for (int64_t by = 1; by <= 10; ++by) {
        auto r = wrun::task(bump).remote(*c, by);
        if (!r) return wrun::fail(r.error());
        bumps.push_back(std::move(*r));
    }
    auto seen = wrun::get(bumps);
    if (!seen) return wrun::fail(seen.error());
    int64_t max_seen = seen->empty() ? 0 : *std::max_element(seen->begin(), seen->end());
    auto value_ref = c->call<int64_t>("value");
    if (!value_ref) return wrun::fail(value_ref.error());
    auto value = wrun::get(*value_ref);
    if (!value) return wrun::fail(value.error());
    if (auto k = c->kill(); !k) return wrun::fail(k.error());
    std::string after_kill;
    auto again = c->call<int64_t>("value");
    auto got = again ? wrun::get(*again) : wrun::Result<int64_t>(wrun::fail(again.error()));
    after_kill = got ? "still alive: " + std::to_string(*got) : wrun::kind_name(got.error().kind);
    return wrun::Value(wrun::Map{
        {"value", *value},
        {"max_seen", max_seen},
        {"after_kill", after_kill},
    });
}
WRUN_MAIN(job_main);

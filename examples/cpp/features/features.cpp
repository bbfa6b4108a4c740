// A tour of the C++ SDK, each feature exercised against the real host; the
// driver returns what it observed and tests/cpp.rs checks every entry
// (submitted with env.toml, whose `warm` environment reuses instances):
// options (resources, retries, timeouts), cancel, several return values, wait,
// streaming results (a task and a method that yield, read while they run),
// references inside values, bytes, actor handles passed to tasks, named
// actors in a namespace, and the runtime context.
//
//   wrun submit --env examples/cpp/features/env.toml features.wasm
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <wrun/wrun.hpp>

using wrun::Value;

// Two return values: the text and its length.
wrun::Returns<std::string, uint64_t> split(std::string s) { return {s, s.size()}; }
WRUN_TASK(split);

// The current directory, and a file of the working directory read by a
// relative path (env.toml's files.working_dir).
std::vector<std::string> where() {
    char cwd[256] = {};
    char line[256] = {};
    if (FILE* motto = std::fopen("motto.txt", "r")) {
        if (!std::fgets(line, sizeof line, motto)) line[0] = 0;
        std::fclose(motto);
    }
    std::string text(line);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    return {getcwd(cwd, sizeof cwd) ? cwd : "<getcwd failed>", text};
}
WRUN_TASK(where);

// Traps every time (an abort is a trap, retried per max_retries).
void crash() { std::abort(); }
WRUN_TASK(crash);

// Never returns on its own.
uint64_t spin() {
    volatile uint64_t i = 0;
    for (;;) i = i + 1;
    return i;
}
WRUN_TASK(spin);

uint64_t one() { return 1; }
WRUN_TASK(one);

// Tasks this instance has run (a warm instance keeps its globals).
uint64_t instance_calls() {
    static uint64_t calls = 0;
    return ++calls;
}
WRUN_TASK(instance_calls);

// Gets the values behind a list of references.
wrun::Result<std::vector<std::string>> deref(std::vector<wrun::ObjectRef<std::string>> refs) {
    return wrun::get(refs);
}
WRUN_TASK(deref);

// Calls the actor it is handed.
wrun::Result<int64_t> poke(wrun::ActorHandle box, int64_t by) {
    auto r = box.call<int64_t>("add", by);
    if (!r) return wrun::fail(r.error());
    return wrun::get(*r);
}
WRUN_TASK(poke);

// Looks a named actor up in a namespace.
wrun::Result<bool> find(std::string name, std::string ns) {
    auto found = wrun::ActorHandle::lookup(name, ns);
    if (!found) return wrun::fail(found.error());
    return found->has_value();
}
WRUN_TASK(find);

wrun::Result<bool> same_job(uint64_t hi, uint64_t lo) {
    auto id = wrun::job_id();
    return id.hi == hi && id.lo == lo;
}
WRUN_TASK(same_job);

// Streams the squares of 0..n (read with remote_streaming).
wrun::Result<void> squares(uint64_t n) {
    for (uint64_t i = 0; i < n; ++i)
        if (auto y = wrun::yield_item(i * i); !y) return wrun::fail(y.error());
    return {};
}
WRUN_TASK(squares);

// Streams k items, then fails: the caller's item k holds the error.
wrun::Result<void> fails_after(uint64_t k) {
    for (uint64_t i = 0; i < k; ++i)
        if (auto y = wrun::yield_item(i); !y) return wrun::fail(y.error());
    return wrun::fail(wrun::Error::application("no item after " + std::to_string(k)));
}
WRUN_TASK(fails_after);

// Always fails with an application error (C++ errors name no type).
wrun::Result<uint64_t> refuse() { return wrun::fail(wrun::Error::application("no")); }
WRUN_TASK(refuse);

// A yield from a task not submitted as streaming: refused.
std::string yield_outside() {
    auto y = wrun::yield_item(1);
    return y ? "accepted" : wrun::kind_name(y.error().kind);
}
WRUN_TASK(yield_outside);

class Box {
public:
    Box() = default;
    // Streams n, n-1, ..., 1 (read with call_streaming).
    wrun::Result<void> countdown(int64_t n) {
        for (int64_t i = n; i > 0; --i)
            if (auto y = wrun::yield_item(i); !y) return wrun::fail(y.error());
        return {};
    }
    int64_t add(int64_t by) { return n_ += by; }
    bool knows_itself() const { return wrun::actor_id().has_value(); }
    // Ends the actor (exit_actor): this call and later ones fail.
    wrun::Result<int64_t> leave() {
        if (auto e = wrun::exit_actor(); !e) return wrun::fail(e.error());
        return n_;
    }

private:
    int64_t n_ = 0;
};
WRUN_ACTOR(Box);
WRUN_METHOD(Box, add);
WRUN_METHOD(Box, knows_itself);
WRUN_METHOD(Box, leave);
WRUN_METHOD(Box, countdown);

std::string kind_of(const wrun::Error& e) { return wrun::kind_name(e.kind); }

#define TRY(var, expr)                                  \
    auto var = (expr);                                  \
    if (!var) return wrun::fail(var.error())

wrun::Result<Value> job_main(std::vector<std::string>) {
    wrun::Map out;
    wrun::RefTable none;

    // num_returns = 2
    TRY(parts, wrun::task(split).num_returns(2).remote_n(std::string("hello")));
    TRY(text, wrun::get(wrun::ObjectRef<std::string>((*parts)[0])));
    TRY(len, wrun::get(wrun::ObjectRef<uint64_t>((*parts)[1])));
    out.emplace_back("split", wrun::Array{*text, *len});

    // retries after traps, then the trap with the count
    TRY(crashed, wrun::task(crash).max_retries(2).remote());
    auto c = wrun::get(*crashed);
    out.emplace_back("retries", c ? Value("no error") : Value(c.error().to_string()));

    // a timeout interrupts a runaway task
    TRY(spun, wrun::task(spin).timeout_ms(200).remote());
    auto s = wrun::get(*spun);
    out.emplace_back("timeout", s ? Value("no error") : Value(kind_of(s.error())));

    // cancel: a task that never returns on its own is interrupted; a
    // finished one is left alone
    TRY(forever, wrun::task(spin).remote());
    if (auto k = forever->cancel(); !k) return wrun::fail(k.error());
    auto cancelled = wrun::get(*forever);
    TRY(done, wrun::task(one).remote());
    TRY(done_v, wrun::get(*done));
    if (auto k = done->cancel(); !k) return wrun::fail(k.error());
    TRY(done_again, wrun::get(*done));
    out.emplace_back("cancel", wrun::Array{cancelled ? Value("no error") : Value(kind_of(cancelled.error())),
                                           *done_v + *done_again});

    // a task that needs a resource no node has is refused
    TRY(needy, wrun::task(one).resource("quantum-annealer", 1).remote());
    auto n = wrun::get(*needy);
    out.emplace_back("missing_resource", n ? Value("no error") : Value(kind_of(n.error())));

    // wait: all ready, and a pending one not ready after 0 ms
    std::vector<wrun::ObjectRef<uint64_t>> ones;
    for (int i = 0; i < 3; ++i) {
        TRY(r, wrun::task(one).cpus(0.5).remote());
        ones.push_back(std::move(*r));
    }
    auto ready = wrun::wait(ones, 3, 10'000);
    out.emplace_back("wait", wrun::to_value(std::vector<bool>(ready.begin(), ready.end()), none));
    TRY(slow, wrun::task(spin).timeout_ms(300).remote());
    std::vector<wrun::ObjectRef<uint64_t>> one_slow{*slow};
    out.emplace_back("wait_pending", Value(static_cast<bool>(wrun::wait(one_slow, 1, 0)[0])));
    out.emplace_back("wait_no_fetch", Value(static_cast<bool>(wrun::wait(ones, 3, 10'000, false)[0])));

    // references inside a stored value, passed on and dereferenced elsewhere
    TRY(a, wrun::put(std::string("a")));
    TRY(b, wrun::put(std::string("b")));
    TRY(list, wrun::put(std::vector<wrun::ObjectRef<std::string>>{*a, *b}));
    TRY(refs_back, wrun::get(*list));
    TRY(derefd, wrun::task(deref).remote(*refs_back));
    TRY(strings, wrun::get(*derefd));
    out.emplace_back("nested_refs", wrun::to_value(*strings, none));

    // bytes through the store
    TRY(blob, wrun::put(wrun::Bytes{{0, 255, 7}}));
    TRY(blob_back, wrun::get(*blob));
    out.emplace_back("bytes", wrun::to_value(blob_back->data, none));

    // an actor handle inside a task's arguments
    TRY(box, wrun::actor("Box").name("box").namespace_("tour").remote());
    TRY(poked, wrun::task(poke).remote(*box, int64_t{7}));
    TRY(poked_v, wrun::get(*poked));
    out.emplace_back("actor_in_value", Value(*poked_v));
    // num_returns = 0: fire and forget (a task, and an actor call whose effect shows next)
    TRY(none_back, wrun::task(one).num_returns(0).remote_n());
    TRY(silent, box->call_n("add", 0, int64_t{5}));
    TRY(after, box->call<int64_t>("add", int64_t{0}));
    TRY(after_v, wrun::get(*after));
    out.emplace_back("fire_and_forget",
                     wrun::Array{static_cast<uint64_t>(none_back->size() + silent->size()), *after_v});
    TRY(knows, box->call<bool>("knows_itself"));
    TRY(knows_v, wrun::get(*knows));
    out.emplace_back("actor_id_in_actor", Value(*knows_v));

    // a named actor found from a task, in its namespace only
    TRY(f1, wrun::task(find).remote(std::string("box"), std::string("tour")));
    TRY(f2, wrun::task(find).remote(std::string("box"), std::string("elsewhere")));
    TRY(found1, wrun::get(*f1));
    TRY(found2, wrun::get(*f2));
    out.emplace_back("lookup", wrun::Array{*found1, *found2});

    // actor lifetimes: get_if_exists finds the named box; restart gives a
    // fresh instance (max_restarts 1); exit_actor ends one from inside
    TRY(again, wrun::actor("Box").name("box").namespace_("tour").get_if_exists().remote());
    out.emplace_back("get_if_exists", Value(again->id() == box->id()));
    TRY(phoenix, wrun::actor("Box").max_restarts(1).remote());
    TRY(before, phoenix->call<int64_t>("add", int64_t{5}));
    TRY(before_v, wrun::get(*before));
    if (auto k = phoenix->restart(); !k) return wrun::fail(k.error());
    TRY(fresh, phoenix->call<int64_t>("add", int64_t{1}));
    TRY(fresh_v, wrun::get(*fresh));
    out.emplace_back("restart", wrun::Array{*before_v, *fresh_v});
    TRY(leaver, wrun::actor("Box").remote());
    TRY(left, leaver->call<int64_t>("leave"));
    auto left_v = wrun::get(*left);
    auto later = leaver->call<int64_t>("add", int64_t{1});
    auto later_v = later ? wrun::get(*later) : wrun::Result<int64_t>(wrun::fail(later.error()));
    out.emplace_back("exit_actor", wrun::Array{left_v ? Value("no error") : Value(kind_of(left_v.error())),
                                               later_v ? Value("no error") : Value(kind_of(later_v.error()))});
    auto outside = wrun::exit_actor();
    out.emplace_back("exit_outside", outside ? Value("no error") : Value(kind_of(outside.error())));

    // streaming: each item read as its task or method yields it
    {
        std::vector<uint64_t> sq;
        TRY(gen, wrun::task(squares).remote_streaming<uint64_t>(uint64_t{5}));
        for (;;) {
            TRY(item, gen->next());
            if (!*item) break;
            TRY(v, wrun::get(**item));
            sq.push_back(*v);
        }
        out.emplace_back("streaming", wrun::to_value(sq, none));
        TRY(failing, wrun::task(fails_after).remote_streaming<uint64_t>(uint64_t{2}));
        wrun::Array seen;
        for (;;) {
            TRY(item, failing->next());
            if (!*item) break;
            auto v = wrun::get(**item);
            seen.push_back(v ? Value(*v) : Value(kind_of(v.error())));
        }
        out.emplace_back("stream_failure", Value(seen));
        TRY(counter, wrun::actor("Box").remote());
        TRY(down, counter->call_streaming<int64_t>("countdown", int64_t{3}));
        std::vector<int64_t> ds;
        for (;;) {
            TRY(item, down->next());
            if (!*item) break;
            TRY(v, wrun::get(**item));
            ds.push_back(*v);
        }
        out.emplace_back("stream_method", wrun::to_value(ds, none));
        TRY(yo, wrun::task(yield_outside).remote());
        TRY(yo_v, wrun::get(*yo));
        out.emplace_back("yield_outside", Value(*yo_v));
    }

    // retry_exceptions: every error, or only those of the types named
    {
        TRY(any, wrun::task(refuse).max_retries(2).retry_exceptions().remote());
        auto any_v = wrun::get(*any);
        TRY(typed, wrun::task(refuse).max_retries(2).retry_exception_types({"app.Overdrawn"}).remote());
        auto typed_v = wrun::get(*typed);
        auto retried = [](const auto& r) {
            return !r && r.error().message.find("(after 2 retries)") != std::string::npos;
        };
        out.emplace_back("retry_exceptions", wrun::Array{Value(retried(any_v)), Value(retried(typed_v))});
    }

    // max_calls: a warm instance retires after that many tasks
    std::vector<uint64_t> retiring;
    for (int i = 0; i < 5; ++i) {
        TRY(c, wrun::task(instance_calls).environment("warm").max_calls(2).remote());
        TRY(c_v, wrun::get(*c));
        retiring.push_back(*c_v);
    }
    out.emplace_back("max_calls", wrun::to_value(retiring, none));

    // the working directory is the current one
    TRY(wh, wrun::task(where).remote());
    TRY(wh_v, wrun::get(*wh));
    out.emplace_back("cwd", wrun::to_value(*wh_v, none));

    // tasks run in the driver's job
    auto id = wrun::job_id();
    TRY(sj, wrun::task(same_job).remote(id.hi, id.lo));
    TRY(sj_v, wrun::get(*sj));
    out.emplace_back("same_job", Value(*sj_v));
    wrun::log(wrun::Level::Info, "tour done");
    if (auto k = box->kill(); !k) return wrun::fail(k.error());
    return Value(std::move(out));
}
WRUN_MAIN(job_main);

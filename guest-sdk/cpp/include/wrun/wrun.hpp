// wrun's C++ guest SDK: tasks, actors, a job driver and the object store,
// over the `wrun:runtime/job` world (wit/wrun.wit).
//
//   #include <wrun/wrun.hpp>
//
//   int64_t square(int64_t x) { return x * x; }
//   WRUN_TASK(square);
//
//   wrun::Result<wrun::Value> job_main(std::vector<std::string> args) {
//       auto r = wrun::task(square).remote(int64_t{7});   // Result<ObjectRef<int64_t>>
//       if (!r) return wrun::fail(r.error());
//       auto v = wrun::get(*r);                           // Result<int64_t>
//       if (!v) return wrun::fail(v.error());
//       return wrun::Value(*v);
//   }
//   WRUN_MAIN(job_main);
//
// Guests build without exceptions, so every call that can fail returns a
// `wrun::Result<T>` (std::expected); tasks may return `T` or `Result<T>`.
// See docs/cpp-sdk.md.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "convert.hpp"

namespace wrun {

// `max_retries` without a limit (Ray's max_retries=-1).
inline constexpr uint32_t unlimited_retries = UINT32_MAX;

// ---- object references -------------------------------------------------------

// An owned reference to an object in the store. Copying asks the host for a
// second handle (one more reference); destroying releases this one.
class AnyRef {
public:
    AnyRef() = default;
    explicit AnyRef(int32_t handle) : handle_(handle) {}
    AnyRef(const AnyRef& o);
    AnyRef(AnyRef&& o) noexcept : handle_(o.handle_) { o.handle_ = -1; }
    AnyRef& operator=(const AnyRef& o);
    AnyRef& operator=(AnyRef&& o) noexcept;
    ~AnyRef();

    bool valid() const { return handle_ >= 0; }
    // The object's cluster-wide id, and the worker that owns it.
    Id id() const;
    Id owner() const;

    // The raw handle (still owned by this reference).
    int32_t handle() const { return handle_; }
    // Gives the handle up (to the host, when passed by ownership).
    int32_t release() {
        int32_t h = handle_;
        handle_ = -1;
        return h;
    }
    // A new handle to the same object.
    int32_t clone_handle() const;

    // Cancels the call that produces this object (Ray's `ray.cancel`): a
    // task that has not started never runs; a running one is interrupted
    // (running its own code, at its next epoch tick; blocked in a get, which
    // fails with ErrorKind::TaskCancelled so it may clean up and return);
    // `force` drops its instance at once. Its results, and calls waiting on
    // them, then fail with `task-cancelled`; it is never retried. `recursive`
    // also cancels the tasks it submitted. A finished call is left alone. An
    // actor method is cancelled only while queued; `force` on one is refused.
    Result<void> cancel(bool force = false, bool recursive = true) const;

private:
    int32_t handle_ = -1;
};

// A reference to an object holding a `T`.
template <class T = Value>
class ObjectRef : public AnyRef {
public:
    using value_type = T;
    ObjectRef() = default;
    explicit ObjectRef(AnyRef r) : AnyRef(std::move(r)) {}
};

template <class T>
struct Convert<ObjectRef<T>> {
    static Value to(const ObjectRef<T>& r, RefTable& refs) {
        refs.handles.push_back(r.clone_handle());
        return Value(RefIndex{static_cast<uint32_t>(refs.handles.size() - 1)});
    }
    static Result<ObjectRef<T>> from(const Value& v, RefTable& refs) {
        auto* idx = v.get_if<RefIndex>();
        if (!idx) return detail::mismatch("object ref", v);
        if (idx->index >= refs.handles.size())
            return fail(Error::invalid("object reference index " + std::to_string(idx->index) +
                                       " past the value's " + std::to_string(refs.handles.size()) +
                                       " references"));
        // The table keeps its handle (a value may name one object twice).
        AnyRef borrowed(refs.handles[idx->index]);
        ObjectRef<T> out{AnyRef(borrowed.clone_handle())};
        borrowed.release();
        return out;
    }
};

// ---- the wire form of a value ------------------------------------------------

// A value as it crosses to the host: its bytes and the handles they index.
struct WireValue {
    std::vector<uint8_t> data;
    RefTable refs;
};

namespace detail {
// Drops handles a decoded value did not keep.
void drop_handles(RefTable& refs);
}  // namespace detail

template <class T>
WireValue encode_wire(const T& x) {
    WireValue w;
    w.data = msgpack::encode(to_value(x, w.refs));
    return w;
}

template <class T>
Result<T> decode_wire(WireValue&& w) {
    auto v = msgpack::decode(w.data);
    Result<T> out = v ? from_value<T>(*v, w.refs) : Result<T>(fail(v.error()));
    detail::drop_handles(w.refs);
    return out;
}

// ---- object store ------------------------------------------------------------

namespace detail {
Result<AnyRef> put_wire(WireValue w);
Result<std::vector<WireValue>> get_wire(const std::vector<const AnyRef*>& refs,
                                        std::optional<uint64_t> timeout_ms);
std::vector<bool> wait_raw(const std::vector<const AnyRef*>& refs, uint32_t num_ready,
                           std::optional<uint64_t> timeout_ms, bool fetch_local);
}  // namespace detail

// Stores a value; the reference keeps it alive.
template <class T>
Result<ObjectRef<T>> put(const T& x) {
    auto r = detail::put_wire(encode_wire(x));
    if (!r) return fail(r.error());
    return ObjectRef<T>(std::move(*r));
}

// Waits for an object (or its error) and returns its value.
template <class T>
Result<T> get(const ObjectRef<T>& r, std::optional<uint64_t> timeout_ms = std::nullopt) {
    auto vs = detail::get_wire({&r}, timeout_ms);
    if (!vs) return fail(vs.error());
    return decode_wire<T>(std::move((*vs)[0]));
}

// Waits for all the objects; the first error fails the whole get.
template <class T>
Result<std::vector<T>> get(const std::vector<ObjectRef<T>>& refs,
                           std::optional<uint64_t> timeout_ms = std::nullopt) {
    std::vector<const AnyRef*> ptrs;
    for (auto& r : refs) ptrs.push_back(&r);
    auto vs = detail::get_wire(ptrs, timeout_ms);
    if (!vs) return fail(vs.error());
    std::vector<T> out;
    out.reserve(vs->size());
    for (auto& w : *vs) {
        auto x = decode_wire<T>(std::move(w));
        if (!x) return fail(x.error());
        out.push_back(std::move(*x));
    }
    return out;
}

// Waits until `num_ready` of the objects are ready (or the timeout passes);
// one flag per reference. An object another node owns is ready once it is
// here (waiting pulls it, Ray's fetch_local=True); with `fetch_local` false,
// once its owner has it (not pulled).
template <class T>
std::vector<bool> wait(const std::vector<ObjectRef<T>>& refs, uint32_t num_ready,
                       std::optional<uint64_t> timeout_ms = std::nullopt, bool fetch_local = true) {
    std::vector<const AnyRef*> ptrs;
    for (auto& r : refs) ptrs.push_back(&r);
    return detail::wait_raw(ptrs, num_ready, timeout_ms, fetch_local);
}

// ---- arguments ---------------------------------------------------------------

// One argument of a call: by value (encoded now) or by reference (the host
// resolves it to the object's value before the callee runs).
struct Arg {
    bool by_ref = false;
    WireValue value;
    AnyRef ref;

    template <class T>
    static Arg of(const T& x) {
        Arg a;
        a.value = encode_wire(x);
        return a;
    }
    template <class T>
    static Arg of(const ObjectRef<T>& r) {
        // A reference argument: the callee receives the object's value, as
        // Ray passes a top-level ObjectRef argument.
        Arg a;
        a.by_ref = true;
        a.ref = r;
        return a;
    }
};

// Passes a reference itself (not its value) to the callee.
template <class T>
Arg by_handle(const ObjectRef<T>& r) {
    Arg a;
    a.value = encode_wire(r);
    return a;
}

inline Arg to_arg(Arg a) { return a; }
template <class T>
Arg to_arg(const T& x) {
    return Arg::of(x);
}

// ---- tasks -------------------------------------------------------------------

// What one task or actor changes of the environment it would run in otherwise
// (a named one, or its caller's), as Ray's runtime_env option: variables merge
// over the base's, limits may only be lowered. What the job's manifest grants
// (files, network, packages) cannot be set here; a named environment of the
// manifest can (docs/runtime-env.md).
//
//   wrun::task(work).runtime_env(wrun::RuntimeEnv().env("MODE", "fast").cpu_time_ms(2000))
struct RuntimeEnv {
    std::map<std::string, std::string> vars;
    std::optional<uint64_t> memory_bytes;
    std::optional<uint64_t> cpu_time;  // milliseconds

    // Sets the variable `name` (over the base environment's value).
    RuntimeEnv& env(std::string name, std::string value) {
        return vars[std::move(name)] = std::move(value), *this;
    }
    // Lowers limits.memory, the linear memory per instance, in bytes.
    RuntimeEnv& memory(uint64_t bytes) { return memory_bytes = bytes, *this; }
    // Lowers limits.cpu_time, the CPU time per task, in milliseconds.
    RuntimeEnv& cpu_time_ms(uint64_t ms) { return cpu_time = ms, *this; }
    // The JSON the host reads.
    std::string to_json() const;
};

// Resources and policy of one task call (defaults: one CPU or the
// environment's default, 3 retries after a system failure as in Ray, no timeout,
// the caller's environment).
struct TaskOptions {
    uint32_t num_returns = 1;
    std::optional<double> cpus;
    uint64_t memory = 0;
    std::vector<std::pair<std::string, double>> custom;
    uint32_t max_retries = 3;  // Ray's default: re-runs after a system failure
    bool retry_exceptions = false;
    // With retry_exceptions: retry only errors one of whose types is among
    // these names (Ray's retry_exceptions=[A, B]; a Python exception's
    // `module.QualName`, e.g. "app.Overdrawn").
    std::vector<std::string> retry_exception_types;
    std::optional<uint64_t> timeout_ms;
    std::optional<std::string> environment;
    // Retire the warm instance that runs it after this many tasks (Ray's
    // max_calls; 0: no limit).
    uint32_t max_calls = 0;
    // An inline runtime environment (RuntimeEnv::to_json): changes the
    // environment it runs in.
    std::optional<std::string> runtime_env;
};

// ---- streaming results ---------------------------------------------------------

namespace detail {
Result<std::optional<AnyRef>> stream_next_raw(const AnyRef& stream, uint32_t index,
                                              std::optional<uint64_t> timeout_ms);
Result<void> yield_wire(WireValue w);
}  // namespace detail

// The results of a streaming call (Ray's `num_returns="streaming"`), one
// reference per item in the order they were yielded, each readable as soon
// as it is stored, while the call still runs (Ray's ObjectRefGenerator).
// `next()` returns the next item's reference, or nullopt once the stream
// ended. A call that failed after k items (an error, a trap, a cancel, its
// actor's death) has one more item, k, whose get returns the error.
template <class T = Value>
class ObjectRefGenerator {
public:
    explicit ObjectRefGenerator(AnyRef stream) : stream_(std::move(stream)) {}

    // The next item, waiting at most `timeout_ms` (forever when absent):
    // ErrorKind::GetTimeout past it.
    Result<std::optional<ObjectRef<T>>> next(std::optional<uint64_t> timeout_ms = std::nullopt) {
        if (ended_) return std::optional<ObjectRef<T>>();
        auto item = detail::stream_next_raw(stream_, next_, timeout_ms);
        if (!item) return fail(item.error());
        if (!*item) {
            ended_ = true;
            return std::optional<ObjectRef<T>>();
        }
        ++next_;
        return std::optional<ObjectRef<T>>(ObjectRef<T>(std::move(**item)));
    }

    // The stream's own reference: once the call ended, its value is the list
    // of every item's reference (it may be passed to other tasks).
    const AnyRef& stream() const { return stream_; }
    // Cancels the call (as AnyRef::cancel on its results).
    Result<void> cancel(bool force = false, bool recursive = true) const {
        return stream_.cancel(force, recursive);
    }

private:
    AnyRef stream_;
    uint32_t next_ = 0;
    bool ended_ = false;
};

// Yields one item of the streaming task or method running now: stored at
// once and readable by its caller while the call goes on. A task or method
// streams when its caller submits it with remote_streaming()/call_streaming();
// it yields with this and returns (what it returns is dropped). An error
// outside a streaming call.
template <class T>
Result<void> yield_item(const T& item) {
    return detail::yield_wire(encode_wire(item));
}

namespace detail {
Result<std::vector<AnyRef>> submit_raw(const std::string& function, std::vector<Arg> args,
                                       const TaskOptions& options);
Result<AnyRef> submit_streaming_raw(const std::string& function, std::vector<Arg> args,
                                    const TaskOptions& options);
template <class F>
struct FnTraits;
template <class R, class... A>
struct FnTraits<R (*)(A...)> {
    using Ret = R;
};
template <class T>
struct Unwrap {
    using type = T;
};
template <class T>
struct Unwrap<Result<T>> {
    using type = T;
};
// The registered name of a task function, or empty.
std::string name_of(const void* fn);
}  // namespace detail

// A remote task by name: `NAME` in this component or `COMPONENT/NAME` in
// another component of the job (any language). `R` is its return type.
template <class R = Value>
class Task {
public:
    explicit Task(std::string name) : name_(std::move(name)) {}

    Task& num_returns(uint32_t n) { return opts_.num_returns = n, *this; }
    Task& cpus(double c) { return opts_.cpus = c, *this; }
    Task& memory(uint64_t bytes) { return opts_.memory = bytes, *this; }
    Task& resource(std::string name, double amount) {
        return opts_.custom.emplace_back(std::move(name), amount), *this;
    }
    // Re-runs after a trap, timeout or memory-limit failure;
    // wrun::unlimited_retries for no limit (Ray's max_retries=-1).
    Task& max_retries(uint32_t n) { return opts_.max_retries = n, *this; }
    Task& retry_exceptions(bool yes = true) { return opts_.retry_exceptions = yes, *this; }
    // Retries only the errors of these type names (sets retry_exceptions).
    Task& retry_exception_types(std::vector<std::string> names) {
        opts_.retry_exception_types = std::move(names);
        return opts_.retry_exceptions = true, *this;
    }
    Task& max_calls(uint32_t n) { return opts_.max_calls = n, *this; }
    Task& timeout_ms(uint64_t ms) { return opts_.timeout_ms = ms, *this; }
    Task& environment(std::string name) { return opts_.environment = std::move(name), *this; }
    Task& runtime_env(const RuntimeEnv& env) { return opts_.runtime_env = env.to_json(), *this; }
    const std::string& name() const { return name_; }

    // Submits the task; the reference resolves to its result.
    template <class... A>
    Result<ObjectRef<R>> remote(const A&... args) const {
        auto refs = remote_n(args...);
        if (!refs) return fail(refs.error());
        if (refs->size() != 1)
            return fail(Error::invalid("remote() of a task with num_returns = " +
                                       std::to_string(refs->size()) + "; use remote_n()"));
        return ObjectRef<R>(std::move((*refs)[0]));
    }

    // Submits a streaming task (one that yields its results with
    // wrun::yield_item); its generator of `T` items at once. It runs on the
    // caller's node.
    template <class T = Value, class... A>
    Result<ObjectRefGenerator<T>> remote_streaming(const A&... args) const {
        std::vector<Arg> wire;
        wire.reserve(sizeof...(A));
        (wire.push_back(to_arg(args)), ...);
        TaskOptions o = opts_;
        o.num_returns = 1;
        auto stream = detail::submit_streaming_raw(name_, std::move(wire), o);
        if (!stream) return fail(stream.error());
        return ObjectRefGenerator<T>(std::move(*stream));
    }

    // Submits the task; one reference per return value (num_returns).
    template <class... A>
    Result<std::vector<AnyRef>> remote_n(const A&... args) const {
        std::vector<Arg> wire;
        wire.reserve(sizeof...(A));
        (wire.push_back(to_arg(args)), ...);
        return detail::submit_raw(name_, std::move(wire), opts_);
    }

private:
    std::string name_;
    TaskOptions opts_;
};

// A task of another component or language, by name.
template <class R = Value>
Task<R> task(std::string name) {
    return Task<R>(std::move(name));
}

// A task registered in this component with WRUN_TASK, typed by its function.
template <class F>
auto task(F* fn) {
    using R = typename detail::Unwrap<typename detail::FnTraits<F*>::Ret>::type;
    // A task returning nothing returns nil to its caller.
    using Out = std::conditional_t<std::is_void_v<R>, Value, R>;
    return Task<Out>(detail::name_of(reinterpret_cast<const void*>(fn)));
}

// Several return values of one task (num_returns = N): return
// `wrun::Returns<A, B>{a, b}`.
template <class... T>
struct Returns {
    std::tuple<T...> values;
    Returns(T... v) : values(std::move(v)...) {}
};

// ---- actors ------------------------------------------------------------------

struct ActorOptions {
    std::optional<double> cpus;
    uint64_t memory = 0;
    std::vector<std::pair<std::string, double>> custom;
    std::optional<std::string> name;
    std::optional<std::string> namespace_;
    uint32_t max_restarts = 0;
    std::optional<std::string> environment;
    // With a name: the actor already registered under it, if any (Ray's
    // get_if_exists); its class and options are then not checked.
    bool get_if_exists = false;
    // An inline runtime environment (RuntimeEnv::to_json), as for tasks.
    std::optional<std::string> runtime_env;
};

// A handle to a live actor; copyable, passable to tasks in any language.
class ActorHandle {
public:
    ActorHandle() = default;
    explicit ActorHandle(Id id) : id_(id) {}
    Id id() const { return id_; }
    bool operator==(const ActorHandle&) const = default;

    // Looks up a named actor (in the job's namespace unless one is given).
    static Result<std::optional<ActorHandle>> lookup(const std::string& name,
                                                     std::optional<std::string> ns = std::nullopt);

    // Calls a method; calls from one caller run in order.
    template <class R = Value, class... A>
    Result<ObjectRef<R>> call(const std::string& method, const A&... args) const {
        auto refs = call_n(method, 1, args...);
        if (!refs) return fail(refs.error());
        return ObjectRef<R>(std::move((*refs)[0]));
    }

    template <class... A>
    Result<std::vector<AnyRef>> call_n(const std::string& method, uint32_t num_returns,
                                       const A&... args) const {
        std::vector<Arg> wire;
        (wire.push_back(to_arg(args)), ...);
        return call_raw(method, std::move(wire), num_returns);
    }

    // Calls a streaming method (one that yields its results with
    // wrun::yield_item); its generator at once. The actor must run on the
    // caller's node.
    template <class R = Value, class... A>
    Result<ObjectRefGenerator<R>> call_streaming(const std::string& method, const A&... args) const {
        std::vector<Arg> wire;
        (wire.push_back(to_arg(args)), ...);
        auto stream = call_streaming_raw(method, std::move(wire));
        if (!stream) return fail(stream.error());
        return ObjectRefGenerator<R>(std::move(*stream));
    }

    // Kills the actor: its pending and later calls fail with `actor-died`.
    Result<void> kill() const;

    // Kills the actor's instance and lets it restart (Ray's
    // kill(no_restart=False)): the running call fails with `actor-died`,
    // queued calls run on the new instance; with no restarts left it dies.
    Result<void> restart() const;

private:
    Result<std::vector<AnyRef>> call_raw(const std::string& method, std::vector<Arg> args,
                                         uint32_t num_returns) const;
    Result<AnyRef> call_streaming_raw(const std::string& method, std::vector<Arg> args) const;
    Id id_;
};

template <>
struct Convert<ActorHandle> {
    static Value to(const ActorHandle& a, RefTable&) { return Value(ActorRef{a.id()}); }
    static Result<ActorHandle> from(const Value& v, RefTable&) {
        if (auto* a = v.get_if<ActorRef>()) return ActorHandle(a->id);
        return detail::mismatch("actor handle", v);
    }
};

namespace detail {
Result<Id> create_actor_raw(const std::string& cls, std::vector<Arg> args, const ActorOptions& o);
}

// An actor class by name (`NAME` or `COMPONENT/NAME`), with creation options.
class ActorClass {
public:
    explicit ActorClass(std::string name) : name_(std::move(name)) {}
    ActorClass& name(std::string n) { return opts_.name = std::move(n), *this; }
    ActorClass& namespace_(std::string ns) { return opts_.namespace_ = std::move(ns), *this; }
    ActorClass& cpus(double c) { return opts_.cpus = c, *this; }
    ActorClass& memory(uint64_t bytes) { return opts_.memory = bytes, *this; }
    ActorClass& resource(std::string n, double amount) {
        return opts_.custom.emplace_back(std::move(n), amount), *this;
    }
    ActorClass& max_restarts(uint32_t n) { return opts_.max_restarts = n, *this; }
    ActorClass& get_if_exists(bool yes = true) { return opts_.get_if_exists = yes, *this; }
    ActorClass& environment(std::string e) { return opts_.environment = std::move(e), *this; }
    ActorClass& runtime_env(const RuntimeEnv& env) {
        return opts_.runtime_env = env.to_json(), *this;
    }

    // Creates the actor; its constructor runs with `args` in its own instance.
    template <class... A>
    Result<ActorHandle> remote(const A&... args) const {
        std::vector<Arg> wire;
        (wire.push_back(to_arg(args)), ...);
        auto id = detail::create_actor_raw(name_, std::move(wire), opts_);
        if (!id) return fail(id.error());
        return ActorHandle(*id);
    }

private:
    std::string name_;
    ActorOptions opts_;
};

inline ActorClass actor(std::string class_name) { return ActorClass(std::move(class_name)); }

// ---- logging and context -----------------------------------------------------

enum class Level { Trace, Debug, Info, Warn, Error };
// Ends the actor whose method calls it once that method returns (Ray's
// exit_actor): that call, its queued calls and later ones fail with
// `actor-died`, and it does not restart. Clean up before calling it. An
// `invalid-argument` error outside an actor's method.
Result<void> exit_actor();

void log(Level level, const std::string& message);
inline void log(const std::string& message) { log(Level::Info, message); }

Id job_id();
Id task_id();
Id node_id();
std::optional<Id> actor_id();

// ---- registration (what the component exports) -------------------------------

namespace detail {

using Args = std::vector<WireValue>;
using Outputs = Result<std::vector<WireValue>>;
using TaskFn = std::function<Outputs(Args&)>;
using MainFn = std::function<Result<WireValue>(std::vector<std::string>)>;

struct ActorInstance {
    virtual ~ActorInstance() = default;
};
using CtorFn = std::function<Result<std::unique_ptr<ActorInstance>>(Args&)>;
using MethodFn = std::function<Outputs(ActorInstance&, Args&)>;

bool register_task(const std::string& name, const void* fn, TaskFn call);
bool register_main(MainFn call);
bool register_actor(const std::string& cls, CtorFn ctor);
bool register_method(const std::string& cls, const std::string& method, MethodFn call);

template <class T>
struct Boxed : ActorInstance {
    template <class... A>
    explicit Boxed(A&&... a) : obj(std::forward<A>(a)...) {}
    T obj;
};

inline Error arg_error(size_t i, Error e) {
    e.message = "argument " + std::to_string(i) + ": " + e.message;
    return e;
}

// Decodes each argument as its parameter's type.
template <class... A, size_t... I>
Result<std::tuple<A...>> decode_args(Args& args, std::index_sequence<I...>) {
    if (args.size() != sizeof...(A))
        return fail(Error::invalid("takes " + std::to_string(sizeof...(A)) + " arguments, got " +
                                   std::to_string(args.size())));
    std::tuple<Result<std::decay_t<A>>...> parts{decode_wire<std::decay_t<A>>(std::move(args[I]))...};
    Error err;
    bool ok = true;
    ((ok = ok && (std::get<I>(parts) ? true : (err = arg_error(I, std::get<I>(parts).error()), false))),
     ...);
    if (!ok) return fail(err);
    return std::tuple<A...>{std::move(*std::get<I>(parts))...};
}

template <class R>
std::vector<WireValue> encode_returns(const R& r) {
    std::vector<WireValue> out;
    out.push_back(encode_wire(r));
    return out;
}
template <class... T>
std::vector<WireValue> encode_returns(const Returns<T...>& r) {
    std::vector<WireValue> out;
    std::apply([&](const auto&... x) { (out.push_back(encode_wire(x)), ...); }, r.values);
    return out;
}

// Calls `f` with decoded arguments and encodes what it returns (T, void or
// Result<T>).
template <class F, class Tuple>
Outputs invoke_encoded(F&& f, Tuple&& args) {
    using R = decltype(std::apply(f, std::move(args)));
    if constexpr (std::is_void_v<R>) {
        std::apply(f, std::move(args));
        return encode_returns(Value());
    } else if constexpr (requires(R r) { r.has_value(); r.error(); }) {
        auto r = std::apply(f, std::move(args));
        if (!r) return fail(r.error());
        if constexpr (std::is_void_v<typename R::value_type>)
            return encode_returns(Value());
        else
            return encode_returns(*r);
    } else {
        return encode_returns(std::apply(f, std::move(args)));
    }
}

template <class R, class... A>
bool register_fn(const std::string& name, R (*fn)(A...)) {
    return register_task(name, reinterpret_cast<const void*>(fn), [fn](Args& args) -> Outputs {
        auto decoded = decode_args<A...>(args, std::index_sequence_for<A...>{});
        if (!decoded) return fail(decoded.error());
        return invoke_encoded(fn, std::move(*decoded));
    });
}

template <class C, class... A>
bool register_class(const std::string& cls) {
    return register_actor(cls, [](Args& args) -> Result<std::unique_ptr<ActorInstance>> {
        auto decoded = decode_args<A...>(args, std::index_sequence_for<A...>{});
        if (!decoded) return fail(decoded.error());
        return std::apply(
            [](auto&&... a) -> std::unique_ptr<ActorInstance> {
                return std::make_unique<Boxed<C>>(std::move(a)...);
            },
            std::move(*decoded));
    });
}

template <class C, class R, class... A>
bool register_member(const std::string& cls, const std::string& method, R (C::*m)(A...)) {
    return register_method(cls, method, [m](ActorInstance& self, Args& args) -> Outputs {
        auto decoded = decode_args<A...>(args, std::index_sequence_for<A...>{});
        if (!decoded) return fail(decoded.error());
        C& obj = static_cast<Boxed<C>&>(self).obj;
        return invoke_encoded([&](auto&&... a) { return (obj.*m)(std::move(a)...); },
                              std::move(*decoded));
    });
}
template <class C, class R, class... A>
bool register_member(const std::string& cls, const std::string& method, R (C::*m)(A...) const) {
    return register_method(cls, method, [m](ActorInstance& self, Args& args) -> Outputs {
        auto decoded = decode_args<A...>(args, std::index_sequence_for<A...>{});
        if (!decoded) return fail(decoded.error());
        const C& obj = static_cast<Boxed<C>&>(self).obj;
        return invoke_encoded([&](auto&&... a) { return (obj.*m)(std::move(a)...); },
                              std::move(*decoded));
    });
}

template <class R>
bool register_main_fn(R (*fn)(std::vector<std::string>)) {
    return register_main([fn](std::vector<std::string> args) -> Result<WireValue> {
        auto out = invoke_encoded(fn, std::make_tuple(std::move(args)));
        if (!out) return fail(out.error());
        return std::move((*out)[0]);
    });
}

}  // namespace detail
}  // namespace wrun

#define WRUN_CONCAT_(a, b) a##b
#define WRUN_CONCAT(a, b) WRUN_CONCAT_(a, b)

// Exports a function as a task named after it.
#define WRUN_TASK(fn) \
    static const bool WRUN_CONCAT(wrun_task_, __LINE__) = ::wrun::detail::register_fn(#fn, &fn)
// Exports a function as a task under another name.
#define WRUN_TASK_NAMED(name, fn) \
    static const bool WRUN_CONCAT(wrun_task_, __LINE__) = ::wrun::detail::register_fn(name, &fn)
// Exports a class as an actor class; list its constructor's parameter types.
#define WRUN_ACTOR(Class, ...)                                   \
    static const bool WRUN_CONCAT(wrun_actor_, __LINE__) =       \
        ::wrun::detail::register_class<Class __VA_OPT__(, ) __VA_ARGS__>(#Class)
// Exports a member function as an actor method (`Class.method`).
#define WRUN_METHOD(Class, method)                               \
    static const bool WRUN_CONCAT(wrun_method_, __LINE__) =      \
        ::wrun::detail::register_member(#Class, #method, &Class::method)
// Exports the job's driver: `R main(std::vector<std::string> args)`.
#define WRUN_MAIN(fn) \
    static const bool WRUN_CONCAT(wrun_main_, __LINE__) = ::wrun::detail::register_main_fn(&fn)

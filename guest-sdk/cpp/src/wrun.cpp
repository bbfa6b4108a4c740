// The C++ SDK's side of the canonical ABI: wraps the C bindings that
// `wit-bindgen c` generates from wit/wrun.wit (job.h) and implements the
// `guest` exports by dispatching to what WRUN_TASK / WRUN_ACTOR / WRUN_METHOD
// / WRUN_MAIN registered.
//
// Ownership (wit-bindgen's C conventions): arguments to imports are borrowed
// except owned resource handles, which move to the host; what an import
// returns is ours to free; export arguments are ours to free; what an export
// returns must be malloc'd (the generated post-return frees it).
#include "wrun/wrun.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <map>
#include <unordered_map>

extern "C" {
#include "job.h"
}

namespace wrun {
namespace {

// ---- C <-> C++ conversions ---------------------------------------------------

job_string_t borrow_str(const std::string& s) {
    return job_string_t{reinterpret_cast<uint8_t*>(const_cast<char*>(s.data())), s.size()};
}

std::string take_str(job_string_t& s) {
    std::string out(reinterpret_cast<const char*>(s.ptr), s.len);
    job_string_free(&s);
    return out;
}

// A malloc'd copy (what an export returns).
job_string_t dup_str(const std::string& s) {
    job_string_t out;
    job_string_dup_n(&out, s.data(), s.size());
    return out;
}

ErrorKind kind_from(wrun_runtime_types_error_kind_t k) {
    return k <= WRUN_RUNTIME_TYPES_ERROR_KIND_TASK_CANCELLED ? static_cast<ErrorKind>(k)
                                                                      : ErrorKind::Internal;
}

Error take_error(wrun_runtime_types_error_t& e) {
    Error out;
    out.kind = kind_from(e.kind);
    out.task = take_str(e.task);
    out.language = take_str(e.language);
    out.message = take_str(e.message);
    // Another language's own encoding, kept to be passed on. An empty
    // list's pointer was never allocated.
    out.native.assign(e.native.ptr, e.native.ptr + e.native.len);
    if (e.native.len != 0) free(e.native.ptr);
    for (size_t i = 0; i < e.types.len; ++i) out.types.push_back(take_str(e.types.ptr[i]));
    if (e.types.len != 0) free(e.types.ptr);
    return out;
}

wrun_runtime_types_error_t export_error(const Error& e) {
    wrun_runtime_types_error_t out;
    out.kind = static_cast<wrun_runtime_types_error_kind_t>(e.kind);
    out.task = dup_str(e.task);
    out.language = dup_str(e.language);
    out.message = dup_str(e.message);
    out.native = {nullptr, 0};
    if (!e.native.empty()) {
        out.native.len = e.native.size();
        out.native.ptr = static_cast<uint8_t*>(malloc(e.native.size()));
        std::copy(e.native.begin(), e.native.end(), out.native.ptr);
    }
    out.types = {nullptr, 0};
    if (!e.types.empty()) {
        out.types.len = e.types.size();
        out.types.ptr = static_cast<job_string_t*>(malloc(sizeof(job_string_t) * e.types.size()));
        for (size_t i = 0; i < e.types.size(); ++i) out.types.ptr[i] = dup_str(e.types[i]);
    }
    return out;
}

// Moves a wire value into a malloc'd WIT value (handles move with it).
wrun_runtime_types_value_t to_c_value(WireValue&& w) {
    wrun_runtime_types_value_t v;
    v.data.len = w.data.size();
    v.data.ptr = static_cast<uint8_t*>(malloc(w.data.size() ? w.data.size() : 1));
    if (!w.data.empty()) std::memcpy(v.data.ptr, w.data.data(), w.data.size());
    v.refs.len = w.refs.handles.size();
    v.refs.ptr = static_cast<wrun_runtime_types_own_object_ref_t*>(
        malloc(sizeof(wrun_runtime_types_own_object_ref_t) * (v.refs.len ? v.refs.len : 1)));
    for (size_t i = 0; i < v.refs.len; ++i) v.refs.ptr[i].__handle = w.refs.handles[i];
    w.refs.handles.clear();
    return v;
}

// Takes a WIT value (and its handles) from the host.
WireValue from_c_value(wrun_runtime_types_value_t& v) {
    WireValue w;
    w.data.assign(v.data.ptr, v.data.ptr + v.data.len);
    w.refs.handles.reserve(v.refs.len);
    for (size_t i = 0; i < v.refs.len; ++i) w.refs.handles.push_back(v.refs.ptr[i].__handle);
    wrun_runtime_types_value_free(&v);  // frees the buffers; the handles are ours now
    return w;
}

// Arguments for an import: malloc'd, freed after the call (handles move).
struct CArgs {
    std::vector<wrun_runtime_types_arg_t> items;
    explicit CArgs(std::vector<Arg>& args) {
        items.reserve(args.size());
        for (auto& a : args) {
            wrun_runtime_types_arg_t c;
            if (a.by_ref) {
                c.tag = WRUN_RUNTIME_TYPES_ARG_BY_REF;
                c.val.by_ref.__handle = a.ref.clone_handle();
            } else {
                c.tag = WRUN_RUNTIME_TYPES_ARG_INLINE;
                c.val.inline_ = to_c_value(std::move(a.value));
            }
            items.push_back(c);
        }
    }
    ~CArgs() {
        for (auto& c : items)
            if (c.tag == WRUN_RUNTIME_TYPES_ARG_INLINE) wrun_runtime_types_value_free(&c.val.inline_);
    }
    template <class List>
    List list() {
        return List{items.data(), items.size()};
    }
};

struct CCustom {
    std::vector<job_tuple2_string_f64_t> items;
    explicit CCustom(const std::vector<std::pair<std::string, double>>& custom) {
        for (auto& [k, v] : custom) items.push_back({borrow_str(k), v});
    }
    job_list_tuple2_string_f64_t list() { return {items.data(), items.size()}; }
};

// Borrowed strings for a `list<string>` parameter.
struct CStrings {
    std::vector<job_string_t> items;
    explicit CStrings(const std::vector<std::string>& s) {
        for (auto& x : s) items.push_back(borrow_str(x));
    }
    job_list_string_t list() { return {items.data(), items.size()}; }
};

job_option_string_t opt_str(const std::optional<std::string>& s) {
    job_option_string_t o{};
    o.is_some = s.has_value();
    if (s) o.val = borrow_str(*s);
    return o;
}

template <class List>
std::vector<AnyRef> take_refs(List& l) {
    std::vector<AnyRef> out;
    out.reserve(l.len);
    for (size_t i = 0; i < l.len; ++i) out.emplace_back(l.ptr[i].__handle);
    free(l.ptr);
    return out;
}

Id to_id(const wrun_runtime_types_id_t& id) { return Id{id.hi, id.lo}; }
wrun_runtime_types_id_t from_id(const Id& id) { return {id.hi, id.lo}; }

// ---- the registry of exports -------------------------------------------------

struct Registry {
    std::unordered_map<std::string, detail::TaskFn> tasks;
    std::unordered_map<const void*, std::string> names;
    std::optional<detail::MainFn> main;
    std::unordered_map<std::string, detail::CtorFn> ctors;
    std::unordered_map<std::string, std::unordered_map<std::string, detail::MethodFn>> methods;
    // This instance's actor, once constructed.
    std::unique_ptr<detail::ActorInstance> actor;
    std::string actor_class;
};

Registry& registry() {
    static Registry r;
    return r;
}

std::string known(const auto& map) {
    std::vector<std::string> names;
    for (auto& [k, _] : map) names.push_back(k);
    std::sort(names.begin(), names.end());
    std::string out;
    for (auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "none" : out;
}

Error not_found(const std::string& what, const std::string& name, const std::string& known_names) {
    return Error{ErrorKind::NotFound, name, "cpp",
                 "this component exports no " + what + " `" + name + "` (it has: " + known_names + ")"};
}

detail::Args take_args(exports_wrun_runtime_guest_list_value_t* args) {
    detail::Args out;
    out.reserve(args->len);
    for (size_t i = 0; i < args->len; ++i) out.push_back(from_c_value(args->ptr[i]));
    free(args->ptr);
    return out;
}

// Reports a failed export: `e`, named after `label` unless it names a task.
bool export_failure(Error e, const std::string& label, wrun_runtime_types_error_t* err) {
    if (e.task.empty()) e.task = label;
    *err = export_error(e);
    return false;
}

// Releases the handles of arguments a call did not keep.
void release(detail::Args& in) {
    for (auto& w : in) detail::drop_handles(w.refs);
}

void export_outputs(std::vector<WireValue>& outs, exports_wrun_runtime_guest_list_value_t* ret) {
    ret->len = outs.size();
    ret->ptr = static_cast<exports_wrun_runtime_guest_value_t*>(
        malloc(sizeof(exports_wrun_runtime_guest_value_t) * (outs.size() ? outs.size() : 1)));
    for (size_t i = 0; i < outs.size(); ++i) ret->ptr[i] = to_c_value(std::move(outs[i]));
}

}  // namespace

// ---- AnyRef ------------------------------------------------------------------

AnyRef::AnyRef(const AnyRef& o) : handle_(o.valid() ? o.clone_handle() : -1) {}

AnyRef& AnyRef::operator=(const AnyRef& o) {
    if (this != &o) {
        AnyRef copy(o);
        *this = std::move(copy);
    }
    return *this;
}

AnyRef& AnyRef::operator=(AnyRef&& o) noexcept {
    if (this != &o) {
        if (valid()) wrun_runtime_types_object_ref_drop_own({handle_});
        handle_ = o.handle_;
        o.handle_ = -1;
    }
    return *this;
}

AnyRef::~AnyRef() {
    if (valid()) wrun_runtime_types_object_ref_drop_own({handle_});
}

int32_t AnyRef::clone_handle() const {
    return wrun_runtime_types_method_object_ref_clone({handle_}).__handle;
}

Result<void> AnyRef::cancel(bool force, bool recursive) const {
    wrun_runtime_tasks_error_t err;
    if (!wrun_runtime_tasks_cancel({handle_}, force, recursive, &err)) return fail(take_error(err));
    return {};
}

Id AnyRef::id() const {
    wrun_runtime_types_id_t id;
    wrun_runtime_types_method_object_ref_id({handle_}, &id);
    return to_id(id);
}

Id AnyRef::owner() const {
    wrun_runtime_types_id_t id;
    wrun_runtime_types_method_object_ref_owner({handle_}, &id);
    return to_id(id);
}

namespace detail {

void drop_handles(RefTable& refs) {
    for (int32_t h : refs.handles) wrun_runtime_types_object_ref_drop_own({h});
    refs.handles.clear();
}

// ---- objects -----------------------------------------------------------------

Result<AnyRef> put_wire(WireValue w) {
    wrun_runtime_types_value_t v = to_c_value(std::move(w));
    wrun_runtime_objects_own_object_ref_t ret;
    wrun_runtime_objects_error_t err;
    bool ok = wrun_runtime_objects_put(&v, &ret, &err);
    wrun_runtime_types_value_free(&v);
    if (!ok) return fail(take_error(err));
    return AnyRef(ret.__handle);
}

Result<std::vector<WireValue>> get_wire(const std::vector<const AnyRef*>& refs,
                                        std::optional<uint64_t> timeout_ms) {
    std::vector<wrun_runtime_objects_borrow_object_ref_t> borrows;
    for (auto* r : refs) borrows.push_back({r->handle()});
    wrun_runtime_objects_list_borrow_object_ref_t list{borrows.data(), borrows.size()};
    uint64_t t = timeout_ms.value_or(0);
    wrun_runtime_objects_list_value_t ret;
    wrun_runtime_objects_error_t err;
    if (!wrun_runtime_objects_get(&list, timeout_ms ? &t : nullptr, &ret, &err))
        return fail(take_error(err));
    std::vector<WireValue> out;
    out.reserve(ret.len);
    for (size_t i = 0; i < ret.len; ++i) out.push_back(from_c_value(ret.ptr[i]));
    free(ret.ptr);
    return out;
}

std::vector<bool> wait_raw(const std::vector<const AnyRef*>& refs, uint32_t num_ready,
                           std::optional<uint64_t> timeout_ms, bool fetch_local) {
    std::vector<wrun_runtime_objects_borrow_object_ref_t> borrows;
    for (auto* r : refs) borrows.push_back({r->handle()});
    wrun_runtime_objects_list_borrow_object_ref_t list{borrows.data(), borrows.size()};
    uint64_t t = timeout_ms.value_or(0);
    job_list_bool_t ret;
    wrun_runtime_objects_wait(&list, num_ready, timeout_ms ? &t : nullptr, fetch_local, &ret);
    std::vector<bool> out(ret.ptr, ret.ptr + ret.len);
    job_list_bool_free(&ret);
    return out;
}

// ---- tasks and actors ----------------------------------------------------------

namespace {
// `s` as a JSON string (RFC 8259: quote, backslash and control characters escaped).
void json_quote(std::string& out, const std::string& s) {
    out += '"';
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
}
}  // namespace

}  // namespace detail

std::string RuntimeEnv::to_json() const {
    using detail::json_quote;
    std::string out = "{";
    if (!vars.empty()) {
        out += "\"env\":{";
        bool first = true;
        for (const auto& [k, v] : vars) {
            if (!first) out += ',';
            first = false;
            json_quote(out, k);
            out += ':';
            json_quote(out, v);
        }
        out += '}';
    }
    if (memory_bytes || cpu_time) {
        if (!vars.empty()) out += ',';
        out += "\"limits\":{";
        if (memory_bytes) out += "\"memory\":" + std::to_string(*memory_bytes);
        if (cpu_time) {
            if (memory_bytes) out += ',';
            out += "\"cpu_time\":\"" + std::to_string(*cpu_time) + "ms\"";
        }
        out += '}';
    }
    return out + "}";
}

namespace detail {

namespace {
// The WIT task-options of `o` (its lists borrowed from `custom` and `types`).
wrun_runtime_tasks_task_options_t task_options(const TaskOptions& o, CCustom& custom,
                                               CStrings& types) {
    wrun_runtime_tasks_task_options_t opts{};
    opts.num_returns = o.num_returns;
    opts.cpus = {o.cpus.has_value(), o.cpus.value_or(0)};
    opts.memory = o.memory;
    opts.custom = custom.list();
    opts.max_retries = o.max_retries;
    opts.retry_exceptions = o.retry_exceptions;
    opts.max_calls = o.max_calls;
    opts.timeout_ms = {o.timeout_ms.has_value(), o.timeout_ms.value_or(0)};
    opts.environment = opt_str(o.environment);
    opts.runtime_env = opt_str(o.runtime_env);
    opts.retry_exception_types = types.list();
    return opts;
}
}  // namespace

Result<AnyRef> submit_streaming_raw(const std::string& function, std::vector<Arg> args,
                                    const TaskOptions& o) {
    CArgs cargs(args);
    CCustom custom(o.custom);
    CStrings types(o.retry_exception_types);
    wrun_runtime_tasks_task_options_t opts = task_options(o, custom, types);
    wrun_runtime_tasks_scheduling_t scheduling{};
    scheduling.tag = WRUN_RUNTIME_TYPES_SCHEDULING_DEFAULT;
    job_string_t name = borrow_str(function);
    auto list = cargs.list<wrun_runtime_tasks_list_arg_t>();
    wrun_runtime_tasks_own_object_ref_t ret;
    wrun_runtime_tasks_error_t err;
    if (!wrun_runtime_tasks_submit_streaming(&name, &list, &opts, &scheduling, &ret, &err))
        return fail(take_error(err));
    return AnyRef(ret.__handle);
}

Result<std::optional<AnyRef>> stream_next_raw(const AnyRef& stream, uint32_t index,
                                              std::optional<uint64_t> timeout_ms) {
    uint64_t t = timeout_ms.value_or(0);
    wrun_runtime_tasks_option_own_object_ref_t ret;
    wrun_runtime_tasks_error_t err;
    if (!wrun_runtime_tasks_stream_next({stream.handle()}, index, timeout_ms ? &t : nullptr, &ret,
                                        &err))
        return fail(take_error(err));
    if (!ret.is_some) return std::optional<AnyRef>();
    return std::optional<AnyRef>(AnyRef(ret.val.__handle));
}

Result<void> yield_wire(WireValue w) {
    wrun_runtime_types_value_t v = to_c_value(std::move(w));
    wrun_runtime_tasks_error_t err;
    bool ok = wrun_runtime_tasks_yield_item(&v, &err);
    wrun_runtime_types_value_free(&v);
    if (!ok) return fail(take_error(err));
    return {};
}

Result<std::vector<AnyRef>> submit_raw(const std::string& function, std::vector<Arg> args,
                                       const TaskOptions& o) {
    CArgs cargs(args);
    CCustom custom(o.custom);
    CStrings types(o.retry_exception_types);
    wrun_runtime_tasks_task_options_t opts = task_options(o, custom, types);
    job_string_t name = borrow_str(function);
    auto list = cargs.list<wrun_runtime_tasks_list_arg_t>();
    wrun_runtime_tasks_list_own_object_ref_t ret;
    wrun_runtime_tasks_error_t err;
    if (!wrun_runtime_tasks_submit(&name, &list, &opts, &ret, &err)) return fail(take_error(err));
    return take_refs(ret);
}

Result<Id> create_actor_raw(const std::string& cls, std::vector<Arg> args, const ActorOptions& o) {
    CArgs cargs(args);
    CCustom custom(o.custom);
    wrun_runtime_actors_actor_options_t opts{};
    opts.cpus = {o.cpus.has_value(), o.cpus.value_or(0)};
    opts.memory = o.memory;
    opts.custom = custom.list();
    opts.name = opt_str(o.name);
    opts.namespace_ = opt_str(o.namespace_);
    opts.max_restarts = o.max_restarts;
    opts.environment = opt_str(o.environment);
    opts.runtime_env = opt_str(o.runtime_env);
    opts.get_if_exists = o.get_if_exists;
    job_string_t name = borrow_str(cls);
    auto list = cargs.list<wrun_runtime_actors_list_arg_t>();
    wrun_runtime_actors_id_t ret;
    wrun_runtime_actors_error_t err;
    if (!wrun_runtime_actors_create(&name, &list, &opts, &ret, &err)) return fail(take_error(err));
    return to_id(ret);
}

std::string name_of(const void* fn) {
    auto& names = registry().names;
    auto it = names.find(fn);
    return it == names.end() ? std::string() : it->second;
}

bool register_task(const std::string& name, const void* fn, TaskFn call) {
    auto& r = registry();
    r.tasks.insert_or_assign(name, std::move(call));
    if (fn) r.names.insert_or_assign(fn, name);
    return true;
}

bool register_main(MainFn call) {
    registry().main = std::move(call);
    return true;
}

bool register_actor(const std::string& cls, CtorFn ctor) {
    registry().ctors.insert_or_assign(cls, std::move(ctor));
    return true;
}

bool register_method(const std::string& cls, const std::string& method, MethodFn call) {
    registry().methods[cls].insert_or_assign(method, std::move(call));
    return true;
}

}  // namespace detail

Result<std::optional<ActorHandle>> ActorHandle::lookup(const std::string& name,
                                                       std::optional<std::string> ns) {
    job_string_t n = borrow_str(name);
    job_string_t space;
    if (ns) space = borrow_str(*ns);
    wrun_runtime_actors_id_t ret;
    if (!wrun_runtime_actors_lookup(&n, ns ? &space : nullptr, &ret))
        return std::optional<ActorHandle>();
    return std::optional<ActorHandle>(ActorHandle(to_id(ret)));
}

Result<std::vector<AnyRef>> ActorHandle::call_raw(const std::string& method, std::vector<Arg> args,
                                                  uint32_t num_returns) const {
    CArgs cargs(args);
    auto id = from_id(id_);
    job_string_t m = borrow_str(method);
    auto list = cargs.list<wrun_runtime_actors_list_arg_t>();
    wrun_runtime_actors_list_own_object_ref_t ret;
    wrun_runtime_actors_error_t err;
    if (!wrun_runtime_actors_call(&id, &m, &list, num_returns, &ret, &err))
        return fail(take_error(err));
    return take_refs(ret);
}

Result<AnyRef> ActorHandle::call_streaming_raw(const std::string& method,
                                               std::vector<Arg> args) const {
    CArgs cargs(args);
    auto id = from_id(id_);
    job_string_t m = borrow_str(method);
    auto list = cargs.list<wrun_runtime_actors_list_arg_t>();
    wrun_runtime_actors_own_object_ref_t ret;
    wrun_runtime_actors_error_t err;
    if (!wrun_runtime_actors_call_streaming(&id, &m, &list, &ret, &err)) return fail(take_error(err));
    return AnyRef(ret.__handle);
}

Result<void> ActorHandle::kill() const {
    auto id = from_id(id_);
    wrun_runtime_actors_error_t err;
    if (!wrun_runtime_actors_kill(&id, &err)) return fail(take_error(err));
    return {};
}

Result<void> ActorHandle::restart() const {
    auto id = from_id(id_);
    wrun_runtime_actors_error_t err;
    if (!wrun_runtime_actors_restart(&id, &err)) return fail(take_error(err));
    return {};
}

Result<void> exit_actor() {
    wrun_runtime_actors_error_t err;
    if (!wrun_runtime_actors_exit_actor(&err)) return fail(take_error(err));
    return {};
}

void log(Level level, const std::string& message) {
    job_string_t m = borrow_str(message);
    wrun_runtime_logging_log(static_cast<wrun_runtime_logging_level_t>(level), &m);
}

Id job_id() {
    wrun_runtime_context_id_t id;
    wrun_runtime_context_job_id(&id);
    return to_id(id);
}
Id task_id() {
    wrun_runtime_context_id_t id;
    wrun_runtime_context_task_id(&id);
    return to_id(id);
}
Id node_id() {
    wrun_runtime_context_id_t id;
    wrun_runtime_context_node_id(&id);
    return to_id(id);
}
std::optional<Id> actor_id() {
    wrun_runtime_context_id_t id;
    if (!wrun_runtime_context_actor_id(&id)) return std::nullopt;
    return to_id(id);
}

}  // namespace wrun

// ---- the `guest` exports ---------------------------------------------------------

using wrun::Error;
using wrun::ErrorKind;

namespace {
// Once per instance: starts in the working directory the host names in PWD
// (it mounts one at /work), as Ray starts its workers in theirs; wasi-libc
// does not read WASI's initial-cwd. A directory that cannot be entered leaves
// the instance where it was (relative paths still resolve through the host's
// "." mount).
void enter_working_dir() {
    static bool entered = false;
    if (entered) return;
    entered = true;
    if (const char* pwd = std::getenv("PWD")) (void)chdir(pwd);
}
}  // namespace

extern "C" bool exports_wrun_runtime_guest_main(job_list_string_t* args,
                                                exports_wrun_runtime_guest_value_t* ret,
                                                exports_wrun_runtime_guest_error_t* err) {
    enter_working_dir();
    std::vector<std::string> argv;
    for (size_t i = 0; i < args->len; ++i)
        argv.emplace_back(reinterpret_cast<const char*>(args->ptr[i].ptr), args->ptr[i].len);
    job_list_string_free(args);
    auto& r = wrun::registry();
    if (!r.main) {
        *err = wrun::export_error(Error{ErrorKind::NotFound, "main", "cpp",
                                        "this component has no driver; add WRUN_MAIN(fn)"});
        return false;
    }
    auto out = (*r.main)(std::move(argv));
    if (!out) return wrun::export_failure(out.error(), "main", err);
    *ret = wrun::to_c_value(std::move(*out));
    return true;
}

extern "C" bool exports_wrun_runtime_guest_run_task(job_string_t* function,
                                                    exports_wrun_runtime_guest_list_value_t* args,
                                                    exports_wrun_runtime_guest_list_value_t* ret,
                                                    exports_wrun_runtime_guest_error_t* err) {
    enter_working_dir();
    std::string name = wrun::take_str(*function);
    auto in = wrun::take_args(args);
    auto& r = wrun::registry();
    auto it = r.tasks.find(name);
    if (it == r.tasks.end()) {
        *err = wrun::export_error(wrun::not_found("task", name, wrun::known(r.tasks)));
        return false;
    }
    auto out = it->second(in);
    wrun::release(in);
    if (!out) return wrun::export_failure(out.error(), name, err);
    wrun::export_outputs(*out, ret);
    return true;
}

extern "C" bool exports_wrun_runtime_guest_construct(job_string_t* class_,
                                                     exports_wrun_runtime_guest_list_value_t* args,
                                                     exports_wrun_runtime_guest_error_t* err) {
    enter_working_dir();
    std::string cls = wrun::take_str(*class_);
    auto in = wrun::take_args(args);
    auto& r = wrun::registry();
    auto it = r.ctors.find(cls);
    if (it == r.ctors.end()) {
        *err = wrun::export_error(wrun::not_found("actor class", cls, wrun::known(r.ctors)));
        return false;
    }
    auto obj = it->second(in);
    wrun::release(in);
    if (!obj) return wrun::export_failure(obj.error(), cls + ".<init>", err);
    r.actor = std::move(*obj);
    r.actor_class = cls;
    return true;
}

extern "C" bool exports_wrun_runtime_guest_call_method(job_string_t* method,
                                                       exports_wrun_runtime_guest_list_value_t* args,
                                                       exports_wrun_runtime_guest_list_value_t* ret,
                                                       exports_wrun_runtime_guest_error_t* err) {
    std::string name = wrun::take_str(*method);
    auto in = wrun::take_args(args);
    auto& r = wrun::registry();
    std::string label = r.actor_class + "." + name;
    if (!r.actor) {
        *err = wrun::export_error(
            Error{ErrorKind::Internal, label, "cpp", "no actor was constructed in this instance"});
        return false;
    }
    auto& methods = r.methods[r.actor_class];
    auto it = methods.find(name);
    if (it == methods.end()) {
        *err = wrun::export_error(wrun::not_found("method", label, wrun::known(methods)));
        return false;
    }
    auto out = it->second(*r.actor, in);
    wrun::release(in);
    if (!out) return wrun::export_failure(out.error(), label, err);
    wrun::export_outputs(*out, ret);
    return true;
}

// The cross-language value codec: MessagePack as every wrun SDK writes it.
//
// A `wrun::Value` is the MessagePack data model plus wrun's two extension
// types: object references (ext 1, a big-endian u32 index into the value's
// list of reference handles) and actor handles (ext 2, the 16-byte id, hi
// then lo, big-endian). Integers take their smallest encoding, floats are
// float64 and maps keep their key order, so a value encodes to the same bytes
// here as in the Rust, Python and Java SDKs (tests/vectors/values.json).
//
// This header has no dependency on the host bindings: it compiles natively,
// which is how its tests run.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace wrun {

// Why a call failed; mirrors the WIT `error-kind`.
enum class ErrorKind {
    Application,
    Trap,
    Timeout,
    MemoryLimit,
    ActorDied,
    NotFound,
    InvalidArgument,
    GetTimeout,
    ObjectLost,
    Internal,
    Infeasible,
    PlacementGroupRemoved,
    TaskCancelled,
};

inline const char* kind_name(ErrorKind k) {
    switch (k) {
        case ErrorKind::Application: return "application";
        case ErrorKind::Trap: return "trap";
        case ErrorKind::Timeout: return "timeout";
        case ErrorKind::MemoryLimit: return "memory-limit";
        case ErrorKind::ActorDied: return "actor-died";
        case ErrorKind::NotFound: return "not-found";
        case ErrorKind::InvalidArgument: return "invalid-argument";
        case ErrorKind::GetTimeout: return "get-timeout";
        case ErrorKind::ObjectLost: return "object-lost";
        case ErrorKind::Internal: return "internal";
        case ErrorKind::Infeasible: return "infeasible";
        case ErrorKind::PlacementGroupRemoved: return "placement-group-removed";
        case ErrorKind::TaskCancelled: return "task-cancelled";
    }
    return "internal";
}

// An error that reaches whoever gets a result: what failed, where, in which
// language, and why. Errors made in C++ say `cpp`; errors that crossed from
// other components keep their language.
struct Error {
    ErrorKind kind = ErrorKind::Application;
    std::string task;
    std::string language = "cpp";
    std::string message;
    // The names of the error's type and its bases, most specific first (a
    // Python exception's class and bases): what
    // TaskOptions::retry_exception_types matches. Errors made in C++ have none.
    std::vector<std::string> types = {};
    // The error in the raising guest's own language (a Python exception's
    // pickle); empty for errors made in C++. Kept when the error is passed
    // on, so a Python caller still catches its own exception class.
    std::vector<uint8_t> native = {};

    static Error application(std::string message) {
        return Error{ErrorKind::Application, "", "cpp", std::move(message)};
    }
    static Error invalid(std::string message) {
        return Error{ErrorKind::InvalidArgument, "", "cpp", std::move(message)};
    }

    // `<kind> in <task> (<language>): <message>`, as the other SDKs print it.
    std::string to_string() const {
        std::string s = kind_name(kind);
        if (!task.empty()) s += " in " + task;
        if (!language.empty()) s += " (" + language + ")";
        return s + ": " + message;
    }
};

// Every fallible call returns a Result: C++ guests build without exceptions
// (the wasm32 libc++ has none), so errors are values, as in Rust.
template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(Error e) { return std::unexpected<Error>(std::move(e)); }
inline std::unexpected<Error> fail(std::string message) {
    return std::unexpected<Error>(Error::application(std::move(message)));
}

// MessagePack `bin`: bytes, as opposed to a UTF-8 string.
struct Bytes {
    std::vector<uint8_t> data;
    bool operator==(const Bytes&) const = default;
};

// An object reference inside a value: an index into its reference list.
struct RefIndex {
    uint32_t index = 0;
    bool operator==(const RefIndex&) const = default;
};

// A 128-bit id, unique across the cluster (actors, tasks, objects, jobs).
struct Id {
    uint64_t hi = 0;
    uint64_t lo = 0;
    bool operator==(const Id&) const = default;
};

// An actor handle inside a value.
struct ActorRef {
    Id id;
    bool operator==(const ActorRef&) const = default;
};

class Value;
using Array = std::vector<Value>;
using Map = std::vector<std::pair<Value, Value>>;

// One MessagePack value. Integers keep their sign: non-negative ones are held
// as uint64, negative ones as int64 (MessagePack's own split).
class Value {
public:
    using Storage = std::variant<std::monostate, bool, int64_t, uint64_t, double, std::string,
                                 Bytes, Array, Map, RefIndex, ActorRef>;

    Value() = default;
    Value(std::nullptr_t) {}
    Value(bool b) : v_(b) {}
    Value(int v) : v_(static_cast<int64_t>(v)) {}
    Value(long v) : v_(static_cast<int64_t>(v)) {}
    Value(long long v) : v_(static_cast<int64_t>(v)) {}
    Value(unsigned v) : v_(static_cast<uint64_t>(v)) {}
    Value(unsigned long v) : v_(static_cast<uint64_t>(v)) {}
    Value(unsigned long long v) : v_(static_cast<uint64_t>(v)) {}
    Value(double d) : v_(d) {}
    Value(const char* s) : v_(std::string(s)) {}
    Value(std::string s) : v_(std::move(s)) {}
    Value(std::string_view s) : v_(std::string(s)) {}
    Value(Bytes b) : v_(std::move(b)) {}
    Value(Array a) : v_(std::move(a)) {}
    Value(Map m) : v_(std::move(m)) {}
    Value(RefIndex r) : v_(r) {}
    Value(ActorRef a) : v_(a) {}

    const Storage& storage() const { return v_; }
    Storage& storage() { return v_; }

    bool is_nil() const { return std::holds_alternative<std::monostate>(v_); }
    template <class T>
    const T* get_if() const { return std::get_if<T>(&v_); }
    template <class T>
    T* get_if() { return std::get_if<T>(&v_); }

    // The map entry under a string key, or null.
    const Value* find(std::string_view key) const {
        if (auto* m = get_if<Map>())
            for (auto& [k, v] : *m)
                if (auto* s = k.get_if<std::string>(); s && *s == key) return &v;
        return nullptr;
    }

    // A short name of the kind of value, for error messages.
    const char* type_name() const {
        static const char* names[] = {"nil",   "bool", "int",  "int",        "float", "string",
                                      "bytes", "list", "map", "object ref", "actor handle"};
        return names[v_.index()];
    }

    bool operator==(const Value& o) const { return v_ == o.v_; }

private:
    Storage v_;
};

namespace msgpack {

namespace detail {
inline void put_be(std::vector<uint8_t>& out, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void put_len(std::vector<uint8_t>& out, size_t n, uint8_t fix, uint8_t fix_max, uint8_t c8,
                    uint8_t c16, uint8_t c32) {
    if (fix && n <= fix_max) {
        out.push_back(static_cast<uint8_t>(fix | n));
    } else if (c8 && n <= 0xff) {
        out.push_back(c8);
        put_be(out, n, 1);
    } else if (n <= 0xffff) {
        out.push_back(c16);
        put_be(out, n, 2);
    } else {
        out.push_back(c32);
        put_be(out, n, 4);
    }
}
}  // namespace detail

inline void encode_uint(std::vector<uint8_t>& out, uint64_t n) {
    using detail::put_be;
    if (n <= 0x7f) {
        out.push_back(static_cast<uint8_t>(n));
    } else if (n <= 0xff) {
        out.push_back(0xcc);
        put_be(out, n, 1);
    } else if (n <= 0xffff) {
        out.push_back(0xcd);
        put_be(out, n, 2);
    } else if (n <= 0xffffffffULL) {
        out.push_back(0xce);
        put_be(out, n, 4);
    } else {
        out.push_back(0xcf);
        put_be(out, n, 8);
    }
}

inline void encode_int(std::vector<uint8_t>& out, int64_t n) {
    using detail::put_be;
    if (n >= 0) return encode_uint(out, static_cast<uint64_t>(n));
    if (n >= -32) {
        out.push_back(static_cast<uint8_t>(n));
    } else if (n >= INT8_MIN) {
        out.push_back(0xd0);
        put_be(out, static_cast<uint64_t>(n), 1);
    } else if (n >= INT16_MIN) {
        out.push_back(0xd1);
        put_be(out, static_cast<uint64_t>(n), 2);
    } else if (n >= INT32_MIN) {
        out.push_back(0xd2);
        put_be(out, static_cast<uint64_t>(n), 4);
    } else {
        out.push_back(0xd3);
        put_be(out, static_cast<uint64_t>(n), 8);
    }
}

inline void encode_to(std::vector<uint8_t>& out, const Value& value) {
    using detail::put_be;
    using detail::put_len;
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
                out.push_back(0xc0);
            } else if constexpr (std::is_same_v<T, bool>) {
                out.push_back(v ? 0xc3 : 0xc2);
            } else if constexpr (std::is_same_v<T, int64_t>) {
                encode_int(out, v);
            } else if constexpr (std::is_same_v<T, uint64_t>) {
                encode_uint(out, v);
            } else if constexpr (std::is_same_v<T, double>) {
                uint64_t bits;
                std::memcpy(&bits, &v, 8);
                out.push_back(0xcb);
                put_be(out, bits, 8);
            } else if constexpr (std::is_same_v<T, std::string>) {
                put_len(out, v.size(), 0xa0, 31, 0xd9, 0xda, 0xdb);
                out.insert(out.end(), v.begin(), v.end());
            } else if constexpr (std::is_same_v<T, Bytes>) {
                put_len(out, v.data.size(), 0, 0, 0xc4, 0xc5, 0xc6);
                out.insert(out.end(), v.data.begin(), v.data.end());
            } else if constexpr (std::is_same_v<T, Array>) {
                put_len(out, v.size(), 0x90, 15, 0, 0xdc, 0xdd);
                for (auto& e : v) encode_to(out, e);
            } else if constexpr (std::is_same_v<T, Map>) {
                put_len(out, v.size(), 0x80, 15, 0, 0xde, 0xdf);
                for (auto& [k, e] : v) {
                    encode_to(out, k);
                    encode_to(out, e);
                }
            } else if constexpr (std::is_same_v<T, RefIndex>) {
                out.push_back(0xd6);  // fixext 4
                out.push_back(1);
                put_be(out, v.index, 4);
            } else if constexpr (std::is_same_v<T, ActorRef>) {
                out.push_back(0xd8);  // fixext 16
                out.push_back(2);
                put_be(out, v.id.hi, 8);
                put_be(out, v.id.lo, 8);
            }
        },
        value.storage());
}

inline std::vector<uint8_t> encode(const Value& value) {
    std::vector<uint8_t> out;
    encode_to(out, value);
    return out;
}

namespace detail {

// Nesting deeper than this is refused rather than overflowing the stack (a
// hostile peer could send a deep value).
constexpr int kMaxDepth = 512;

class Decoder {
public:
    Decoder(const uint8_t* data, size_t len) : p_(data), end_(data + len) {}

    Result<Value> value(int depth) {
        if (depth > kMaxDepth) return bad("value nested deeper than 512 levels");
        uint8_t b;
        if (!byte(b)) return truncated();
        if (b <= 0x7f) return Value(static_cast<uint64_t>(b));
        if (b >= 0xe0) return Value(static_cast<int64_t>(static_cast<int8_t>(b)));
        if ((b & 0xe0) == 0xa0) return str(b & 0x1f);
        if ((b & 0xf0) == 0x90) return array(b & 0x0f, depth);
        if ((b & 0xf0) == 0x80) return map(b & 0x0f, depth);
        uint64_t n;
        switch (b) {
            case 0xc0: return Value();
            case 0xc2: return Value(false);
            case 0xc3: return Value(true);
            case 0xcc: case 0xcd: case 0xce: case 0xcf:
                if (!be(n, 1 << (b - 0xcc))) return truncated();
                return Value(n);
            case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
                int w = 1 << (b - 0xd0);
                if (!be(n, w)) return truncated();
                int shift = 64 - 8 * w;  // sign-extend
                return Value(static_cast<int64_t>(n << shift) >> shift);
            }
            case 0xca: {
                if (!be(n, 4)) return truncated();
                uint32_t bits = static_cast<uint32_t>(n);
                float f;
                std::memcpy(&f, &bits, 4);
                return Value(static_cast<double>(f));
            }
            case 0xcb: {
                if (!be(n, 8)) return truncated();
                double d;
                std::memcpy(&d, &n, 8);
                return Value(d);
            }
            case 0xd9: case 0xda: case 0xdb:
                if (!be(n, 1 << (b - 0xd9))) return truncated();
                return str(n);
            case 0xc4: case 0xc5: case 0xc6: {
                if (!be(n, 1 << (b - 0xc4))) return truncated();
                if (static_cast<size_t>(end_ - p_) < n) return truncated();
                Bytes out{std::vector<uint8_t>(p_, p_ + n)};
                p_ += n;
                return Value(std::move(out));
            }
            case 0xdc: case 0xdd:
                if (!be(n, b == 0xdc ? 2 : 4)) return truncated();
                return array(n, depth);
            case 0xde: case 0xdf:
                if (!be(n, b == 0xde ? 2 : 4)) return truncated();
                return map(n, depth);
            case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
                return ext(static_cast<size_t>(1) << (b - 0xd4));
            case 0xc7: case 0xc8: case 0xc9:
                if (!be(n, 1 << (b - 0xc7))) return truncated();
                return ext(n);
            default: {
                static const char hex[] = "0123456789abcdef";
                std::string m = "invalid MessagePack byte 0x";
                m += hex[b >> 4];
                m += hex[b & 15];
                return bad(m);
            }
        }
    }

    size_t left() const { return static_cast<size_t>(end_ - p_); }

private:
    static std::unexpected<Error> bad(std::string m) { return fail(Error::invalid(std::move(m))); }
    static std::unexpected<Error> truncated() { return bad("truncated value"); }

    bool byte(uint8_t& b) {
        if (p_ == end_) return false;
        b = *p_++;
        return true;
    }
    bool be(uint64_t& n, int w) {
        if (end_ - p_ < w) return false;
        n = 0;
        for (int i = 0; i < w; ++i) n = (n << 8) | *p_++;
        return true;
    }
    static bool valid_utf8(const uint8_t* s, size_t n) {
        size_t i = 0;
        while (i < n) {
            uint8_t c = s[i];
            size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
            if (len == 0 || i + len > n) return false;
            for (size_t k = 1; k < len; ++k)
                if ((s[i + k] & 0xc0) != 0x80) return false;
            i += len;
        }
        return true;
    }
    Result<Value> str(uint64_t n) {
        if (left() < n) return truncated();
        if (!valid_utf8(p_, n)) return bad("invalid UTF-8 in a string");
        std::string s(reinterpret_cast<const char*>(p_), n);
        p_ += n;
        return Value(std::move(s));
    }
    Result<Value> array(uint64_t n, int depth) {
        if (left() < n) return truncated();  // each element takes a byte at least
        Array a;
        a.reserve(n);
        for (uint64_t i = 0; i < n; ++i) {
            auto v = value(depth + 1);
            if (!v) return v;
            a.push_back(std::move(*v));
        }
        return Value(std::move(a));
    }
    Result<Value> map(uint64_t n, int depth) {
        if (left() / 2 < n) return truncated();
        Map m;
        m.reserve(n);
        for (uint64_t i = 0; i < n; ++i) {
            auto k = value(depth + 1);
            if (!k) return k;
            auto v = value(depth + 1);
            if (!v) return v;
            m.emplace_back(std::move(*k), std::move(*v));
        }
        return Value(std::move(m));
    }
    Result<Value> ext(uint64_t n) {
        uint8_t type;
        if (!byte(type)) return truncated();
        if (left() < n) return truncated();
        const uint8_t* payload = p_;
        p_ += n;
        auto be_at = [&](size_t off, size_t w) {
            uint64_t v = 0;
            for (size_t i = 0; i < w; ++i) v = (v << 8) | payload[off + i];
            return v;
        };
        if (type == 1) {
            if (n != 4) return bad("object reference payload of " + std::to_string(n) + " bytes (want 4)");
            return Value(RefIndex{static_cast<uint32_t>(be_at(0, 4))});
        }
        if (type == 2) {
            if (n != 16) return bad("actor handle payload of " + std::to_string(n) + " bytes (want 16)");
            return Value(ActorRef{Id{be_at(0, 8), be_at(8, 8)}});
        }
        if (type == 3) {
            return bad("a Python-only value (extension type 3: a Python guest pickled a set, an "
                       "integer past 64 bits or an object of its own class): C++ cannot read it; "
                       "send lists, maps and 64-bit integers between languages");
        }
        return bad("unknown MessagePack extension type " + std::to_string(type));
    }

    const uint8_t* p_;
    const uint8_t* end_;
};

}  // namespace detail

// Decodes exactly one value; trailing bytes are an error.
inline Result<Value> decode(const uint8_t* data, size_t len) {
    detail::Decoder d(data, len);
    auto v = d.value(0);
    if (v && d.left() != 0)
        return fail(Error::invalid(std::to_string(d.left()) + " trailing bytes after the value"));
    return v;
}

inline Result<Value> decode(const std::vector<uint8_t>& bytes) {
    return decode(bytes.data(), bytes.size());
}

}  // namespace msgpack
}  // namespace wrun

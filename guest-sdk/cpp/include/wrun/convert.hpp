// Typed values: how C++ types map to the cross-language codec.
//
//   bool                     <-> bool
//   signed/unsigned integers <-> int   (range-checked both ways)
//   float, double            <-> float (an int is accepted where a float is expected)
//   std::string              <-> string
//   wrun::Bytes              <-> bytes
//   std::vector<T>           <-> list
//   std::map<std::string, T> <-> map   (also wrun::Map for a given key order)
//   std::optional<T>         <-> nil or T
//   std::pair, std::tuple    <-> list of their elements
//   wrun::Value              <-> anything
//   wrun::ObjectRef<T>, wrun::ActorHandle (in wrun.hpp) <-> references
//
// A value that does not fit the requested type is an `invalid-argument`
// error naming the expected and the actual kind, never a silent change.
#pragma once

#include <limits>
#include <map>
#include <optional>
#include <tuple>
#include <type_traits>

#include "msgpack.hpp"

namespace wrun {

// The reference handles that travel beside a value's bytes. In a guest they
// are canonical-ABI handles of `object-ref` resources; this table owns them.
struct RefTable {
    std::vector<int32_t> handles;
};

template <class T, class = void>
struct Convert;  // specialised per type below and in wrun.hpp

template <class T>
Value to_value(const T& x, RefTable& refs) {
    return Convert<T>::to(x, refs);
}

template <class T>
Result<T> from_value(const Value& v, RefTable& refs) {
    return Convert<T>::from(v, refs);
}

namespace detail {
inline std::unexpected<Error> mismatch(const char* want, const Value& got) {
    return fail(Error::invalid(std::string("expected ") + want + ", got " + got.type_name()));
}
}  // namespace detail

template <>
struct Convert<Value> {
    static Value to(const Value& v, RefTable&) { return v; }
    static Result<Value> from(const Value& v, RefTable&) { return v; }
};

template <>
struct Convert<bool> {
    static Value to(bool b, RefTable&) { return Value(b); }
    static Result<bool> from(const Value& v, RefTable&) {
        if (auto* b = v.get_if<bool>()) return *b;
        return detail::mismatch("bool", v);
    }
};

template <class T>
struct Convert<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
    static Value to(T n, RefTable&) {
        if constexpr (std::is_signed_v<T>)
            return Value(static_cast<int64_t>(n));
        else
            return Value(static_cast<uint64_t>(n));
    }
    static Result<T> from(const Value& v, RefTable&) {
        using L = std::numeric_limits<T>;
        if (auto* u = v.get_if<uint64_t>()) {
            if (*u <= static_cast<uint64_t>(L::max())) return static_cast<T>(*u);
            return out_of_range(std::to_string(*u));
        }
        if (auto* i = v.get_if<int64_t>()) {
            if constexpr (std::is_signed_v<T>) {
                if (*i >= static_cast<int64_t>(L::min())) return static_cast<T>(*i);
            }
            return out_of_range(std::to_string(*i));
        }
        return detail::mismatch("int", v);
    }
    static std::unexpected<Error> out_of_range(const std::string& n) {
        return fail(Error::invalid("integer " + n + " does not fit in " +
                                   (std::is_signed_v<T> ? "a signed " : "an unsigned ") +
                                   std::to_string(sizeof(T) * 8) + "-bit integer"));
    }
};

template <class T>
struct Convert<T, std::enable_if_t<std::is_floating_point_v<T>>> {
    static Value to(T d, RefTable&) { return Value(static_cast<double>(d)); }
    static Result<T> from(const Value& v, RefTable&) {
        if (auto* d = v.get_if<double>()) return static_cast<T>(*d);
        if (auto* u = v.get_if<uint64_t>()) return static_cast<T>(*u);
        if (auto* i = v.get_if<int64_t>()) return static_cast<T>(*i);
        return detail::mismatch("float", v);
    }
};

template <>
struct Convert<std::string> {
    static Value to(const std::string& s, RefTable&) { return Value(s); }
    static Result<std::string> from(const Value& v, RefTable&) {
        if (auto* s = v.get_if<std::string>()) return *s;
        return detail::mismatch("string", v);
    }
};

template <>
struct Convert<Bytes> {
    static Value to(const Bytes& b, RefTable&) { return Value(b); }
    static Result<Bytes> from(const Value& v, RefTable&) {
        if (auto* b = v.get_if<Bytes>()) return *b;
        return detail::mismatch("bytes", v);
    }
};

template <>
struct Convert<Map> {
    static Value to(const Map& m, RefTable&) { return Value(m); }
    static Result<Map> from(const Value& v, RefTable&) {
        if (auto* m = v.get_if<Map>()) return *m;
        return detail::mismatch("map", v);
    }
};

template <class T>
struct Convert<std::vector<T>> {
    static Value to(const std::vector<T>& xs, RefTable& refs) {
        Array a;
        a.reserve(xs.size());
        for (const auto& x : xs) a.push_back(Convert<T>::to(x, refs));
        return Value(std::move(a));
    }
    static Result<std::vector<T>> from(const Value& v, RefTable& refs) {
        auto* a = v.get_if<Array>();
        if (!a) return detail::mismatch("list", v);
        std::vector<T> out;
        out.reserve(a->size());
        for (size_t i = 0; i < a->size(); ++i) {
            auto x = Convert<T>::from((*a)[i], refs);
            if (!x) return at("list element " + std::to_string(i), x.error());
            out.push_back(std::move(*x));
        }
        return out;
    }
    static std::unexpected<Error> at(const std::string& where, Error e) {
        e.message = where + ": " + e.message;
        return fail(std::move(e));
    }
};

template <class T>
struct Convert<std::map<std::string, T>> {
    static Value to(const std::map<std::string, T>& m, RefTable& refs) {
        Map out;
        out.reserve(m.size());
        for (auto& [k, v] : m) out.emplace_back(Value(k), Convert<T>::to(v, refs));
        return Value(std::move(out));
    }
    static Result<std::map<std::string, T>> from(const Value& v, RefTable& refs) {
        auto* m = v.get_if<Map>();
        if (!m) return detail::mismatch("map", v);
        std::map<std::string, T> out;
        for (auto& [k, e] : *m) {
            auto* key = k.get_if<std::string>();
            if (!key) return detail::mismatch("string map key", k);
            auto x = Convert<T>::from(e, refs);
            if (!x) {
                Error err = x.error();
                err.message = "map value `" + *key + "`: " + err.message;
                return fail(std::move(err));
            }
            out.insert_or_assign(*key, std::move(*x));
        }
        return out;
    }
};

template <class T>
struct Convert<std::optional<T>> {
    static Value to(const std::optional<T>& o, RefTable& refs) {
        return o ? Convert<T>::to(*o, refs) : Value();
    }
    static Result<std::optional<T>> from(const Value& v, RefTable& refs) {
        if (v.is_nil()) return std::optional<T>();
        auto x = Convert<T>::from(v, refs);
        if (!x) return fail(x.error());
        return std::optional<T>(std::move(*x));
    }
};

template <class... T>
struct Convert<std::tuple<T...>> {
    static Value to(const std::tuple<T...>& t, RefTable& refs) {
        Array a;
        std::apply([&](const auto&... x) { (a.push_back(to_value(x, refs)), ...); }, t);
        return Value(std::move(a));
    }
    static Result<std::tuple<T...>> from(const Value& v, RefTable& refs) {
        auto* a = v.get_if<Array>();
        if (!a) return detail::mismatch("list", v);
        if (a->size() != sizeof...(T))
            return fail(Error::invalid("expected a list of " + std::to_string(sizeof...(T)) +
                                       " elements, got " + std::to_string(a->size())));
        return from_at(*a, refs, std::index_sequence_for<T...>{});
    }
    template <size_t... I>
    static Result<std::tuple<T...>> from_at(const Array& a, RefTable& refs, std::index_sequence<I...>) {
        std::tuple<Result<T>...> parts{Convert<T>::from(a[I], refs)...};
        Error err;
        bool ok = true;
        ((ok = ok && (std::get<I>(parts) ? true : (err = std::get<I>(parts).error(), false))), ...);
        if (!ok) return fail(err);
        return std::tuple<T...>{std::move(*std::get<I>(parts))...};
    }
};

template <class A, class B>
struct Convert<std::pair<A, B>> {
    static Value to(const std::pair<A, B>& p, RefTable& refs) {
        return Convert<std::tuple<A, B>>::to(std::tuple<A, B>(p.first, p.second), refs);
    }
    static Result<std::pair<A, B>> from(const Value& v, RefTable& refs) {
        auto t = Convert<std::tuple<A, B>>::from(v, refs);
        if (!t) return fail(t.error());
        return std::pair<A, B>(std::move(std::get<0>(*t)), std::move(std::get<1>(*t)));
    }
};

}  // namespace wrun

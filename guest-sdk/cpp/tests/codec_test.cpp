// Native tests of the C++ SDK's codec (msgpack.hpp, convert.hpp): the shared
// vectors of tests/vectors/values.json byte for byte, typed conversions and
// their errors, and hostile input. Run by guest-sdk/cpp/tests/run.sh.
#include <cstdio>
#include <limits>
#include <map>
#include <optional>

#include "wrun/convert.hpp"

namespace {

int failures = 0;
int checks = 0;

#define CHECK(cond)                                                      \
    do {                                                                 \
        ++checks;                                                        \
        if (!(cond)) {                                                   \
            ++failures;                                                  \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                \
    } while (0)

struct Vector {
    const char* name;
    const char* kind;
    wrun::Value value;
    const char* hex;
};

const Vector kVectors[] = {
#include "vectors.inc"
};

std::string to_hex(const std::vector<uint8_t>& bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (uint8_t b : bytes) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

std::vector<uint8_t> from_hex(const std::string& hex) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

void shared_vectors() {
    CHECK(sizeof(kVectors) / sizeof(kVectors[0]) >= 18);
    for (auto& v : kVectors) {
        auto bytes = wrun::msgpack::encode(v.value);
        if (to_hex(bytes) != v.hex) {
            ++failures;
            std::fprintf(stderr, "vector `%s`: encoded %s, want %s\n", v.name, to_hex(bytes).c_str(), v.hex);
        }
        auto back = wrun::msgpack::decode(from_hex(v.hex));
        ++checks;
        if (!back || !(*back == v.value)) {
            ++failures;
            std::fprintf(stderr, "vector `%s`: did not decode back to its value\n", v.name);
        }
    }
}

template <class T>
wrun::Result<T> round_trip(const T& x) {
    wrun::RefTable refs;
    auto bytes = wrun::msgpack::encode(wrun::to_value(x, refs));
    auto v = wrun::msgpack::decode(bytes);
    if (!v) return wrun::fail(v.error());
    return wrun::from_value<T>(*v, refs);
}

void typed_round_trips() {
    CHECK(round_trip(int64_t{-5}).value() == -5);
    CHECK(round_trip(uint32_t{70000}).value() == 70000);
    CHECK(round_trip(std::string("h\xc3\xa9llo")).value() == "h\xc3\xa9llo");
    CHECK(round_trip(2.5).value() == 2.5);
    CHECK(round_trip(std::vector<int>{1, 2, 3}).value() == (std::vector<int>{1, 2, 3}));
    std::map<std::string, int64_t> m{{"a", 1}, {"b", -2}};
    CHECK(round_trip(m).value() == m);
    CHECK(round_trip(std::optional<int>()).value() == std::nullopt);
    CHECK(round_trip(std::optional<int>(4)).value() == 4);
    auto t = std::make_tuple(std::string("x"), int64_t{3}, true);
    CHECK(round_trip(t).value() == t);
    CHECK(round_trip(std::make_pair(std::string("and"), int64_t{825})).value().second == 825);
    CHECK(round_trip(wrun::Bytes{{0, 1, 2}}).value() == (wrun::Bytes{{0, 1, 2}}));
}

void values_a_type_cannot_hold_are_errors() {
    wrun::RefTable refs;
    auto big = wrun::from_value<int8_t>(wrun::Value(uint64_t{200}), refs);
    CHECK(!big && big.error().kind == wrun::ErrorKind::InvalidArgument);
    CHECK(!big || big.error().message.find("does not fit") != std::string::npos);
    auto neg = wrun::from_value<uint32_t>(wrun::Value(int64_t{-1}), refs);
    CHECK(!neg && neg.error().message.find("unsigned") != std::string::npos);
    auto huge = wrun::from_value<int64_t>(wrun::Value(std::numeric_limits<uint64_t>::max()), refs);
    CHECK(!huge);
    auto wrong = wrun::from_value<std::string>(wrun::Value(uint64_t{1}), refs);
    CHECK(!wrong && wrong.error().message == "expected string, got int");
    auto elem = wrun::from_value<std::vector<int>>(wrun::Value(wrun::Array{1, "x"}), refs);
    CHECK(!elem && elem.error().message.rfind("list element 1:", 0) == 0);
    // A float is not silently truncated into an integer.
    CHECK(!wrun::from_value<int>(wrun::Value(1.5), refs));
    // An integer is exact as a float.
    CHECK(wrun::from_value<double>(wrun::Value(uint64_t{3}), refs).value() == 3.0);
}

void hostile_input_is_refused() {
    using wrun::msgpack::decode;
    CHECK(!decode(from_hex("")));                 // nothing
    CHECK(!decode(from_hex("a5616263")));         // truncated string
    CHECK(!decode(from_hex("dd7fffffff")));       // a 2G-element array in 5 bytes
    CHECK(!decode(from_hex("c1")));               // the never-used byte
    CHECK(!decode(from_hex("a2c328")));           // invalid UTF-8
    CHECK(!decode(from_hex("0101")));             // trailing bytes
    CHECK(!decode(from_hex("d50100")));           // ref with a 2-byte payload
    CHECK(!decode(from_hex("d40900")));           // unknown extension type
    // A Python-only value (extension type 3, a pickle) says what it is.
    auto pickled = decode(from_hex("c702038004"));
    CHECK(!pickled && pickled.error().message.find("Python-only value") != std::string::npos);
    std::vector<uint8_t> deep(100000, 0x91);      // [[[[...]]]] past the depth limit
    deep.push_back(0xc0);
    auto d = decode(deep);
    CHECK(!d && d.error().message.find("nested deeper") != std::string::npos);
}

void errors_print_like_the_other_sdks() {
    wrun::Error e{wrun::ErrorKind::ActorDied, "Counter.incr", "cpp", "actor was killed"};
    CHECK(e.to_string() == "actor-died in Counter.incr (cpp): actor was killed");
    wrun::Error host{wrun::ErrorKind::ObjectLost, "get", "", "freed"};
    CHECK(host.to_string() == "object-lost in get: freed");
}

}  // namespace

int main() {
    shared_vectors();
    typed_round_trips();
    values_a_type_cannot_hold_are_errors();
    hostile_input_is_refused();
    errors_print_like_the_other_sdks();
    std::printf("C++ SDK codec: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}

"""Turns tests/vectors/values.json into C++ (a list of wrun::Value and the
bytes each must encode to), so the native codec test needs no JSON parser."""
import json
import sys


def cpp_value(kind, v):
    if kind == "nil":
        return "wrun::Value()"
    if kind == "bool":
        return f"wrun::Value({'true' if v['value'] else 'false'})"
    if kind == "int":
        n = v["value"]
        if n == -(2**63):
            return "wrun::Value(std::numeric_limits<int64_t>::min())"
        return f"wrun::Value(int64_t{{{n}}})" if n < 0 else f"wrun::Value(uint64_t{{{n}ULL}})"
    if kind == "float":
        return f"wrun::Value(double({v['value']!r}))"
    if kind == "str":
        raw = v["value"].encode()
        lit = "".join(f"\\x{b:02x}" for b in raw)
        return f'wrun::Value(std::string("{lit}", {len(raw)}))'
    if kind == "bytes":
        bs = ", ".join(f"0x{b:02x}" for b in bytes.fromhex(v["hex"]))
        return f"wrun::Value(wrun::Bytes{{{{{bs}}}}})"
    if kind == "list<int>":
        return "wrun::Value(wrun::Array{" + ", ".join(f"wrun::Value(uint64_t{{{n}}})" for n in v["value"]) + "})"
    if kind == "map<str,int>":
        items = ", ".join(
            f'{{wrun::Value("{k}"), wrun::Value(uint64_t{{{n}}})}}' for k, n in v["value"].items()
        )
        return "wrun::Value(wrun::Map{" + items + "})"
    if kind == "objref":
        return f"wrun::Value(wrun::RefIndex{{{v['index']}}})"
    if kind == "actor":
        return f"wrun::Value(wrun::ActorRef{{wrun::Id{{{v['hi']}ULL, {v['lo']}ULL}}}})"
    sys.exit(f"gen_vectors.py: unknown kind {kind!r} in the vectors; teach the C++ test about it")


doc = json.load(open(sys.argv[1]))
print("// Generated from tests/vectors/values.json by gen_vectors.py; do not edit.")
for v in doc["vectors"]:
    print(f'{{"{v["name"]}", "{v["kind"]}", {cpp_value(v["kind"], v)}, "{v["msgpack"]}"}},')

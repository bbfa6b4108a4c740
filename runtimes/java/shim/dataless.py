#!/usr/bin/env python3
"""Turns the shim module's data segments into code, so that wit-component
accepts it as an adapter (adapters may have a memory, but no data section).

    dataless.py WASM_TOOLS IN.wasm OUT.wasm LIMIT

The module's active data segments become stores in one function, run once
by a wrapper around every exported function (a global records that it ran).
The module imports its memory (the main module's); its data and its stack
(whose top is the first global, __stack_pointer) must end at or below LIMIT.
The text form comes from `wasm-tools print`; `wasm-tools metadata add`
turns it back into a binary.
"""

import re
import subprocess
import sys


def unescape(s: str) -> bytes:
    """The bytes of a WAT string literal's body."""
    out = bytearray()
    i = 0
    simple = {"n": 10, "t": 9, "r": 13, '"': 34, "'": 39, "\\": 92}
    while i < len(s):
        c = s[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
        elif s[i + 1] in simple:
            out.append(simple[s[i + 1]])
            i += 2
        elif s[i + 1] == "u":
            end = s.index("}", i)
            out += chr(int(s[i + 3 : end], 16)).encode("utf-8")
            i = end + 1
        else:
            out.append(int(s[i + 1 : i + 3], 16))
            i += 3
    return bytes(out)


def main() -> None:
    wasm_tools, src, dst, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    text = subprocess.run([wasm_tools, "print", src], check=True, capture_output=True, text=True).stdout
    lines = text.rstrip().split("\n")
    assert lines[-1].strip() == ")", "unexpected end of the module's text"
    lines = lines[:-1]

    types = {}  # type index -> number of params
    funcs = {}  # func index -> type index
    exports = []  # (name, func index)
    kept = []
    segments = []  # (offset, bytes)
    nfunc = 0
    for line in lines:
        s = line.strip()
        m = re.match(r"\(type \(;(\d+);\) \(func(.*)\)\)$", s)
        if m:
            params = re.search(r"\(param ([^)]*)\)", m.group(2))
            types[int(m.group(1))] = len(params.group(1).split()) if params else 0
        m = re.match(r"\(import .*\(func \(;(\d+);\) \(type (\d+)\)", s)
        if m:
            funcs[int(m.group(1))] = int(m.group(2))
            nfunc = max(nfunc, int(m.group(1)) + 1)
        m = re.match(r"\(func (?:\$\S+ )?\(;(\d+);\) \(type (\d+)\)", s)
        if m:
            funcs[int(m.group(1))] = int(m.group(2))
            nfunc = max(nfunc, int(m.group(1)) + 1)
        m = re.match(r'\(export "([^"]+)" \(func (\d+)\)\)$', s)
        if m:
            exports.append((m.group(1), int(m.group(2))))
            continue
        m = re.match(r'\(data (?:\$\S+ )?(?:\(;\d+;\) )?\(i32\.const (-?\d+)\) "(.*)"\)$', s)
        if m:
            segments.append((int(m.group(1)) & 0xFFFFFFFF, unescape(m.group(2))))
            continue
        if s.startswith("(data"):
            sys.exit(f"dataless.py: cannot read data segment: {s[:80]}")
        if s.startswith("(elem") or s.startswith("(start"):
            sys.exit(f"dataless.py: the shim has a section adapters cannot have: {s[:40]}")
        kept.append(line)

    stack = re.search(r"\(global \(;0;\) \(mut i32\) i32\.const (\d+)\)", text)
    if not stack or int(stack.group(1)) > limit:
        sys.exit(f"dataless.py: the stack's top {stack and stack.group(1)} is above {limit}")
    for offset, data in segments:
        if offset + len(data) > limit:
            sys.exit(f"dataless.py: data at {offset}..{offset + len(data)} is above {limit}")
    if '(import "env" "memory"' not in text:
        sys.exit("dataless.py: the module must import its memory (link with --import-memory)")

    init = [
        "  (global $wrun_ready (mut i32) (i32.const 0))",
        "  (func $wrun_init",
        "    global.get $wrun_ready",
        "    if",
        "      return",
        "    end",
        "    i32.const 1",
        "    global.set $wrun_ready",
    ]
    for offset, data in segments:
        i = 0
        while i < len(data):
            chunk = data[i : i + 8]
            if len(chunk) == 8:
                v = int.from_bytes(chunk, "little")
                if v:
                    init += [f"    i32.const {offset + i}", f"    i64.const {v}", "    i64.store"]
                i += 8
            else:
                for k, b in enumerate(chunk):
                    if b:
                        init += [f"    i32.const {offset + i + k}", f"    i32.const {b}", "    i32.store8"]
                i += len(chunk)
    init.append("  )")

    wrappers = []
    for name, idx in exports:
        t = funcs[idx]
        body = ["    call $wrun_init"] + [f"    local.get {k}" for k in range(types[t])] + [f"    call {idx}"]
        wrappers += [f"  (func $wrun_{name} (type {t})"] + body + ["  )", f'  (export "{name}" (func $wrun_{name}))']

    out = "\n".join(kept + init + wrappers + [")"]) + "\n"
    # This wasm-tools has no `parse`; `metadata add` reads text and writes binary.
    subprocess.run([wasm_tools, "metadata", "add", "--name", "wrun-teavm-shim", "-", "-o", dst],
                   input=out, check=True, text=True)


if __name__ == "__main__":
    main()

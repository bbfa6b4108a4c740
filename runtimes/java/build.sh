#!/usr/bin/env bash
# Builds a Java wrun job into a WebAssembly component.
#
#   runtimes/java/build.sh [--heap SIZE] [--job CLASS] [--debug] SRC_DIR OUT.wasm
#
# SRC_DIR holds the job's .java files (any package layout); exactly one class
# implements wrun.Job (or name it with --job). Steps:
#  1. WrunBuild (one JVM): javac --release 17 of guest-sdk/java/src and
#     SRC_DIR; the entry class WrunEntry in the job's package; TeaVM-WASI to a
#     preview-1 core module; its memory's maximum dropped (the SDK grows
#     memory above TeaVM's fixed heap for the values crossing the boundary).
#  2. wasm-tools component embed: the `job` world of wit/wrun.wit, read now,
#     becomes the module's component type (the SDK's canonical-ABI glue is
#     hand-written, and `component new` checks it against that WIT).
#  3. wasm-tools component new with the preview-1 reactor adapter and, when
#     the module needs them, the shims of runtimes/java/shim (java.lang.Math,
#     non-ASCII case mapping).
#
#   --heap SIZE   TeaVM's heap, fixed for the instance's life (default 64M;
#                 K/M suffixes): Java objects live there, and an instance's
#                 linear memory is about this much plus the values in flight.
#   --debug       keep TeaVM's debug information (larger module).
#   WRUN_JAVA_WORK  scratch directory (default: a temporary one, removed).
set -euo pipefail

HEAP=64M
JOB=()
DEBUG=()
while [ $# -gt 0 ]; do
    case "$1" in
        --heap) HEAP=${2:?"--heap needs a size"}; shift 2 ;;
        --job) JOB=(--job "${2:?"--job needs a class name"}"); shift 2 ;;
        --debug) DEBUG=(--debug); shift ;;
        --) shift; break ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
if [ $# -ne 2 ]; then
    echo "usage: $0 [--heap SIZE] [--job CLASS] [--debug] SRC_DIR OUT.wasm" >&2
    exit 2
fi
SRC=$(cd "$1" && pwd)
OUT=$2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

JT=$("$ROOT/runtimes/java/setup.sh" | tail -n 1)

# The SDK's canonical-ABI glue is written by hand for one shape of the WIT;
# `component new` checks the core signatures, but not the layout of records
# passed through memory. So the WIT (without its comments) must be the one the
# glue was written for: guest-sdk/java/wit.sha256.
wit_hash=$("$JT/wasm-tools" component wit "$ROOT/wit" | grep -v '^[[:space:]]*//' | grep -v '^[[:space:]]*$' |
    sha256sum | cut -d' ' -f1)
if [ "$wit_hash" != "$(cat "$ROOT/guest-sdk/java/wit.sha256")" ]; then
    echo "wit/wrun.wit changed since the Java SDK's hand-written canonical-ABI glue was written:" >&2
    echo "update guest-sdk/java/src/wrun/internal/{WasmHost,Guest}.java to match it, then" >&2
    echo "guest-sdk/java/wit.sha256 (to $wit_hash)" >&2
    exit 1
fi
if [ -n "${WRUN_JAVA_WORK:-}" ]; then
    WORK=$WRUN_JAVA_WORK
    mkdir -p "$WORK"
else
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/wrun-java.XXXXXX")
    trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$(dirname "$OUT")"

java -Xss8m -cp "$JT/classes:$(cat "$JT/classpath")" WrunBuild \
    --sdk "$ROOT/guest-sdk/java/src" --src "$SRC" --work "$WORK/build" \
    --out "$WORK/core.wasm" --heap "$HEAP" "${JOB[@]}" "${DEBUG[@]}" >&2
# TeaVM-WASI occasionally writes invalid code (e.g. the equals() of a record
# with a long component): say which method, rather than what wasm-tools says
# about the component later.
if ! err=$("$JT/wasm-tools" validate "$WORK/core.wasm" 2>&1); then
    idx=$(printf '%s\n' "$err" | sed -n 's/.*func \([0-9][0-9]*\) failed to validate.*/\1/p' | head -n 1)
    fn=""
    if [ -n "$idx" ]; then
        fn=$("$JT/wasm-tools" print "$WORK/core.wasm" 2>/dev/null |
            sed -n "s/^  (func \\\$\([^ ]*\) (;$idx;).*/\1/p" | head -n 1)
    fi
    echo "TeaVM-WASI wrote an invalid module (a TeaVM bug)${fn:+ in $fn}:" >&2
    printf '%s\n' "$err" >&2
    echo "records with long components are one known cause (their generated equals); use a final class" >&2
    exit 1
fi
"$JT/wasm-tools" component embed --world job "$ROOT/wit" "$WORK/core.wasm" -o "$WORK/embedded.wasm"
# The preview-1 adapter, and the shims for what TeaVM's class library wants
# from a JavaScript host (Math, case mapping) when the module uses them.
ADAPT=(--adapt "wasi_snapshot_preview1=$JT/wasi_snapshot_preview1.reactor.wasm")
while read -r name; do
    [ -n "$name" ] && ADAPT+=(--adapt "$name=$JT/$name.wasm")
done <"$WORK/build/adapters"
"$JT/wasm-tools" component new "$WORK/embedded.wasm" "${ADAPT[@]}" -o "$OUT.tmp"
# A custom section saying which SDK built it (section 0, 13 bytes: the name
# `wrun-sdk` and `java`): the host checks it against runtime.language.
printf '\x00\x0d\x08wrun-sdkjava' >>"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "$OUT"

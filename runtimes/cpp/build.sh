#!/usr/bin/env bash
# Builds a C++ guest component from the .cpp files of APP_DIR:
#
#   runtimes/cpp/build.sh APP_DIR OUT.wasm
#
# 1. `wit-bindgen c` writes the C glue of the `job` world (wit/wrun.wit);
# 2. clang-19 compiles it, the SDK (guest-sdk/cpp) and the app to a WASI
#    preview-1 reactor module (C++23, no exceptions: Debian's wasm32 libc++
#    has none; -O2, or $WRUN_CPP_OPT: `wrun build --dev` passes -O0; debug
#    info stripped);
# 3. `wasm-tools component new` wraps it with the preview-1 reactor adapter
#    into a component of the `job` world.
# Tools come from runtimes/cpp/setup.sh (run here, idempotent).
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: $0 APP_DIR OUT.wasm" >&2
    exit 2
fi
APP="$(cd "$1" && pwd)"
OUT="$2"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="$("$HERE/setup.sh" | tail -n1)"
TOOLS="$(dirname "$BIN")"
SDK="$ROOT/guest-sdk/cpp"

shopt -s nullglob
srcs=("$APP"/*.cpp)
if [ ${#srcs[@]} -eq 0 ]; then
    echo "error: no .cpp files in $APP" >&2
    exit 2
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/wrun-cpp.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
if ! out=$("$BIN/wit-bindgen" c "$ROOT/wit" --world job --out-dir "$WORK/gen" 2>&1); then
    echo "$out" >&2
    exit 1
fi

OPT="${WRUN_CPP_OPT:--O2}"
case "$OPT" in -O0|-O1|-O2|-O3|-Os|-Oz) ;; *) echo "WRUN_CPP_OPT: expected -O0..-O3, -Os or -Oz, got $OPT" >&2; exit 2 ;; esac
CXXFLAGS=(--target=wasm32-wasi "$OPT" -std=c++23 -fno-exceptions -Wall -Wextra -Wno-unused-parameter
    -I "$SDK/include" -I "$WORK/gen")
clang-19 --target=wasm32-wasi "$OPT" -c "$WORK/gen/job.c" -o "$WORK/job.o"
clang++-19 "${CXXFLAGS[@]}" -c "$SDK/src/wrun.cpp" -o "$WORK/wrun.o"
objs=("$WORK/job.o" "$WORK/wrun.o" "$WORK/gen/job_component_type.o")
for s in "${srcs[@]}"; do
    o="$WORK/app-$(basename "$s" .cpp).o"
    clang++-19 "${CXXFLAGS[@]}" -c "$s" -o "$o"
    objs+=("$o")
done
clang++-19 --target=wasm32-wasi "$OPT" -fno-exceptions -mexec-model=reactor -Wl,--strip-debug \
    "${objs[@]}" -o "$WORK/core.wasm"
mkdir -p "$(dirname "$OUT")"
"$BIN/wasm-tools" component new "$WORK/core.wasm" \
    --adapt "wasi_snapshot_preview1=$TOOLS/wasi_snapshot_preview1.reactor.wasm" -o "$OUT.tmp"
# A custom section saying which SDK built it (section 0, 12 bytes: the name
# `wrun-sdk` and `cpp`): the host checks it against runtime.language.
printf '\x00\x0c\x08wrun-sdkcpp' >>"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "$OUT"

#!/usr/bin/env bash
# Runs the C++ SDK's native tests (its codec against tests/vectors and more).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
"$ROOT/runtimes/cpp/setup.sh" >/dev/null
WORK="$(mktemp -d "${TMPDIR:-/tmp}/wrun-cpp-test.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
python3 "$HERE/gen_vectors.py" "$ROOT/tests/vectors/values.json" > "$WORK/vectors.inc"
clang++-19 -std=c++23 -O1 -g -Wall -Wextra -fsanitize=address,undefined \
    -I "$ROOT/guest-sdk/cpp/include" -I "$WORK" "$HERE/codec_test.cpp" -o "$WORK/codec_test"
"$WORK/codec_test"

#!/usr/bin/env bash
# The benchmark command: builds release binaries and the examples, sets up Ray
# 2.60 in a venv, and prints wrun's figures beside Ray's with the ratios.
#   bench/run.sh            full run (a few minutes)
#   bench/run.sh --quick    smoke run
#   bench/run.sh --no-ray   wrun only
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
"$WRUN_ROOT/scripts/build.sh" >&2
cd "$WRUN_ROOT"
# scripts/build.sh built wrun-bench with the rest of the workspace (building it
# alone would unify features differently and recompile wasmtime).
ray=()
extra=()
for a in "$@"; do
    case "$a" in
        --no-ray) ray=(none) ;;
        *) extra+=("$a") ;;
    esac
done
if [ "${ray[0]:-}" != none ]; then
    py="$(bench/ray/setup.sh | tail -n 1)"
    ray=(--ray-python "$py")
else
    ray=()
fi
java=()
if [ -f "$WRUN_JAVA_EXAMPLES_DIR/bench.wasm" ]; then
    java=(--lang "java=$WRUN_JAVA_EXAMPLES_DIR/bench.wasm")
fi
exec "$CARGO_TARGET_DIR/release/wrun-bench" \
    --bench-wasm "$WRUN_EXAMPLES_DIR/bench.wasm" \
    --hello-wasm "$WRUN_EXAMPLES_DIR/hello.wasm" \
    --py-bench-wasm "$WRUN_PY_EXAMPLES_DIR/bench.wasm" \
    --lang "rust=$WRUN_EXAMPLES_DIR/bench.wasm" \
    --lang "cpp=$WRUN_CPP_EXAMPLES_DIR/bench.wasm" \
    --lang "python=$WRUN_PY_EXAMPLES_DIR/bench.wasm" \
    "${java[@]}" \
    --wrun "$WRUN_BIN" "${ray[@]}" "${extra[@]}"

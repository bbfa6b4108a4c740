#!/usr/bin/env bash
# Builds what one example job needs, and nothing else, then runs it on the
# embedded single-node runtime, with one progress line per stage:
#
#   scripts/run-example.sh [NAME] [ARGS...]        a Rust example (default: hello)
#   scripts/run-example.sh LANG/NAME [ARGS...]     python/, cpp/ or java/ examples: that
#                                                  language's toolchain installs on first use
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$WRUN_ROOT"
name="${1:-hello}"
shift || true
case "$name" in
    */*) lang="${name%%/*}"; example="${name#*/}" ;;
    *) lang=rust; example="$name" ;;
esac
if [ ! -d "examples/$lang/$example" ]; then
    echo "no example examples/$lang/$example; the examples are: $(cd examples/rust && ls -d */ | tr -d / | grep -v '^target$' | tr '\n' ' ')and python/, cpp/, java/ ones" >&2
    exit 2
fi
start=$SECONDS
stage() { echo "[run-example $((SECONDS - start))s] $*" >&2; }

stage "1/3 toolchain: Rust with the wasm32-wasip2 target, protoc (installed if missing)"
"$WRUN_ROOT/scripts/setup.sh" host
stage "2/3 building wrun, the host (release; the first build compiles wasmtime: several minutes on 2 cores)"
cargo build --quiet --release -p wrun-cli
if [ "$lang" = rust ]; then
    stage "3/3 building the Rust example $example"
    cargo build --quiet --release --target wasm32-wasip2 --manifest-path examples/rust/Cargo.toml -p "$example"
    wasm="$WRUN_EXAMPLES_DIR/$example.wasm"
else
    stage "3/3 building the $lang example $example (wrun build; its toolchain installs on first use)"
    [ "$lang" = python ] && cargo build --quiet --release -p wrun-python-patch
    wasm=$("$WRUN_BIN" build "examples/$lang/$example")
fi
stage "running: wrun submit $wasm $*"
exec "$WRUN_BIN" submit "$wasm" "$@"

#!/usr/bin/env bash
# Builds the host (the `wrun` CLI) and the example components (Rust and
# Python), release.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$WRUN_ROOT/scripts/setup.sh"
cd "$WRUN_ROOT"
cargo build --release --workspace --bins
cargo build --release --target wasm32-wasip2 --manifest-path examples/rust/Cargo.toml
"$WRUN_ROOT/scripts/build-python-examples.sh"

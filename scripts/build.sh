#!/usr/bin/env bash
# Builds the host (the `wrun` CLI) and the example components of every guest
# language, release.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$WRUN_ROOT/scripts/setup.sh"
cd "$WRUN_ROOT"
cargo build --release --workspace --bins
cargo build --release --target wasm32-wasip2 --manifest-path examples/rust/Cargo.toml
for lang in python cpp java; do
    "$WRUN_ROOT/scripts/build-guest-examples.sh" "$lang"
done

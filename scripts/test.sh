#!/usr/bin/env bash
# Runs the whole test suite: unit tests, SDK tests, and the end-to-end tests
# that drive the real CLI and host API with the real example components.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$WRUN_ROOT/scripts/build.sh"
cd "$WRUN_ROOT"
cargo test --release --workspace -- --test-threads=2

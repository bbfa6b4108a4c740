#!/usr/bin/env bash
# Builds everything and runs one Rust example job on the embedded
# single-node runtime: scripts/run-example.sh [hello|pi|wordcount|counter|nested] [ARGS...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$WRUN_ROOT/scripts/build.sh" >&2
name="${1:-hello}"
shift || true
exec "$WRUN_BIN" submit "$WRUN_EXAMPLES_DIR/$name.wasm" "$@"

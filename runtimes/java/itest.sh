#!/usr/bin/env bash
# The Java SDK against the real host: builds guest-sdk/java/itest (every SDK
# feature, checked by its driver) and submits it with its manifest. Needs the
# wrun CLI ($WRUN_BIN, scripts/build.sh). Prints the checks that passed.
#
#   runtimes/java/itest.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/scripts/env.sh"
OUT=$(mktemp -d "${TMPDIR:-/tmp}/wrun-java-itest.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
"$ROOT/runtimes/java/build.sh" "$ROOT/guest-sdk/java/itest" "$OUT/features.wasm" >/dev/null 2>"$OUT/build.log" ||
    { cat "$OUT/build.log" >&2; exit 1; }
"$WRUN_BIN" submit -q --env "$ROOT/guest-sdk/java/itest/env.toml" --resources license=2 "$OUT/features.wasm"

#!/usr/bin/env bash
# Builds each examples/python/NAME into $WRUN_PY_EXAMPLES_DIR/NAME.wasm,
# skipping those whose sources (the app, the SDK, the WIT, the build script)
# are unchanged since their last build: componentize-py takes ~15 s a job.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$WRUN_ROOT"
mkdir -p "$WRUN_PY_EXAMPLES_DIR"
shared_hash=$(find guest-sdk/python wit runtimes/python -type f ! -path '*/__pycache__/*' ! -path '*/tests/*' -print0 \
    | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
for app in examples/python/*/; do
    name=$(basename "$app")
    out="$WRUN_PY_EXAMPLES_DIR/$name.wasm"
    hash=$( (echo "$shared_hash"; find "$app" -type f ! -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1)
    if [ -f "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$hash" ]; then
        continue
    fi
    echo "building Python example $name" >&2
    env_args=()
    if [ -f "$app/env.toml" ]; then
        env_args=(--env "$app/env.toml")
    fi
    runtimes/python/build.sh "${env_args[@]}" "$app" "$out" >/dev/null
    echo "$hash" > "$out.stamp"
done

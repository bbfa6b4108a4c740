#!/usr/bin/env bash
# Builds each examples/LANG/NAME into its component, for LANG in python, cpp
# (and java once its runtime is set up), skipping those whose sources (the
# app, the SDK, the WIT, the build scripts) are unchanged since their last
# build: componentize-py takes ~15 s a job.
#
#   scripts/build-guest-examples.sh python|cpp|java
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$WRUN_ROOT"
lang="${1:?usage: $0 python|cpp|java}"
case "$lang" in
    python) out_dir="$WRUN_PY_EXAMPLES_DIR" ;;
    cpp) out_dir="$WRUN_CPP_EXAMPLES_DIR" ;;
    java) out_dir="$WRUN_JAVA_EXAMPLES_DIR" ;;
    *) echo "unknown guest language $lang (python, cpp or java)" >&2; exit 2 ;;
esac
[ -d "examples/$lang" ] && [ -x "runtimes/$lang/build.sh" ] || exit 0
mkdir -p "$out_dir"
shared_hash=$(find "guest-sdk/$lang" wit "runtimes/$lang" -type f \
    ! -path '*/__pycache__/*' ! -path '*/tests/*' ! -path '*/target/*' -print0 \
    | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
for app in examples/"$lang"/*/; do
    name=$(basename "$app")
    out="$out_dir/$name.wasm"
    hash=$( (echo "$shared_hash"; find "$app" -type f ! -path '*/__pycache__/*' ! -path '*/target/*' -print0 \
        | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1)
    if [ -f "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$hash" ]; then
        continue
    fi
    echo "building $lang example $name" >&2
    args=()
    # Python bundles the packages its manifest names at build time.
    if [ "$lang" = python ] && [ -f "$app/env.toml" ]; then
        args=(--env "$app/env.toml")
    fi
    "runtimes/$lang/build.sh" "${args[@]}" "$app" "$out" >/dev/null
    echo "$hash" > "$out.stamp"
done

#!/usr/bin/env bash
# Prepares the toolchain for C++ guests, idempotently:
#  - Debian's clang-19 and lld-19 with the wasm32 sysroot (wasi-libc, libc++,
#    compiler-rt), which compile C++17 to a WASI preview-1 core module;
#  - wit-bindgen-cli (the C generator only), which writes the C glue of the
#    `job` world; wasm-tools, which wraps the core module into a component;
#  - the preview-1 reactor adapter, taken from the crates.io crate
#    wasi-preview1-component-adapter-provider (it embeds the adapter's bytes).
# Tools land in ~/.cache/wrun/tools (WRUN_TOOLS). The last line printed is
# the tools' bin directory.
set -euo pipefail

TOOLS="${WRUN_TOOLS:-$HOME/.cache/wrun/tools}"
WIT_BINDGEN_VERSION=0.63.0
WASM_TOOLS_VERSION=1.262.0
ADAPTER_VERSION=48.0.8
mkdir -p "$TOOLS/bin"

debs=(clang-19 lld-19 wasi-libc libc++-19-dev-wasm32 libc++abi-19-dev-wasm32 libclang-rt-19-dev-wasm32)
missing=()
for p in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >&2
fi

have_version() { [ -x "$TOOLS/bin/$1" ] && "$TOOLS/bin/$1" --version 2>/dev/null | grep -q "$2"; }
if ! have_version wit-bindgen "$WIT_BINDGEN_VERSION"; then
    echo "installing wit-bindgen-cli $WIT_BINDGEN_VERSION (C generator)" >&2
    cargo install --quiet --locked --root "$TOOLS" wit-bindgen-cli --version "$WIT_BINDGEN_VERSION" \
        --no-default-features --features c >&2
fi
if ! have_version wasm-tools "$WASM_TOOLS_VERSION"; then
    echo "installing wasm-tools $WASM_TOOLS_VERSION" >&2
    cargo install --quiet --locked --root "$TOOLS" wasm-tools --version "$WASM_TOOLS_VERSION" \
        --no-default-features --features component,validate,print,metadata >&2
fi
ADAPTER="$TOOLS/wasi_snapshot_preview1.reactor-$ADAPTER_VERSION.wasm"
if [ ! -s "$ADAPTER" ]; then
    echo "fetching the preview-1 reactor adapter $ADAPTER_VERSION" >&2
    src="$TOOLS/adapter-src"
    mkdir -p "$src/src"
    printf '[package]\nname = "adapter-src"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nwasi-preview1-component-adapter-provider = "=%s"\n' \
        "$ADAPTER_VERSION" >"$src/Cargo.toml"
    : >"$src/src/lib.rs"
    manifest=$(cd "$src" && cargo metadata --quiet --format-version 1 |
        python3 -c 'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"]=="wasi-preview1-component-adapter-provider"))')
    cp "$(dirname "$manifest")/artefacts/wasi_snapshot_preview1.reactor.wasm" "$ADAPTER.tmp"
    mv "$ADAPTER.tmp" "$ADAPTER"
fi
ln -sf "$ADAPTER" "$TOOLS/wasi_snapshot_preview1.reactor.wasm"
echo "$TOOLS/bin"

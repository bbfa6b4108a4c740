#!/usr/bin/env bash
# Installs what building and testing wrun needs, idempotently: a Rust
# toolchain with the wasm32-wasip2 target, componentize-py (in a venv) for
# Python guests, clang-19 with the wasm32 sysroot, wit-bindgen and wasm-tools
# for C++ guests, the Java guest toolchain once runtimes/java has one, and
# Debian's chromium for the dashboard's browser test.
# Safe to run on every build.
#
#   scripts/setup.sh         everything (the test suite)
#   scripts/setup.sh host    only what building wrun and a Rust job needs:
#                            the wasm32-wasip2 target and protoc
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

if ! command -v cargo >/dev/null 2>&1; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    else
        echo "setup: cargo not found. Install Rust with rustup (https://rustup.rs), then rerun." >&2
        exit 1
    fi
fi
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
    echo "setup: adding the wasm32-wasip2 target" >&2
    rustup target add wasm32-wasip2
fi
# protoc: the host generates its cluster messages from host/proto at build time.
if ! command -v protoc >/dev/null 2>&1; then
    echo "setup: installing protobuf-compiler (protoc)" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq protobuf-compiler >&2
fi
[ "${1:-}" = host ] && exit 0
# iproute2: the cluster tests put a node in a network namespace of its own.
if ! command -v ip >/dev/null 2>&1; then
    echo "setup: installing iproute2 (ip)" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq iproute2 >&2
fi
# chromium: the dashboard's test drives a real headless browser (tests/cdp.rs).
if ! command -v chromium >/dev/null 2>&1; then
    echo "setup: installing chromium (the dashboard's browser test)" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >&2
fi
mkdir -p "$CARGO_TARGET_DIR"
"$WRUN_ROOT/runtimes/python/setup.sh" >/dev/null
"$WRUN_ROOT/runtimes/cpp/setup.sh" >/dev/null
if [ -x "$WRUN_ROOT/runtimes/java/setup.sh" ]; then
    "$WRUN_ROOT/runtimes/java/setup.sh" >/dev/null
fi

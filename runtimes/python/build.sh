#!/usr/bin/env bash
# Builds a Python wrun job into a WebAssembly component.
#
#   runtimes/python/build.sh [--env ENV.toml] APP_DIR OUT.wasm
#
# With --env, the pure-Python packages the manifest's `runtime.packages` lists
# are installed from PyPI into ~/.cache/wrun/pypkgs/<hash of the list> (once:
# a later build with the same list reuses them) and bundled into the component.
#
# APP_DIR holds the job's module, app.py (and any pure-Python modules it
# imports). componentize-py bundles CPython, the wrun SDK (guest-sdk/python)
# and APP_DIR into one component targeting the `job` world of wit/wrun.wit,
# generating the `wit_world` bindings from that WIT as it goes. It imports the
# job at build time and snapshots the interpreter, so import-time errors
# (a syntax error, two tasks with one name) fail the build.
#
# The entry module is guest-sdk/python/wrun_job.py, which imports `app` and
# provides the exported `Guest` class.
#
# The component is then patched (runtimes/python/patch): componentize-py
# 0.25.1 leaks every byte list a guest hands the host (each put, each task's
# result); the patch frees them when the call ends.
set -euo pipefail

ENV_FILE=""
if [ "${1:-}" = "--env" ]; then
    ENV_FILE=${2:?"--env needs a manifest path"}
    shift 2
fi
if [ $# -ne 2 ]; then
    echo "usage: $0 [--env ENV.toml] APP_DIR OUT.wasm" >&2
    exit 2
fi
APP_DIR=$(cd "$1" && pwd)
OUT=$2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

if [ ! -f "$APP_DIR/app.py" ]; then
    echo "$APP_DIR/app.py not found: a Python job's module is app.py" >&2
    exit 2
fi

VENV=$("$ROOT/runtimes/python/setup.sh" | tail -n 1)
# componentize-py imports the job to snapshot it, which writes __pycache__
# next to each module: build a copy, so the job's folder stays as it was.
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/wrun-python.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/app"
cp -R "$APP_DIR"/. "$STAGE/app"
find "$STAGE/app" -name __pycache__ -prune -exec rm -rf {} +
APP_DIR="$STAGE/app"
# The CPython that componentize-py 0.25.1 bundles.
GUEST_PYTHON=3.14
mkdir -p "$(dirname "$OUT")"

# Packages declared by the environment, installed once per distinct list.
PKG_PATH=()
if [ -n "$ENV_FILE" ]; then
    pkg_lines=$(python3 - "$ENV_FILE" <<'PY'
import re, sys, tomllib
with open(sys.argv[1], "rb") as f:
    manifest = tomllib.load(f)
for p in sorted(manifest.get("runtime", {}).get("packages", [])):
    # What the host accepts too: no pip options, spaces or URLs.
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._\-\[\],<>=!~*+]*", p):
        sys.exit(f"runtime.packages in {sys.argv[1]}: `{p}` is not a package requirement: expected NAME[EXTRAS] with version constraints, such as `tabulate==0.10.0`")
    print(p)
PY
)
    PACKAGES=()
    [ -z "$pkg_lines" ] || mapfile -t PACKAGES <<<"$pkg_lines"
    if [ ${#PACKAGES[@]} -gt 0 ]; then
        key=$(printf '%s\n' "${PACKAGES[@]}" | sha256sum | cut -c1-32)
        PKG_DIR="${WRUN_CACHE_DIR:-$HOME/.cache/wrun}/pypkgs/$key"
        if [ ! -d "$PKG_DIR" ]; then
            echo "installing ${PACKAGES[*]} (pure-Python wheels only)" >&2
            rm -rf "$PKG_DIR.tmp"
            # Only wheels tagged for any platform, ABI and interpreter: a
            # Wasm guest cannot load native code, so a package that has only
            # native wheels is refused here, named, before anything is
            # cached; a failed install leaves nothing behind.
            if ! log=$("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
                --only-binary=:all: --platform any --implementation py --abi none \
                --python-version "$GUEST_PYTHON" --target "$PKG_DIR.tmp" "${PACKAGES[@]}" 2>&1); then
                rm -rf "$PKG_DIR.tmp"
                missing=$(printf '%s\n' "$log" | sed -n 's/.*No matching distribution found for \(.*\)$/\1/p' | head -n 1)
                if [ -n "$missing" ]; then
                    echo "runtime.packages in $ENV_FILE: $missing has no pure-Python wheel (py3-none-any) for Python $GUEST_PYTHON; a Wasm guest cannot load native code: use a pure-Python alternative, or drop it" >&2
                else
                    printf '%s\n' "$log" >&2
                    echo "runtime.packages in $ENV_FILE: ${PACKAGES[*]} did not install (pip's output is above)" >&2
                fi
                exit 1
            fi
            mv "$PKG_DIR.tmp" "$PKG_DIR"
        else
            echo "packages ${PACKAGES[*]} from the cache ($PKG_DIR)" >&2
        fi
        PKG_PATH=(-p "$PKG_DIR")
    fi
fi

# Leave VIRTUAL_ENV unset: componentize-py would add that venv's
# site-packages (componentize-py itself, pip) to the component.
env -u VIRTUAL_ENV "$VENV/bin/componentize-py" -q \
    -d "$ROOT/wit" -w job \
    componentize wrun_job \
    -p "$APP_DIR" -p "$ROOT/guest-sdk/python" "${PKG_PATH[@]}" \
    -o "$OUT"

# `wrun build` names the patch next to itself; in the checkout it is built.
PATCH="${WRUN_PYTHON_PATCH:-${CARGO_TARGET_DIR:-$HOME/.cache/wrun/target}/release/wrun-python-patch}"
if [ ! -x "$PATCH" ]; then
    if [ ! -f "$ROOT/Cargo.toml" ]; then
        echo "wrun-python-patch not found at $PATCH: build it beside wrun (cargo build --release -p wrun-python-patch) or set WRUN_PYTHON_PATCH" >&2
        exit 1
    fi
    echo "building wrun-python-patch" >&2
    CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wrun/target}" \
        cargo build --quiet --release --manifest-path "$ROOT/Cargo.toml" -p wrun-python-patch >&2
fi
"$PATCH" "$OUT"
# A custom section saying which SDK built it (section 0, 15 bytes: the name
# `wrun-sdk` and `python`): the host checks it against runtime.language.
printf '\x00\x0f\x08wrun-sdkpython' >>"$OUT"
# And one listing the packages bundled (`wrun-packages`, one per line): the
# interpreter is snapshotted here, so a manifest submitted with the
# component may only list packages it was built with; the host checks.
if [ ${#PKG_PATH[@]} -gt 0 ]; then
    printf '%s\n' "${PACKAGES[@]}" | python3 -c '
import sys
def leb(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)
name, data = b"wrun-packages", sys.stdin.buffer.read()
body = leb(len(name)) + name + data
with open(sys.argv[1], "ab") as f:
    f.write(b"\x00" + leb(len(body)) + body)
' "$OUT"
fi
echo "$OUT"

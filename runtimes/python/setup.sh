#!/usr/bin/env bash
# Prepares the toolchain for Python guests: a virtual environment holding
# componentize-py, which bundles CPython (compiled to wasm32-wasip2) with the
# job's modules and generates the bindings of the `job` world at build time.
#
# Idempotent: when the venv already has the pinned componentize-py it does
# nothing. Only PyPI is needed. The last line printed is the venv's path.
#
# It also keeps a copy of the guests' standard library (CPython 3.14's pure
# modules, as componentize-py bundles them): a Python guest's interpreter is
# snapshotted at build, and a module the build did not import is not in the
# component, so packages a job's manifest adds at submit (the host mounts
# them) find the rest of the standard library there.
#
#   WRUN_PY_VENV   where the venv lives (default: ~/.cache/wrun/py-venv)
#   WRUN_PY_STDLIB where the standard library is kept (default:
#                  ~/.cache/wrun/py-stdlib/<componentize-py version>)
#   PYTHON         interpreter that creates it (default: python3)
set -euo pipefail

VERSION=0.25.1
VENV="${WRUN_PY_VENV:-$HOME/.cache/wrun/py-venv}"
PYTHON="${PYTHON:-python3}"

installed() {
    [ -x "$VENV/bin/componentize-py" ] &&
        "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('componentize-py') != '$VERSION')" 2>/dev/null
}

if ! installed; then
    echo "creating $VENV with componentize-py==$VERSION" >&2
    mkdir -p "$(dirname "$VENV")"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "componentize-py==$VERSION" >&2
    installed || { echo "componentize-py==$VERSION did not install into $VENV" >&2; exit 1; }
fi

# componentize-py unpacks its standard library into a temporary folder for
# each build and removes it afterwards. A build whose job waits (at import,
# inside the snapshot) for a `done` file lets that folder be copied first.
STDLIB="${WRUN_PY_STDLIB:-$HOME/.cache/wrun/py-stdlib/$VERSION}"
if [ ! -f "$STDLIB/.complete" ]; then
    echo "keeping the Python guests' standard library in $STDLIB" >&2
    work=$(mktemp -d "${TMPDIR:-/tmp}/wrun-py-stdlib.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/app" "$work/tmp"
    cat >"$work/app/wrun_stdlib_wait.py" <<'PY'
import os
import time

for _ in range(1200):
    if os.path.exists(os.path.join(os.path.dirname(__file__), "done")):
        break
    time.sleep(0.05)
PY
    printf 'import wrun_stdlib_wait\n' >"$work/app/wrun_stdlib_job.py"
    ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    TMPDIR="$work/tmp" env -u VIRTUAL_ENV "$VENV/bin/componentize-py" -q -d "$ROOT/wit" -w job \
        componentize wrun_stdlib_job -p "$work/app" -o "$work/capture.wasm" >/dev/null 2>&1 &
    builder=$!
    src=""
    for _ in $(seq 1 600); do
        src=$(ls -d "$work"/tmp/.tmp*/importlib/metadata 2>/dev/null | head -n 1 || true)
        [ -n "$src" ] && [ -f "$(dirname "$(dirname "$src")")/difflib.py" ] && break
        sleep 0.1
    done
    [ -n "$src" ] || { kill "$builder" 2>/dev/null; echo "componentize-py never unpacked its standard library" >&2; exit 1; }
    src=$(dirname "$(dirname "$src")")
    # Unpacking is done once the count of files stops growing.
    last=-1
    while n=$(find "$src" -type f | wc -l) && [ "$n" != "$last" ]; do last=$n; sleep 0.5; done
    rm -rf "$STDLIB.tmp" && mkdir -p "$(dirname "$STDLIB")"
    cp -R "$src" "$STDLIB.tmp"
    touch "$work/app/done"
    wait "$builder" || true
    find "$STDLIB.tmp" -name __pycache__ -prune -exec rm -rf {} +
    [ -f "$STDLIB.tmp/importlib/metadata/__init__.py" ] || { echo "the copied standard library is incomplete" >&2; exit 1; }
    touch "$STDLIB.tmp/.complete"
    rm -rf "$STDLIB" && mv "$STDLIB.tmp" "$STDLIB"
fi
echo "$VENV"

#!/usr/bin/env bash
# Prepares the toolchain for Python guests: a virtual environment holding
# componentize-py, which bundles CPython (compiled to wasm32-wasip2) with the
# job's modules and generates the bindings of the `job` world at build time.
#
# Idempotent: when the venv already has the pinned componentize-py it does
# nothing. Only PyPI is needed. The last line printed is the venv's path.
#
#   WRUN_PY_VENV   where the venv lives (default: ~/.cache/wrun/py-venv)
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
echo "$VENV"

#!/usr/bin/env bash
# Create (once) a private venv holding the Ray release the wrun benchmark compares against.
#
# Version note: the comparison targets "Ray 2.60". `pip index versions ray` lists 2.60.0 as the
# newest release on PyPI (checked against Python 3.11, manylinux x86_64 wheel), so it is pinned
# exactly: a floating pin would silently change the baseline between benchmark runs.
#
# Idempotent: if the venv already has this exact Ray (and numpy) installed, it does nothing
# beyond a metadata lookup (no import of ray, no network), so callers can run it unconditionally.
# The last line of stdout is always the venv's python path, for callers to capture with `tail -n1`.
set -euo pipefail

RAY_VERSION="2.60.0"
VENV="${WRUN_RAY_VENV:-$HOME/.cache/wrun/ray-venv}"
PY="$VENV/bin/python"

# Reads installed distribution versions without importing the (slow-to-import) packages.
installed_ok() {
    [ -x "$PY" ] || return 1
    "$PY" - "$RAY_VERSION" <<'PYEOF' 2>/dev/null
import sys
from importlib.metadata import version, PackageNotFoundError
try:
    ok = version("ray") == sys.argv[1] and version("numpy")
except PackageNotFoundError:
    ok = False
sys.exit(0 if ok else 1)
PYEOF
}

if ! installed_ok; then
    echo "setting up Ray $RAY_VERSION in $VENV" >&2
    mkdir -p "$(dirname "$VENV")"
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$PY" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
    # Core `ray` is enough: the benchmark uses tasks, actors and the object store only.
    # numpy is listed explicitly because the put/get workload needs it and recent Ray
    # core wheels do not guarantee it as a dependency.
    "$PY" -m pip install --quiet --disable-pip-version-check "ray==$RAY_VERSION" numpy >&2
    installed_ok || { echo "Ray $RAY_VERSION install check failed" >&2; exit 1; }
fi

echo "$PY"

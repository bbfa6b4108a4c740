# Shared settings of the project scripts; sourced, not run.
# One build cache outside the clone serves every checkout (CI's fresh clones too).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wrun/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
WRUN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export WRUN_ROOT
# Where the example components land.
export WRUN_EXAMPLES_DIR="$CARGO_TARGET_DIR/wasm32-wasip2/release"
export WRUN_BIN="$CARGO_TARGET_DIR/release/wrun"
# Where the Python example components land.
export WRUN_PY_EXAMPLES_DIR="$CARGO_TARGET_DIR/python"
# Where the C++ and Java example components land.
export WRUN_CPP_EXAMPLES_DIR="$CARGO_TARGET_DIR/cpp"
export WRUN_JAVA_EXAMPLES_DIR="$CARGO_TARGET_DIR/java"

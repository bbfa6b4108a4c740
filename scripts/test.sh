#!/usr/bin/env bash
# Runs the whole test suite: unit tests, SDK tests (Rust, Python, C++, Java), and the
# end-to-end tests that drive the real CLI and host API with the real example
# components of every language.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$WRUN_ROOT/scripts/build.sh"
cd "$WRUN_ROOT"
cargo test --release --workspace -- --test-threads=2
# The Python SDK's own tests (its codec), with the machine's Python.
python3 -m pytest -q guest-sdk/python/tests
# The C++ SDK's own tests (its codec), natively with sanitizers.
guest-sdk/cpp/tests/run.sh
# The Java SDK's own tests on the JVM (codec vectors, types), then its
# feature job against the real host.
runtimes/java/test.sh
runtimes/java/itest.sh >/dev/null

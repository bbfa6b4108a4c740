#!/usr/bin/env bash
# Runs the whole test suite: formatting and lints, unit tests, SDK tests (Rust,
# Python, C++, Java), and the end-to-end tests that drive the real CLI and host
# API with the real example components of every language.
#
#   scripts/test.sh           everything (what CI runs)
#   scripts/test.sh --host    the host's fast loop: fmt, clippy, the host
#                             crates' unit tests and the architecture checks;
#                             builds no guest and starts no cluster
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$WRUN_ROOT"

HOST_CRATES=(-p wrun-core -p wrun-sched -p wrun-objects -p wrun-env -p wrun-proto
    -p wrun-sandbox -p wrun-runtime -p wrun-cluster -p wrun-cli)

lint() {
    cargo fmt --all --check
    cargo clippy --release --workspace --all-targets -- -D warnings
}

if [ "${1:-}" = "--host" ]; then
    lint
    cargo test --release "${HOST_CRATES[@]}"
    cargo test --release -p wrun-tests --test architecture
    exit 0
fi

"$WRUN_ROOT/scripts/build.sh"
lint
cargo test --release --workspace -- --test-threads=2
# The Python SDK's own tests (its codec), with the machine's Python.
python3 -m pytest -q guest-sdk/python/tests
# The C++ SDK's own tests (its codec), natively with sanitizers.
guest-sdk/cpp/tests/run.sh
# The Java SDK's own tests on the JVM (codec vectors, types), then its
# feature job against the real host.
runtimes/java/test.sh
runtimes/java/itest.sh >/dev/null
# A bounded run of the fuzzers (manifests, the value codec, RPC messages);
# `scripts/fuzz.sh SECONDS` runs them longer.
scripts/fuzz.sh 20

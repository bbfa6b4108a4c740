#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz: libFuzzer with AddressSanitizer) of
# every parser of input wrun takes from others (fuzz/): runtime-environment
# manifests, the host's value codec, and each RPC's messages with the
# conversions their handlers apply. Each target runs SECONDS (default 30)
# from its corpus in fuzz/corpus/TARGET and what earlier runs found (kept
# in the build directory, not the checkout). A crash
# fails the run; its input is left in fuzz/artifacts/TARGET/ (rerun it with
# `cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/crash-...` in fuzz/).
# Installs a nightly toolchain and cargo-fuzz once.
#
#   scripts/fuzz.sh          30 s per target (the test suite runs 20 s)
#   scripts/fuzz.sh 3600     an hour per target
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
PER_TARGET="${1:-30}"
TARGETS=(manifest values rpc)

if ! rustup toolchain list | grep -q '^nightly'; then
    echo "fuzz: installing a nightly toolchain (cargo-fuzz needs it)" >&2
    rustup toolchain install nightly --profile minimal >&2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked --version 0.13.2 >&2
fi
cd "$WRUN_ROOT/fuzz"
# Its own target directory: nightly and sanitizer builds beside the stable ones.
export CARGO_TARGET_DIR="$CARGO_TARGET_DIR/fuzz"
for t in "${TARGETS[@]}"; do
    echo "fuzz: $t for ${PER_TARGET} s" >&2
    log="$CARGO_TARGET_DIR/$t.log"
    mkdir -p "$CARGO_TARGET_DIR"
    # New inputs go to the build directory's corpus; the repository's is
    # read (keep a long run's finds with `cargo fuzz cmin` and copy them).
    found="$CARGO_TARGET_DIR/corpus/$t"
    mkdir -p "$found"
    if ! cargo +nightly fuzz run --release "$t" "$found" "corpus/$t" -- \
        -max_total_time="$PER_TARGET" -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "fuzz: $t failed; the input is in fuzz/artifacts/$t/" >&2
        exit 1
    fi
    grep -E '^(Done|stat::new_units_added)' "$log" >&2 || true
done

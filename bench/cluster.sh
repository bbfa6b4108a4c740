#!/usr/bin/env bash
# Cluster figures on this machine (loopback): a head whose node lacks the
# `license` resource and a second node that has it. The placement example's
# tasks each need a license, so every one of them crosses to the other node
# (gRPC, by value) — against the same job on one node that has the license.
#   bench/cluster.sh [TASKS]     (default 2000; medians of 3 runs)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
"$WRUN_ROOT/scripts/build.sh" >&2
N="${1:-2000}"
STATE=$(mktemp -d "${TMPDIR:-/tmp}/wrun-bench-cluster.XXXXXX")
export WRUN_STATE_DIR="$STATE"
trap '"$WRUN_BIN" stop >/dev/null 2>&1 || true; rm -rf "$STATE"' EXIT
JOB="$WRUN_CPP_EXAMPLES_DIR/placement.wasm"

now() { date +%s%N; }
median() { sort -n | sed -n "$(( ($1 + 1) / 2 ))p"; }
time_ms() { # command... -> milliseconds
    local t0 t1
    t0=$(now); "$@" >/dev/null; t1=$(now)
    echo $(( (t1 - t0) / 1000000 ))
}

"$WRUN_BIN" start --head --port 0 --cpus 2 >/dev/null
ADDR=$(cat "$STATE/head.addr")
"$WRUN_BIN" start --address "$ADDR" --cpus 2 --resources license=1000 >/dev/null
sleep 2   # both nodes alive and aware of each other

remote_1=(); remote_n=(); local_1=(); local_n=()
for _ in 1 2 3; do
    # The head places drivers on the node with most free CPUs, taking turns:
    # run until the driver lands on the node without the license.
    for _try in 1 2; do
        out=$("$WRUN_BIN" submit --address "$ADDR" "$JOB" license 1)
        drv=$(echo "$out" | sed 's/.*"driver": "\([0-9a-f]*\)".*/\1/')
        tsk=$(echo "$out" | sed 's/.*"tasks": \["\([0-9a-f]*\)".*/\1/')
        [ "$drv" != "$tsk" ] && break
    done
    remote_1+=("$(time_ms "$WRUN_BIN" submit --address "$ADDR" "$JOB" license 1)")
    remote_n+=("$(time_ms "$WRUN_BIN" submit --address "$ADDR" "$JOB" license "$N")")
    local_1+=("$(time_ms "$WRUN_BIN" submit --quiet --cpus 2 --resources license=1000 "$JOB" license 1)")
    local_n+=("$(time_ms "$WRUN_BIN" submit --quiet --cpus 2 --resources license=1000 "$JOB" license "$N")")
done
r1=$(printf '%s\n' "${remote_1[@]}" | median 3)
rn=$(printf '%s\n' "${remote_n[@]}" | median 3)
l1=$(printf '%s\n' "${local_1[@]}" | median 3)
ln=$(printf '%s\n' "${local_n[@]}" | median 3)
echo "job of 1 task, submitted to the cluster:        ${r1} ms end to end (the same job on one node: ${l1} ms)"
echo "$N tasks each sent to the other node:  $(( (rn - r1) * 1000 / (N - 1) )) us per task, $(( (N - 1) * 1000 / (rn - r1 + 1) )) tasks/s"
echo "$N tasks on the driver's own node:     $(( (ln - l1) * 1000 / (N - 1) )) us per task, $(( (N - 1) * 1000 / (ln - l1 + 1) )) tasks/s"

#!/usr/bin/env bash
# Cluster figures on this machine (loopback, release build), medians of 3:
#  1. scheduling latency of one remote task: the placement example's tasks
#     each need a `license` only the second node has, so each crosses to it;
#  2. no-op task throughput with 1, 2 and 4 node processes (each 2 CPUs):
#     the driver's node spills over to the others once it is full;
#  3. a 1 GiB object pulled by another node, against the loopback bandwidth
#     measured in the same run (bench/loopback.py);
#  4. a job's lines: ten tasks on three nodes print LINES lines in all, which
#     the head keeps and the submitter follows, against the same job on one
#     node printing to the terminal.
#
#   bench/cluster.sh [TASKS] [MIB] [NOOP] [LINES]   (defaults 2000, 1024 MiB, 20000, 20000)
#   SKIP_LATENCY=1 / SKIP_THROUGHPUT=1 / SKIP_OBJECT=1 leave parts 1 / 2 / 3 out.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
"$WRUN_ROOT/scripts/build.sh" >&2
N="${1:-2000}"
MIB="${2:-1024}"
NOOP="${3:-20000}"
LINES="${4:-20000}"
CHATTY="$WRUN_EXAMPLES_DIR/chatty.wasm"
STATE=$(mktemp -d "${TMPDIR:-/tmp}/wrun-bench-cluster.XXXXXX")
export WRUN_STATE_DIR="$STATE"
trap '"$WRUN_BIN" stop >/dev/null 2>&1 || true; rm -rf "$STATE"' EXIT
PLACEMENT="$WRUN_CPP_EXAMPLES_DIR/placement.wasm"
CLUSTER="$WRUN_EXAMPLES_DIR/cluster.wasm"

now() { date +%s%N; }
median() { sort -n | sed -n "$(( ($1 + 1) / 2 ))p"; }
time_ms() { # command... -> milliseconds
    local t0 t1
    t0=$(now); "$@" >/dev/null; t1=$(now)
    echo $(( (t1 - t0) / 1000000 ))
}
# start_cluster NODES [start options...]: a head and NODES-1 more nodes.
start_cluster() {
    local nodes=$1; shift
    "$WRUN_BIN" stop >/dev/null 2>&1 || true
    rm -rf "$STATE"/*
    # Daemons log at info: pulls of large objects are timed in their logs.
    RUST_LOG=info "$WRUN_BIN" start --head --port 0 "$@" >/dev/null
    ADDR=$(cat "$STATE/head.addr")
    for _ in $(seq 2 "$nodes"); do
        RUST_LOG=info "$WRUN_BIN" start --address "$ADDR" "$@" >/dev/null
    done
    until [ "$("$WRUN_BIN" status | grep -c ' alive ')" -ge "$nodes" ]; do sleep 0.2; done
    sleep 1.5   # every node has heard of the others
}

if [ -z "${SKIP_LATENCY:-}" ]; then
# --- 1. one remote task ------------------------------------------------------
"$WRUN_BIN" start --head --port 0 --cpus 2 >/dev/null
ADDR=$(cat "$STATE/head.addr")
"$WRUN_BIN" start --address "$ADDR" --cpus 2 --resources license=1000 >/dev/null
sleep 2
remote_1=(); remote_n=(); local_1=(); local_n=()
for _ in 1 2 3; do
    # The head takes turns placing drivers: run until the driver lands on
    # the node without the license.
    for _try in 1 2; do
        out=$("$WRUN_BIN" submit --address "$ADDR" "$PLACEMENT" license 1)
        drv=$(echo "$out" | sed 's/.*"driver": "\([0-9a-f]*\)".*/\1/')
        tsk=$(echo "$out" | sed 's/.*"tasks": \["\([0-9a-f]*\)".*/\1/')
        [ "$drv" != "$tsk" ] && break
    done
    remote_1+=("$(time_ms "$WRUN_BIN" submit --quiet --address "$ADDR" "$PLACEMENT" license 1)")
    remote_n+=("$(time_ms "$WRUN_BIN" submit --quiet --address "$ADDR" "$PLACEMENT" license "$N")")
    local_1+=("$(time_ms "$WRUN_BIN" submit --quiet --cpus 2 --resources license=1000 "$PLACEMENT" license 1)")
    local_n+=("$(time_ms "$WRUN_BIN" submit --quiet --cpus 2 --resources license=1000 "$PLACEMENT" license "$N")")
done
r1=$(printf '%s\n' "${remote_1[@]}" | median 3)
rn=$(printf '%s\n' "${remote_n[@]}" | median 3)
l1=$(printf '%s\n' "${local_1[@]}" | median 3)
ln=$(printf '%s\n' "${local_n[@]}" | median 3)
echo "job of 1 task, submitted to the cluster:        ${r1} ms end to end (the same job on one node: ${l1} ms)"
echo "$N tasks each sent to the other node:  $(( (rn - r1) * 1000 / (N - 1) )) us per task, $(( (N - 1) * 1000 / (rn - r1 + 1) )) tasks/s"
echo "$N tasks on the driver's own node:     $(( (ln - l1) * 1000 / (N - 1) )) us per task, $(( (N - 1) * 1000 / (ln - l1 + 1) )) tasks/s"
fi

# --- 2. no-op throughput with 1, 2, 4 nodes ----------------------------------
for nodes in 1 2 4; do
    [ -n "${SKIP_THROUGHPUT:-}" ] && break
    start_cluster "$nodes" --cpus 2
    one=(); many=(); spread=""
    for _ in 1 2 3; do
        one+=("$(time_ms "$WRUN_BIN" submit --address "$ADDR" "$CLUSTER" noop 1)")
        t0=$(now)
        out=$("$WRUN_BIN" submit --address "$ADDR" "$CLUSTER" noop "$NOOP")
        many+=("$(( ($(now) - t0) / 1000000 ))")
        spread=$(echo "$out" | python3 -c 'import json,sys; print("/".join(str(c) for c in sorted(json.load(sys.stdin)["nodes"].values(), reverse=True)))')
    done
    o=$(printf '%s\n' "${one[@]}" | median 3)
    m=$(printf '%s\n' "${many[@]}" | median 3)
    d=$(( m - o )); [ "$d" -gt 0 ] || d=1
    echo "$NOOP no-op tasks, $nodes node(s) of 2 CPUs:   $(( (NOOP - 1) * 1000 / d )) tasks/s (tasks per node: $spread)"
done

# --- 3. a 1 GiB object across nodes ------------------------------------------
if [ -z "${SKIP_OBJECT:-}" ]; then
loopback=$(python3 "$WRUN_ROOT/bench/loopback.py" $((MIB << 20)))
# Guests hold the blob (and a copy while reading it); objects of MIB MiB
# plus the blob's 5-byte header are allowed.
SIZES=(--guest-memory $(( MIB * 2 + 512 ))M --object-memory $(( MIB * 3 ))M --max-object $(( MIB + 1 ))M)
start_cluster 1 --cpus 2 "${SIZES[@]}"
RUST_LOG=info "$WRUN_BIN" start --address "$ADDR" --cpus 1 --resources license=4 "${SIZES[@]}" >/dev/null
until [ "$("$WRUN_BIN" status | grep -c ' alive ')" -ge 2 ]; do sleep 0.2; done
sleep 1.5
rates=()
# The head places drivers on the node with most free CPUs (the head's, 2
# CPUs); a run whose driver lands on the licensed node moves nothing and is
# not counted.
for _ in 1 2 3 4 5 6; do
    [ "${#rates[@]}" -ge 3 ] && break
    before=$(cat "$STATE"/logs/*.log | grep -c 'pulled an object' || true)
    out=$("$WRUN_BIN" submit --address "$ADDR" "$CLUSTER" objects license "$MIB")
    echo "$out" | python3 -c "import json,sys; v=json.load(sys.stdin); assert v['kept'][0] == $((MIB << 20)) and v['sums'] == [v['expected']] * 2, v" \
        || { echo "transfer job failed: $out" >&2; exit 1; }
    after=$(cat "$STATE"/logs/*.log | grep -c 'pulled an object' || true)
    if [ "$after" -gt "$before" ]; then
        rates+=("$(cat "$STATE"/logs/*.log | grep 'pulled an object' | tail -1 | sed 's/.*mb_per_s=\([0-9]*\).*/\1/')")
    fi
done
[ "${#rates[@]}" -gt 0 ] || { echo "no run moved the object across nodes" >&2; exit 1; }
r=$(printf '%s\n' "${rates[@]}" | median "${#rates[@]}")
echo "$MIB MiB object pulled by another node:  $r MB/s ($(( MIB * 1049 / (r + 1) )) ms, median of ${#rates[@]}); loopback TCP on this machine: $loopback MB/s (wrun at $(( r * 100 / (loopback + 1) ))%)"
fi

# --- 4. a job's lines from three nodes ---------------------------------------
"$WRUN_BIN" stop >/dev/null 2>&1 || true
rm -rf "${STATE:?}"/*
"$WRUN_BIN" start --head --port 0 --cpus 2 --resources a=1 >/dev/null
ADDR=$(cat "$STATE/head.addr")
"$WRUN_BIN" start --address "$ADDR" --cpus 2 --resources b=1 >/dev/null
"$WRUN_BIN" start --address "$ADDR" --cpus 2 --resources c=1 >/dev/null
until [ "$("$WRUN_BIN" status | grep -c ' alive ')" -ge 3 ]; do sleep 0.2; done
sleep 1.5
SPREAD=(a b c a b c a b c a)
PER_TASK=$(( LINES / ${#SPREAD[@]} ))
cluster_lines=(); local_lines=()
for _ in 1 2 3; do
    t0=$(now)
    got=$("$WRUN_BIN" submit --address "$ADDR" "$CHATTY" lines "$PER_TASK" "${SPREAD[@]}" 2>&1 >/dev/null | grep -c ' line ')
    cluster_lines+=("$(( ($(now) - t0) / 1000000 ))")
    [ "$got" -eq $(( PER_TASK * ${#SPREAD[@]} )) ] || { echo "the submitter got $got lines" >&2; exit 1; }
    t0=$(now)
    "$WRUN_BIN" submit --cpus 2 --resources a=1,b=1,c=1 "$CHATTY" lines "$PER_TASK" "${SPREAD[@]}" >/dev/null 2>&1
    local_lines+=("$(( ($(now) - t0) / 1000000 ))")
done
c=$(printf '%s\n' "${cluster_lines[@]}" | median 3)
l=$(printf '%s\n' "${local_lines[@]}" | median 3)
echo "$(( PER_TASK * ${#SPREAD[@]} )) lines from tasks on 3 nodes, kept by the head and followed: $c ms end to end, $(( PER_TASK * ${#SPREAD[@]} * 1000 / (c + 1) )) lines/s (the same job on one node, printed locally: $l ms)"

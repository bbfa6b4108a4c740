#!/usr/bin/env bash
# The dashboard under load, on this machine (loopback, release build): one
# job with TASKS no-op tasks and ACTORS actors (made, called once and killed
# one after another), then the median of 5 of each call a dashboard page
# makes for that job, over TLS with a session, and of `wrun list tasks`:
# what the pages wait for.
#
#   bench/dashboard.sh [TASKS] [ACTORS]   (defaults 100000, 10000)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
"$WRUN_ROOT/scripts/build.sh" >&2
TASKS="${1:-100000}"
ACTORS="${2:-10000}"
STATE=$(mktemp -d "${TMPDIR:-/tmp}/wrun-bench-dashboard.XXXXXX")
export WRUN_STATE_DIR="$STATE"
trap '"$WRUN_BIN" stop >/dev/null 2>&1 || true; rm -rf "$STATE"' EXIT
"$WRUN_BIN" start --head --port 0 --dashboard-port 0 \
    --task-history $((TASKS + 2 * ACTORS)) >/dev/null
ADDRESS=$(cat "$STATE/head.addr")
# The head's own node joins just after the head starts.
for _ in $(seq 100); do
    "$WRUN_BIN" list nodes --filter state=alive --json 2>/dev/null | grep -q '"id"' && break
    sleep 0.1
done
SITE="https://$(cat "$STATE/dashboard.addr")"
JAR="$STATE/cookies"
curl -sk -c "$JAR" -o /dev/null --data-urlencode "token=$(cat "$STATE/cluster.token")" "$SITE/login"
t0=$(date +%s%N)
"$WRUN_BIN" submit -q --address "$ADDRESS" --env "$WRUN_ROOT/bench/env.toml" \
    "$WRUN_EXAMPLES_DIR/bench.wasm" crowd "$TASKS" "$ACTORS" 2>/dev/null >/dev/null
echo "job: $TASKS tasks and $ACTORS actors in $(( ($(date +%s%N) - t0) / 1000000 )) ms" >&2
JOB=$("$WRUN_BIN" list jobs --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')

median_ms() { # URL -> median ms of 5 calls, and the body size
    local times=() size=0
    for _ in 1 2 3 4 5; do
        read -r t s < <(curl -sk -b "$JAR" -o /dev/null -w '%{time_total} %{size_download}\n' "$1")
        times+=("$t"); size=$s
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n 3p | awk -v s="$size" '{printf "%8.1f ms  %9d bytes", $1 * 1000, s}'
}
printf '%-44s %s\n' "call (job $JOB)" "median of 5"
for path in "/api/status" \
    "/api/summary/tasks?job=$JOB" \
    "/api/list/tasks?filter=job=$JOB&limit=100" \
    "/api/summary/actors?job=$JOB" \
    "/api/list/actors?filter=job=$JOB&limit=100" \
    "/api/memory" \
    "/api/jobs/$JOB/timeline"; do
    printf '%-44s %s\n' "${path%%\?*}" "$(median_ms "$SITE$path")"
done
times=()
for _ in 1 2 3 4 5; do
    t0=$(date +%s%N)
    "$WRUN_BIN" list tasks --filter "job=$JOB" --limit 100 --json >/dev/null 2>&1
    times+=($(( ($(date +%s%N) - t0) / 1000000 )))
done
printf '%-44s %8s ms\n' "wrun list tasks --limit 100" "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)"

#!/usr/bin/env bash
# The HTTP provider at scale, against tests/fault_server (no faults) on
# loopback, answering each request after a fixed latency (a model's time):
#   1. throughput of `alab eval` with 16 requests in flight vs 1, the same
#      generation task, in the same run; prints the ratio;
#   2. a rerun of a 1,000-request eval answered entirely from the SQLite
#      response cache (nothing sent): its wall time.
# Usage: bench/bench_provider.sh [BUILD_DIR] (env DELAY_MS=200, N1=40, N16=320, NCACHE=1000)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
delay=${DELAY_MS:-200}; n1=${N1:-40}; n16=${N16:-320}; ncache=${NCACHE:-1000}
cmake --build "$build" --target fault_server alab >/dev/null
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
"$build/tests/fault_server" --port 0 --delay-ms "$delay" >"$tmp/port" &
pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/port" && break; sleep 0.1; done
base="$(grep -o 'http://[0-9.:]*' "$tmp/port")/v1"
task() { for i in $(seq "$2"); do printf '{"prompt": "%s %d", "target": "x"}\n' "$1" "$i"; done >"$tmp/$1.jsonl"; }
now() { date +%s.%N; }
run() { # NAME CONCURRENCY [flags]: wall seconds
  local name=$1 c=$2; shift 2
  local t0; t0=$(now)
  "$build/alab" eval --api-base "$base" --api-model m --task "$tmp/$name.jsonl" --api-concurrency "$c" --quiet "$@" >/dev/null
  echo "$(now) - $t0" | bc -l
}
task one "$n1"; task sixteen "$n16"; task cached "$ncache"
t1=$(run one 1 --cache off)
t16=$(run sixteen 16 --cache off)
r1=$(echo "$n1 / $t1" | bc -l); r16=$(echo "$n16 / $t16" | bc -l)
printf 'latency %d ms: 1 in flight %.2f req/s (%d requests), 16 in flight %.2f req/s (%d requests): %.1fx\n' \
  "$delay" "$r1" "$n1" "$r16" "$n16" "$(echo "$r16 / $r1" | bc -l)"
tc=$(run cached 16 --cache "$tmp/cache.sqlite")
tr=$(run cached 16 --cache "$tmp/cache.sqlite")
printf '%d requests: first run %.2f s, rerun from the cache %.3f s\n' "$ncache" "$tc" "$tr"

#!/usr/bin/env bash
# Scoring throughput of the local provider (bench/bench_score.c): KV-cache
# reuse + batching vs the naive path, same task and model, one run.
# usage: bench/bench_score.sh [build dir (default build)] [examples] [prompt tokens] [n_embd] [n_layer]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cmake --build "$build" --target bench_score >/dev/null
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
"$build/tests/bench_score" "${2:-16}" "${3:-400}" "${4:-256}" "${5:-4}"

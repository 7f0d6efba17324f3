#!/usr/bin/env bash
# Sandboxed execution of a short passing test: programs per second through
# alab's sandbox (bubblewrap + rlimits + seccomp), against the same programs
# run without namespaces, for 1, 2, 4 and 8 workers on this machine.
# Target: at least 50 per second on 2 cores.
# usage: bench/bench_sandbox.sh [build dir (default build)] [programs (default 300)]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
n=${2:-300}
cmake --build "$build" --target bench_sandbox >/dev/null
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for w in 1 2 4 8; do "$build/tests/bench_sandbox" "$n" "$w"; done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

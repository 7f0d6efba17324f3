#!/usr/bin/env bash
# Data-parallel training against one process, same machine, same run, same
# global batch: GPT-2 small (12 layers, 768 channels, 12 heads, vocabulary
# padded to 50,257) on the story world, 2 micro-batches of B x T per step.
#   one process, 2 threads          vs   mpirun -n 2, 1 thread per rank
#   (and mpirun -n 2 --deterministic-reduce, which broadcasts each micro-batch's gradient)
# Prints each run's steady tokens/s (alab's own, after 2 warm-up steps) and
# the ratio. Usage: bench/bench_mpi.sh [build-dir] [steps] [B] [T]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build}/alab; steps=${2:-6}; B=${3:-2}; T=${4:-128}
[ -x "$bin" ] || { echo "build alab first (cmake --build build)" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
args="--data story:3000 --tokenizer bpe:512 --vocab 50257 --layers 12 --heads 12 --embd 768 --context $T --seq-len $T
      --batch $B --accum 2 --steps $steps --warmup 1 --eval-every 100000 --ckpt-every 0 --quiet"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
rate() { sed -n 's/.*(\([0-9.]*\) tokens\/s).*/\1/p' "$1"; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" train $args --threads 2 --out "$tmp/one" >"$tmp/one.log"
mpirun --oversubscribe --mca btl self,vader -n 2 "$bin" train $args --threads 1 --out "$tmp/two" >"$tmp/two.log"
mpirun --oversubscribe --mca btl self,vader -n 2 "$bin" train $args --threads 1 --deterministic-reduce --out "$tmp/det" >"$tmp/det.log"
one=$(rate "$tmp/one.log"); two=$(rate "$tmp/two.log"); det=$(rate "$tmp/det.log")
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'one process, 2 threads:          %8.1f tokens/s\n' "$one"
printf 'mpirun -n 2, 1 thread each:      %8.1f tokens/s  (%.3fx)\n' "$two" "$(echo "$two / $one" | bc -l)"
printf 'mpirun -n 2, deterministic sum:  %8.1f tokens/s  (%.3fx)\n' "$det" "$(echo "$det / $one" | bc -l)"

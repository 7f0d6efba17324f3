#!/usr/bin/env bash
# Data-parallel training against one process, same machine, same run, same
# global batch: GPT-2 small (12 layers, 768 channels, 12 heads, vocabulary
# padded to 50,257) on the story world, ACCUM micro-batches of B x T per step.
#   one process, 1 thread          (the time of one micro-batch on one core: the model's T_c)
#   one process, 2 threads         (the baseline)
#   mpirun -n 2, 1 thread per rank (and with --deterministic-reduce, --zero1, --overlap-reduce)
#   mpirun -n 3, 1 thread per rank (3 ranks on this machine's 2 cores)
# Prints each run's steady tokens/s (alab's own, after 2 warm-up steps), its
# ratio to the baseline, and the step time the model of bench/README.md
# predicts from the 1-thread run and the measured gradient sums (bench_dist_sum).
# Usage: bench/bench_mpi.sh [build-dir] [steps] [B] [T] [accum]
# ROWS="one1 two over three" (env) runs only those rows (names below); default all.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}; bin=$build/alab; steps=${2:-5}; B=${3:-1}; T=${4:-128}; G=${5:-6}
[ -x "$bin" ] || { echo "build alab first (cmake --build build)" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
args="--data story:3000 --tokenizer bpe:512 --vocab 50257 --layers 12 --heads 12 --embd 768 --context $T --seq-len $T
      --batch $B --accum $G --steps $steps --warmup 1 --eval-every 100000 --ckpt-every 0 --quiet"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi="mpirun --oversubscribe --mca btl self,vader"
rate() { sed -n 's/.*(\([0-9.]*\) tokens\/s).*/\1/p' "$1"; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
rows=${ROWS:-one1 one2 two det zero over three}
run() {
  local name=$1; shift
  case " $rows " in *" $name "*) ;; *) return 0;; esac
  /usr/bin/time -f "%U user %S sys %e wall" "$@" $args --out "$tmp/$name" >"$tmp/$name.log" 2>&1
  echo "$name done at load $(cut -d' ' -f1-3 /proc/loadavg)"
}
run one1 "$bin" train --threads 1
run one2 "$bin" train --threads 2
run two $mpi -n 2 "$bin" train --threads 1
run over $mpi -n 2 "$bin" train --threads 1 --overlap-reduce
run det $mpi -n 2 "$bin" train --threads 1 --deterministic-reduce
run zero $mpi -n 2 "$bin" train --threads 1 --zero1
run three $mpi -n 3 "$bin" train --threads 1
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
base_run=one2; [ -f "$tmp/one2.log" ] || base_run=one1
base=$(rate "$tmp/$base_run.log"); tokens=$((B * T * G))
echo "ratios against: $base_run"
for r in one1:"one process, 1 thread" one2:"one process, 2 threads" two:"mpirun -n 2, 1 thread each" \
         over:"mpirun -n 2, --overlap-reduce" det:"mpirun -n 2, deterministic sum" zero:"mpirun -n 2, --zero1" \
         three:"mpirun -n 3, 1 thread each"; do
  name=${r%%:*}; [ -f "$tmp/$name.log" ] || continue; v=$(rate "$tmp/$name.log")
  printf '%-32s %8.1f tokens/s  %.3fx  %.2f s/step  (%s)\n' "${r#*:}" "$v" "$(echo "$v / $base" | bc -l)" \
    "$(echo "$tokens / $v" | bc -l)" "$(tail -1 "$tmp/$name.log")"
done
# the model: T(R) = ceil(G/R) micro-batches x t_mb x max(1, R / cores) + T_sum(R)
# (R ranks on fewer cores share them: each rank's compute takes R / cores as long)
if [ -x "$build/tests/bench_dist_sum" ] && [ -f "$tmp/one1.log" ]; then
  tmb=$(echo "$B * $T / $(rate "$tmp/one1.log")" | bc -l); cores=$(nproc)
  for R in 2 3; do
    sum=$($mpi -n $R "$build/tests/bench_dist_sum" | sed -n 's/.*: \([0-9.]*\) s per sum.*/\1/p')
    g=$(( (G + R - 1) / R ))
    pred=$(echo "s=$R / $cores; if (s < 1) s=1; $g * $tmb * s + $sum" | bc -l)
    printf 'model, %d ranks: %d x %.2f s x %.2f + T_sum %.2f s = %.2f s/step\n' "$R" "$g" "$tmb" \
      "$(echo "s=$R / $cores; if (s < 1) s=1; s" | bc -l)" "$sum" "$pred"
  done
fi

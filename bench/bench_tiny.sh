#!/usr/bin/env bash
# The small-model regime in CPU time: training throughput of alab and of
# PyTorch (bench/train_torch.py, tuned environment as in bench_train.sh) on
# one small GPT-2, as tokens per CPU-second, and alab's GFLOP per CPU-second
# against the sgemm rate measured in the same run (bench/sgemm_peak.c
# shapes: 2048^3, and the model's own products alone, called as alab calls
# them). CPU time, not wall time, so that the figures mean something on a
# machine shared with other work (the load is printed with each row); on
# idle cores tokens/s = tokens per CPU-s x threads.
#
# alab's steps are timed as the difference of two runs (S and 3S steps,
# same data and setup), so start-up and data preparation cancel out.
#
# usage: bench/bench_tiny.sh [tiny|collapse ...]   (default: tiny collapse)
# env: THREADS (default 1), REPEAT (rows per config, default 1)
#   tiny: 4 layers, 4 heads, 128 channels, context 128, vocab 512, batch 16
#   collapse: 2, 4, 64, 64, 512, 8 (the models `alab collapse` trains, 137k parameters)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
alab=${ALAB_BIN:-$root/build/alab}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O3 -march=native -fopenmp -o "$work/sgemm_peak" "$root/bench/sgemm_peak.c" -lopenblas
threads=${THREADS:-1}
repeat=${REPEAT:-1}
configs=${*:-tiny collapse}
jemalloc=$(ls /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 2>/dev/null || true)
tuned() {
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE ${jemalloc:+LD_PRELOAD=$jemalloc} \
    MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 "$@"
}
spec() { # layers heads embd context vocab batch steps
  case $1 in
    tiny) echo "4 4 128 128 512 16 15" ;;
    collapse) echo "2 4 64 64 512 8 60" ;;
    *) echo "unknown config $1" >&2; exit 2 ;;
  esac
}
cpu_of() { # CPU seconds (user + sys) of a command or function
  local TIMEFORMAT='%U %S'
  { time "$@" >/dev/null 2>&1; } 2>"$work/t"
  awk '{print $1 + $2}' "$work/t"
}
alab_run() { # alab_run STEPS
  tuned "$alab" train --data story:3000 --tokenizer byte --vocab "$V" --layers "$L" --heads "$H" --embd "$C" \
    --context "$T" --seq-len "$T" --batch "$B" --steps "$1" --eval-every 100000 --ckpt-every 0 --val-frac 0.01 \
    --threads "$threads" --quiet --overwrite --out "$work/m"
}
printf "%-8s %7s %12s %12s %7s %9s %9s %9s %7s %s\n" config threads alab_tok/cpus torch_tok/cpus a/t \
  alab_GF/cs mm_GF/cs 2048_GF/cs of2048 load
for cfg in $configs; do
  read -r L H C T V B S <<<"$(spec "$cfg")"
  flops=$(python3 -c "L,H,C,T,V=$L,$H,$C,$T,$V; p=V*C+T*C+L*(12*C*C+13*C)+2*C; print(6*p+12*L*T*C)")
  for _ in $(seq "$repeat"); do
    shapes=$(tuned "$work/sgemm_peak" "$threads" shapes "$L" "$C" "$T" "$V" "$B" "$H")
    mm=$(awk '/^all_gflops/ {print $2}' <<<"$shapes")
    big=$(awk '/^split_2048_gflops/ {print $2}' <<<"$shapes")
    c1=$(cpu_of alab_run "$S")
    c3=$(cpu_of alab_run $((3 * S)))
    tt=$(tuned /usr/bin/python3 "$root/bench/train_torch.py" "$L" "$H" "$C" "$T" "$V" "$B" $((2 * S)) "$threads" cpu |
      awk '{print $2}')
    load=$(cut -d' ' -f1 /proc/loadavg)
    python3 -c "
c1,c3,S,B,T,f,t,mm,big=$c1,$c3,$S,$B,$T,$flops,$tt,$mm,$big
a=2*S*B*T/(c3-c1); g=a*f*$threads/1e9
print('%-8s %7d %12.0f %12.0f %6.2fx %9.1f %9.1f %9.1f %6.0f%% %s'%('$cfg',$threads,a,t,a/t,g,mm,big,100*g/big,'$load'))"
  done
done
echo "(tok/cpus: tokens per CPU-second; GF/cs: GFLOP per CPU-second x threads, the GFLOP/s idle cores would give;"
echo " mm: the model's matrix products alone; of2048: alab's rate / 2048^3's)"

#!/usr/bin/env bash
# Training and decoding throughput: alab against PyTorch on the same work, in
# one run, under the machine's default environment and under a tuned one
# (OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset, jemalloc with page return off,
# OMP_WAIT_POLICY=PASSIVE) that gives PyTorch its best here. Both sides use
# fp32, AdamW, the same batch and context, and 2 threads.
#
# usage: bench/bench_train.sh [configs...]   (default: tiny small gpt2)
# Prints a table: tokens/s of each side, the ratio, and alab's achieved
# GFLOP/s as a fraction of the measured sgemm peak.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
alab=${ALAB_BIN:-$root/build/alab}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O3 -march=native -fopenmp -o "$work/sgemm_peak" "$root/bench/sgemm_peak.c" -lopenblas
threads=2
configs=${*:-tiny small gpt2}

# name: layers heads embd context vocab batch steps
spec() {
  case $1 in
    tiny) echo "4 4 128 128 512 16 30" ;;
    small) echo "6 6 384 256 4096 8 12" ;;
    gpt2) echo "12 12 768 256 50257 8 6" ;;
    *) echo "unknown config $1" >&2; exit 2 ;;
  esac
}

jemalloc=$(ls /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 2>/dev/null || true)
run_env() { # run_env default|tuned CMD...
  if [ "$1" = tuned ]; then
    shift
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE ${jemalloc:+LD_PRELOAD=$jemalloc} \
      MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 "$@"
  else
    shift
    "$@"
  fi
}

printf "%-6s %-7s %12s %12s %7s %9s %7s\n" config env alab_tok/s torch_tok/s ratio GFLOP/s peak%
for envname in default tuned; do
  peak=$(run_env $envname "$work/sgemm_peak" $threads | awk '{print $2}')
  for cfg in $configs; do
    read -r L H C T V B S <<<"$(spec "$cfg")"
    out=$(run_env $envname "$alab" train --data story:3000 --tokenizer byte --vocab "$V" --layers "$L" --heads "$H" \
      --embd "$C" --context "$T" --seq-len "$T" --batch "$B" --steps "$S" --eval-every "$S" --ckpt-every 0 \
      --val-frac 0.01 --threads $threads --quiet --overwrite --out "$work/m_$cfg")
    a=$(echo "$out" | sed -n 's/.*(\([0-9.]*\) tokens\/s).*/\1/p')
    t=$(run_env $envname /usr/bin/python3 "$root/bench/train_torch.py" "$L" "$H" "$C" "$T" "$V" "$B" "$S" $threads | awk '{print $2}')
    # training FLOPs per token: 6 * params + attention 12 * L * T * C (fwd + bwd)
    flops=$(python3 -c "L,H,C,T,V=$L,$H,$C,$T,$V; p=V*C+T*C+L*(12*C*C+13*C)+2*C; print(6*p+12*L*T*C)")
    python3 -c "a,t,f,pk=$a,$t,$flops,$peak; g=a*f/1e9; print('%-6s %-7s %12.0f %12.0f %6.2fx %9.1f %6.1f%%'%('$cfg','$envname',a,t,a/t,g,100*g/pk))"
  done
  echo "($envname: sgemm peak $peak GFLOP/s with $threads threads)"
done

# decoding one token at a time with the KV cache, GPT-2 small shape
read -r L H C T V B S <<<"$(spec gpt2)"
bw=$("$work/sgemm_peak" $threads bw | awk '{print $2}')
echo "(memory read bandwidth: $bw GB/s with $threads threads)"
for envname in default tuned; do
  d=$(run_env $envname "$alab" sample --model "$work/m_gpt2" --tokens 128 --temperature 0 --no-stop-at-eot \
      --threads $threads 2>&1 >/dev/null | sed -n 's/.*(\([0-9.]*\) tokens\/s).*/\1/p')
  t=$(run_env $envname /usr/bin/python3 "$root/bench/train_torch.py" "$L" "$H" "$C" 1024 "$V" 1 128 $threads decode | awk '{print $2}')
  python3 -c "a,t=$d,$t; bytes=4*($V*$C+$L*12*$C*$C); print('decode %-7s alab %.1f tok/s, torch %.1f tok/s, ratio %.2fx, alab reads %.0f MB/token -> %.1f GB/s' % ('$envname', a, t, a/t, bytes/1e6, a*bytes/1e9) + ' = %.0f%% of the bound' % (100*a*bytes/1e9/$bw))"
done

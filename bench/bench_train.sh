#!/usr/bin/env bash
# Training and decoding throughput: alab against PyTorch on the same work, in
# one run, under the machine's default environment and under a tuned one
# (OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset, jemalloc with page return off,
# OMP_WAIT_POLICY=PASSIVE) that gives PyTorch its best here. Both sides use
# AdamW, the same batch and context, and 2 threads, in two precisions: fp32,
# and bf16 mixed precision (alab --precision bf16; PyTorch under
# torch.autocast("cpu", dtype=torch.bfloat16)), each pair back to back.
#
# usage: bench/bench_train.sh [configs...]   (default: tiny small gpt2)
# env: ENVS (default "default tuned"), REPEAT (rows per config, default 1)
# Prints a table: tokens/s of each side in each precision, the ratios, and
# alab's fp32 GFLOP/s as a fraction of the measured sgemm peak; then
# decoding (GPT-2 small shape) in both precisions.
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

envs=${ENVS:-default tuned}
repeat=${REPEAT:-1}
tok_s() { sed -n 's/.*(\([0-9.]*\) tokens\/s).*/\1/p'; }
printf "%-6s %-7s %9s %9s %6s %9s %9s %7s %7s %8s %6s %s\n" config env alab_fp32 alab_bf16 bf/fp torch_fp32 torch_bf16 \
  a/t_fp32 a/t_bf16 GFLOP/s peak% load
for envname in $envs; do
  peak=$(run_env $envname "$work/sgemm_peak" $threads | awk '{print $2}')
  for cfg in $configs; do
    read -r L H C T V B S <<<"$(spec "$cfg")"
    for _ in $(seq "$repeat"); do
      declare -A a t
      for prec in fp32 bf16; do
        a[$prec]=$(run_env $envname "$alab" train --data story:3000 --tokenizer byte --vocab "$V" --layers "$L" --heads "$H" \
          --embd "$C" --context "$T" --seq-len "$T" --batch "$B" --steps "$S" --eval-every "$S" --ckpt-every 0 \
          --val-frac 0.01 --threads $threads --quiet --overwrite --out "$work/m_${cfg}_$prec" --precision $prec | tok_s)
        t[$prec]=$(run_env $envname /usr/bin/python3 "$root/bench/train_torch.py" "$L" "$H" "$C" "$T" "$V" "$B" "$S" $threads \
          $([ $prec = bf16 ] && echo bf16) | awk '{print $2}')
      done
      load=$(cut -d' ' -f1 /proc/loadavg)
      # training FLOPs per token: 6 * params + attention 12 * L * T * C (fwd + bwd)
      flops=$(python3 -c "L,H,C,T,V=$L,$H,$C,$T,$V; p=V*C+T*C+L*(12*C*C+13*C)+2*C; print(6*p+12*L*T*C)")
      python3 -c "a,b,t,u,f,pk=${a[fp32]},${a[bf16]},${t[fp32]},${t[bf16]},$flops,$peak; g=a*f/1e9
print('%-6s %-7s %9.0f %9.0f %5.2fx %9.0f %9.0f %6.2fx %6.2fx %8.1f %5.1f%% %s'%('$cfg','$envname',a,b,b/a,t,u,a/t,b/u,g,100*g/pk,'$load'))"
    done
  done
  echo "($envname: sgemm peak $peak GFLOP/s with $threads threads)"
done

# decoding one token at a time with the KV cache, GPT-2 small shape, in
# fp32 and reading bf16 weights (half the bytes per token)
read -r L H C T V B S <<<"$(spec gpt2)"
[ -d "$work/m_gpt2_fp32" ] || "$alab" train --data story:3000 --tokenizer byte --vocab "$V" --layers "$L" --heads "$H" \
  --embd "$C" --context "$T" --seq-len 64 --batch 1 --steps 1 --ckpt-every 0 --val-frac 0.01 --threads $threads --quiet \
  --overwrite --out "$work/m_gpt2_fp32" >/dev/null
bw=$("$work/sgemm_peak" $threads bw | awk '{print $2}')
echo "(memory read bandwidth: $bw GB/s with $threads threads)"
for envname in $envs; do
  for _ in $(seq "$repeat"); do
    declare -A d
    for prec in fp32 bf16; do
      d[$prec]=$(run_env $envname "$alab" sample --model "$work/m_gpt2_fp32" --tokens 128 --temperature 0 --no-stop-at-eot \
        --threads $threads --precision $prec 2>&1 >/dev/null | tok_s)
    done
    t=$(run_env $envname /usr/bin/python3 "$root/bench/train_torch.py" "$L" "$H" "$C" 1024 "$V" 1 128 $threads decode | awk '{print $2}')
    load=$(cut -d' ' -f1 /proc/loadavg)
    python3 -c "a,b,t=${d[fp32]},${d[bf16]},$t; w=$V*$C+$L*12*$C*$C
print('decode %-7s alab fp32 %.1f tok/s, bf16 %.1f tok/s (%.2fx), torch fp32 %.1f tok/s (alab fp32 %.2fx); reads %.0f / %.0f MB/token -> %.1f / %.1f GB/s = %.0f%% / %.0f%% of the bound; load %s' % ('$envname', a, b, b/a, t, a/t, 4*w/1e6, 2*w/1e6, a*4*w/1e9, b*2*w/1e9, 100*a*4*w/1e9/$bw, 100*b*2*w/1e9/$bw, '$load'))"
  done
done

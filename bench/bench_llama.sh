#!/usr/bin/env bash
# Decoding, batch 1 with the KV cache, at the stories15M and stories110M
# shapes (llama2.c's TinyStories models) and GPT-2 small's: alab in fp32 and
# reading bf16 weights (`alab sample --precision bf16`), against PyTorch
# (bench/llama_decode_torch.py, the same Llama with its own KV cache) with
# fp32 weights and with bf16 weights, back to back in the same run, REPEAT
# rounds interleaved (a round runs every variant once, so load that comes
# and goes hits each alike), 2 threads each, under the tuned environment
# bench_train.sh describes (ENVS="default tuned" adds the machine's
# default). alab's achieved bandwidth (weight bytes read per token: 4 per
# weight in fp32, 2 in bf16) is set against the memory read bandwidth
# measured in the same run (bench/sgemm_peak.c bw). The load average is
# printed with every round: on a shared machine only the ratios within a
# round mean much, and the absolute tokens/s are lower bounds.
# The models are random, made with `alab train --steps 1` (speed does not
# depend on the weights). GPT-2 small has no PyTorch peer here
# (bench_train.sh has one); its row gives alab's bf16 / fp32.
# Also per round: alab fp32 on 1 thread (1t, and 2t/1t: what the second
# thread buys), the 2-thread fp32 run's voluntary context switches per
# token (cs/tok: barrier waits that ended in a futex sleep, each a wake-up
# to pay) and its CPU time over wall time (cpu/wall, 2.0 = both threads
# busy throughout; the model's loading, one thread, included), and alab
# against the llama2.c rates issue 21 quotes (l2c: run.c on a quiet machine,
# 522 tokens/s at 15M, 65 at 110M; run.c is not vendored, so not run here).
#
# usage: [REPEAT=3] [ENVS=tuned] [TOKENS=128] bench/bench_llama.sh [15M 110M gpt2]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
alab=${ALAB_BIN:-$root/build/alab}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O3 -march=native -fopenmp -o "$work/sgemm_peak" "$root/bench/sgemm_peak.c" -lopenblas
threads=2
tokens=${TOKENS:-128}
repeat=${REPEAT:-3}
envs=${ENVS:-tuned}
shapes=${*:-15M 110M gpt2}
# name: arch layers heads kv_heads embd ffn vocab context
spec() {
  case $1 in
    15M) echo "llama 6 6 6 288 768 32000 256" ;;
    110M) echo "llama 12 12 12 768 2048 32000 1024" ;;
    gpt2) echo "gpt2 12 12 12 768 3072 50257 1024" ;;
    *) echo "unknown shape $1" >&2; exit 2 ;;
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
echo "load before: $(cat /proc/loadavg)"
bw=$("$work/sgemm_peak" $threads bw | awk '{print $2}')
echo "(memory read bandwidth: $bw GB/s with $threads threads)"
printf "%-5s %-7s %5s %9s %9s %7s %10s %10s %9s %9s %8s %8s %7s %7s %6s %8s %9s %9s %s\n" shape env round alab_fp32 \
  alab_bf16 bf/fp torch_fp32 torch_bf16 a/t_fp32 a/t_bf16 bound32 bound16 fp32_1t 2t/1t cs/tok cpu/wall fp32/l2c \
  bf16/l2c load
for shape in $shapes; do
  read -r arch L H KVH C F V T <<<"$(spec "$shape")"
  "$alab" train --arch "$arch" --data story:300 --tokenizer byte --vocab "$V" --layers "$L" --heads "$H" --embd "$C" \
    --context "$T" --seq-len 32 --batch 1 --steps 1 --eval-every 1 --eval-batches 1 --ckpt-every 0 --threads $threads \
    --quiet --out "$work/m_$shape" >/dev/null
  rm -f "$work/m_$shape/trainer_state.safetensors"
  for envname in $envs; do
    for round in $(seq "$repeat"); do
      declare -A a=() t=()
      a[1t]=$(run_env $envname "$alab" sample --model "$work/m_$shape" --tokens $tokens --temperature 0 \
        --no-stop-at-eot --threads 1 2>&1 >/dev/null | sed -n 's/.*(\([0-9.]*\) tokens\/s).*/\1/p')
      for prec in fp32 bf16; do
        a[$prec]=$(run_env $envname /usr/bin/time -o "$work/time_$prec" -f "%e %U %S %w" "$alab" sample \
          --model "$work/m_$shape" --tokens $tokens --temperature 0 --no-stop-at-eot --threads $threads \
          --precision $prec 2>&1 >/dev/null | sed -n 's/.*(\([0-9.]*\) tokens\/s).*/\1/p')
        t[$prec]=0
        [ "$arch" = llama ] && t[$prec]=$(run_env $envname /usr/bin/python3 "$root/bench/llama_decode_torch.py" "$L" "$H" \
          "$KVH" "$C" "$F" "$V" $tokens $threads $prec | awk '{print $2}')
      done
      load=$(cut -d' ' -f1 /proc/loadavg)
      read -r wall usr sys vcs <"$work/time_fp32"
      python3 -c "
a,b,t,u,bw=${a[fp32]},${a[bf16]},${t[fp32]},${t[bf16]},$bw; L,H,KVH,C,F,V=$L,$H,$KVH,$C,$F,$V
a1,wall,cpu,vcs=${a[1t]},$wall,$usr+$sys,$vcs; l2c={'15M':522,'110M':65}.get('$shape',0)
KV=KVH*C//H
w=L*(C*(C+2*KV)+C*C+3*C*F)+V*C if '$arch'=='llama' else L*12*C*C+V*C
r=lambda x,y: '%8.2fx' % (x/y) if y else '%9s' % '-'
print('%-5s %-7s %5s %9.1f %9.1f %6.2fx %10.1f %10.1f %s %s %7.0f%% %7.0f%% %7.1f %6.2fx %6.1f %8.2f %s %s %s' % (
      '$shape','$envname',$round,a,b,b/a,t,u,r(a,t),r(b,u),100*a*4*w/1e9/bw,100*b*2*w/1e9/bw,a1,a/a1,vcs/$tokens,cpu/wall,
      r(a,l2c),r(b,l2c),'$load'))"
    done
  done
done
echo "load after: $(cat /proc/loadavg)"

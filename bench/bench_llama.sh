#!/usr/bin/env bash
# Llama decoding, batch 1 with the KV cache, at the stories15M and
# stories110M shapes (llama2.c's TinyStories models): alab against PyTorch
# (bench/llama_decode_torch.py, the same Llama with its own KV cache) in the
# same run, 2 threads each, under the machine's default environment and the
# tuned one bench_train.sh describes; and alab's achieved bandwidth against
# the memory read bandwidth measured in the same run (bench/sgemm_peak.c bw).
# The models are random Llamas made with `alab train --arch llama --steps 1`
# (speed does not depend on the weights).
#
# usage: bench/bench_llama.sh [15M 110M]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
alab=${ALAB_BIN:-$root/build/alab}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O3 -march=native -fopenmp -o "$work/sgemm_peak" "$root/bench/sgemm_peak.c" -lopenblas
threads=2
tokens=128
shapes=${*:-15M 110M}
# name: layers heads kv_heads embd ffn vocab context
spec() {
  case $1 in
    15M) echo "6 6 6 288 768 32000 256" ;;
    110M) echo "12 12 12 768 2048 32000 1024" ;;
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
for shape in $shapes; do
  read -r L H KVH C F V T <<<"$(spec "$shape")"
  "$alab" train --arch llama --data story:300 --tokenizer byte --vocab "$V" --layers "$L" --heads "$H" --embd "$C" \
    --context "$T" --seq-len 32 --batch 1 --steps 1 --eval-every 1 --eval-batches 1 --ckpt-every 0 --threads $threads \
    --quiet --out "$work/m_$shape" >/dev/null
  for envname in default tuned; do
    a=$(run_env $envname "$alab" sample --model "$work/m_$shape" --tokens $tokens --temperature 0 --no-stop-at-eot \
        --threads $threads 2>&1 >/dev/null | sed -n 's/.*(\([0-9.]*\) tokens\/s).*/\1/p')
    t=$(run_env $envname /usr/bin/python3 "$root/bench/llama_decode_torch.py" "$L" "$H" "$KVH" "$C" "$F" "$V" $tokens \
        $threads | awk '{print $2}')
    python3 -c "
a,t,bw=$a,$t,$bw; L,H,KVH,C,F,V=$L,$H,$KVH,$C,$F,$V; KV=KVH*C//H
b=4*(L*(C*(C+2*KV)+C*C+3*C*F)+V*C)
print('decode %-5s %-7s alab %7.1f tok/s, torch %7.1f tok/s, ratio %.2fx; %.0f MB/token -> %.1f GB/s = %.0f%% of the bound'
      % ('$shape', '$envname', a, t, a/t, b/1e6, a*b/1e9, 100*a*b/1e9/bw))"
  done
done
echo "load after: $(cat /proc/loadavg)"

#!/usr/bin/env bash
# Training speed of a Llama against alab's GPT-2 at equal FLOPs per token, in
# the same run: GPT-2 small's shape (12 layers, 12 heads, 768 channels,
# context 256, vocab 50257, batch 8) and a Llama of the same size (SwiGLU
# width 2048 = 8C/3, so 3 x 768 x 2048 MLP weights = GPT-2's 2 x 768 x 3072;
# attention and head the same; its head is untied, which adds the head's
# AdamW update but no matrix FLOPs). Both with 2 threads, steady-state
# tokens/s as alab train reports it.
#
# usage: bench/bench_llama_train.sh [steps (6)]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
alab=${ALAB_BIN:-$root/build/alab}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
steps=${1:-6}
echo "load before: $(cat /proc/loadavg)"
for arch in gpt2 llama; do
  out=$("$alab" train --arch $arch --data story:3000 --tokenizer byte --vocab 50257 --layers 12 --heads 12 --embd 768 \
    --context 256 --seq-len 256 --batch 8 --steps "$steps" --eval-every "$steps" --eval-batches 1 --ckpt-every 0 \
    --val-frac 0.01 --threads 2 --quiet --overwrite --out "$work/$arch")
  tps=$(echo "$out" | sed -n 's/.*(\([0-9.]*\) tokens\/s).*/\1/p')
  echo "$arch $tps"
  eval "tps_$arch=$tps"
done
python3 -c "g,l=$tps_gpt2,$tps_llama; print('train GPT-2-small shape: gpt2 %.0f tok/s, llama %.0f tok/s, llama/gpt2 = %.2f' % (g, l, l/g))"
echo "load after: $(cat /proc/loadavg)"

#!/usr/bin/env bash
# Training speed of a Llama against alab's GPT-2 at equal FLOPs per token, in
# the same run: GPT-2 small's shape (12 layers, 12 heads, 768 channels,
# context 256, vocab 50257) and a Llama of the same size (SwiGLU width
# 2048 = 8C/3, so 3 x 768 x 2048 MLP weights = GPT-2's 2 x 768 x 3072;
# attention and head the same; its head is untied, which adds the head's
# AdamW update but no matrix FLOPs).
#
# Two measures, both as ratios llama/gpt2:
#   wall   steady-state tokens/s as alab train reports it (steps 3..N), at
#          THREADS threads: what a user sees, but on a shared machine it
#          measures the scheduler as much as the code;
#   cpu    CPU seconds per training step, (cpu(N steps) - cpu(2 steps)) / (N - 2)
#          from /usr/bin/time, one thread (no spinning OpenMP waits in the
#          count), so setup, evaluation and the final save cancel: this one
#          holds up when other work loads the machine.
#
# usage: bench/bench_llama_train.sh [steps (6)] [batch (8)]   (THREADS=2 by default for the wall measure)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
alab=${ALAB_BIN:-$root/build/alab}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
steps=${1:-6}
batch=${2:-8}
threads=${THREADS:-2}
train() { # train ARCH STEPS THREADS -> "tokens/s cpu_seconds"
  local t="$work/time"
  local out
  out=$(/usr/bin/time -f "%U %S" -o "$t" "$alab" train --arch "$1" --data story:3000 --tokenizer byte --vocab 50257 \
    --layers 12 --heads 12 --embd 768 --context 256 --seq-len 256 --batch "$batch" --steps "$2" --eval-every "$2" \
    --eval-batches 1 --ckpt-every 0 --val-frac 0.01 --threads "$3" --quiet --overwrite --out "$work/$1")
  echo "$(echo "$out" | sed -n 's/.*(\([0-9.]*\) tokens\/s).*/\1/p') $(awk '{print $1 + $2}' "$t")"
}
echo "load before: $(cat /proc/loadavg)"
for arch in gpt2 llama; do
  read -r tps _ <<<"$(train $arch "$steps" "$threads")"
  read -r _ cpu_n <<<"$(train $arch "$steps" 1)"
  read -r _ cpu_2 <<<"$(train $arch 2 1)"
  echo "$arch: $tps tokens/s ($threads threads); cpu ${cpu_n} s ($steps steps) - ${cpu_2} s (2 steps), 1 thread"
  eval "tps_$arch=$tps cpu_$arch=\$(python3 -c 'print(($cpu_n - $cpu_2) / ($steps - 2))')"
done
python3 -c "
g, l, cg, cl = $tps_gpt2, $tps_llama, $cpu_gpt2, $cpu_llama
print('train GPT-2-small shape, batch $batch: wall gpt2 %.0f tok/s, llama %.0f tok/s, llama/gpt2 = %.2f' % (g, l, l / g))
print('  cpu per step (1 thread): gpt2 %.2f s, llama %.2f s, llama/gpt2 speed = %.3f' % (cg, cl, cg / cl))"
echo "load after: $(cat /proc/loadavg)"

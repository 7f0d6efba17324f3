#!/usr/bin/env bash
# RL rollouts, in one run: `alab rl` (PPO, 4 epochs x 2 minibatches) on a
# story-world GPT-2 with the exact gold reward, printing rollout tokens/s
# (sampling alone, batched decoding) and the split of its time between
# generating a batch (sampling, scoring, the old and reference passes) and
# the updates; then PyTorch sampling the same number of responses of the same
# length from the same model directory (all rows in one batch, KV cache),
# and the ratio of the two sampling rates.
#
# usage: bench/bench_rl.sh [iters]   (default 3; THREADS=2)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
alab=${ALAB_BIN:-$root/build/alab}
threads=${THREADS:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
iters=${1:-3}
P=4 K=8 N=64
"$alab" train --data story:2000 --tokenizer byte --layers 4 --heads 4 --embd 128 --context 256 --seq-len 128 \
  --steps 30 --eval-every 1000 --threads "$threads" --quiet --out "$work/lm" >/dev/null
for p in "Once upon a time" "One day, a little" "Lily had a red" "Tom and his dog"; do
  printf '{"prompt": "%s"}\n' "$p"
done >"$work/prompts.jsonl"
out=$("$alab" rl --policy "$work/lm" --gold-story --prompts "$work/prompts.jsonl" --algo ppo --iters "$iters" \
  --prompts-per-iter $P --k $K --max-new $N --threads "$threads" --quiet --out "$work/rl")
echo "$out"
alab_tps=$(echo "$out" | sed -n 's/.*sampled (\([0-9.]*\) tokens\/s).*/\1/p')
ids=$(printf 'Once upon a time' | od -An -tu1 | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
torch_tps=$(/usr/bin/python3 "$root/bench/rl_sample_torch.py" "$work/lm" "$ids" $K $N "$threads" | awk '{print $2}')
echo "alab sampling $alab_tps tokens/s (groups of 8, one prompt at a time), PyTorch $torch_tps tokens/s ($K rows in one batch)"
/usr/bin/python3 -c "print(f'ratio alab / PyTorch: {float($alab_tps) / float($torch_tps):.2f}')"
echo "load: $(cat /proc/loadavg)"

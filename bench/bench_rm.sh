#!/usr/bin/env bash
# Reward-model training against language-model training at the same shape,
# in one run: the same trunk (layers, channels, context), the same rows of
# seq-len tokens per step (a reward-model batch of B pairs is 2B rows), the
# same threads. Prints steady-state tokens/s of each (rows x seq-len per
# second, the optimizer steps after 2 warm-up steps) and their ratio.
# Target: the reward model within 10% of LM training.
#
# usage: bench/bench_rm.sh [steps]   (default 12)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
alab=${ALAB_BIN:-$root/build/alab}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
steps=${1:-12}
shape="--context 256 --seq-len 256 --threads ${THREADS:-2} --quiet --eval-every 1000 --steps $steps"
# pairs of whole stories (about 240 tokens each), so few rows are padding
"$alab" data synth --n 2000 --format jsonl --out "$work/stories.jsonl" >/dev/null
/usr/bin/python3 - "$work/stories.jsonl" "$work/pairs.jsonl" <<'PY'
import json, sys
t = [json.loads(l)["text"] for l in open(sys.argv[1])]
with open(sys.argv[2], "w") as f:
    for a, b in zip(t[0::2], t[1::2]):
        f.write(json.dumps({"chosen": a, "rejected": b}) + "\n")
PY
"$alab" train --data story:2000 --out "$work/lm" --layers 4 --heads 4 --embd 128 --batch 16 --tokenizer bpe:512 $shape
"$alab" rm train --data "$work/pairs.jsonl" --init "$work/lm" --out "$work/rm" --batch 8 --val-frac 0 $shape >/dev/null
/usr/bin/python3 - "$work/lm/metrics.jsonl" "$work/rm/metrics.jsonl" <<'PY'
import json, sys
def steady(path):  # the loop counts rows x seq-len: a reward model's pair is 2 rows
    m = [json.loads(l) for l in open(path)]
    t = [x["tokens_per_s"] for x in m[2:]]
    return sum(t) / len(t)
lm, rm = steady(sys.argv[1]), steady(sys.argv[2])
print(f"LM training {lm:,.0f} tokens/s, reward model {rm:,.0f} tokens/s: ratio {rm / lm:.3f} (target >= 0.9)")
PY

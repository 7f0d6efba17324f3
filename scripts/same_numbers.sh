#!/usr/bin/env bash
# Checks that two alab binaries give the same numbers: a refactor must not
# change a bit. Runs `alab train` (defaults, 1 thread, 40 steps), `alab
# sample` (sampled and greedy) and `alab score` (a continuation and a text)
# with each binary, then compares byte for byte: model.safetensors,
# trainer_state.safetensors, config.json, tokenizer files, metrics.jsonl
# (without its timing fields tokens_per_s and elapsed_s) and the printed
# outputs (without timings and paths).
#
# usage: scripts/same_numbers.sh OLD_ALAB NEW_ALAB [WORKDIR]
#   e.g. git worktree add /tmp/old HEAD~1 && (build it) &&
#        scripts/same_numbers.sh /tmp/old/build/alab build/alab
# Exit status: 0 all identical, 1 a difference (named), 2 usage.
set -uo pipefail
[ $# -ge 2 ] || { echo "usage: $0 OLD_ALAB NEW_ALAB [WORKDIR]" >&2; exit 2; }
old=$1 new=$2 work=${3:-$(mktemp -d)}
probe() { # probe ALAB DIR
  local a=$1 o=$2
  rm -rf "$o" && mkdir -p "$o" || return 1
  "$a" train --threads 1 --steps 40 --eval-every 20 --quiet --out "$o/train" >"$o/train.out" 2>&1 || return 1
  "$a" sample --model "$o/train" --threads 1 --tokens 60 --samples 2 --seed 3 >"$o/sample.out" 2>&1 || return 1
  "$a" sample --model "$o/train" --threads 1 --tokens 40 --temperature 0 --prompt "Once upon a time" >"$o/greedy.out" 2>&1 || return 1
  "$a" score --model "$o/train" --threads 1 --prompt "Once upon a time" --continuation " there was a cat" >"$o/score.out" 2>&1 || return 1
  "$a" score --model "$o/train" --threads 1 --text "Once upon a time there was a little dog who liked to run." >"$o/score_text.out" 2>&1
}
for side in old new; do
  bin=$old; [ $side = new ] && bin=$new
  probe "$bin" "$work/$side" || { echo "$side ($bin) failed; see $work/$side" >&2; exit 1; }
done
untimed() { sed -E 's/"(tokens_per_s|elapsed_s)": [0-9.e+-]+,? ?//g; s/[0-9.]+ s \([0-9.]+ tokens\/s\)//; s#'"$work"'/(old|new)#WORK#g' "$1"; }
rc=0
for f in train/model.safetensors train/trainer_state.safetensors train/config.json train/vocab.json train/merges.txt; do
  cmp -s "$work/old/$f" "$work/new/$f" && echo "same $f" || { echo "DIFFERENT $f"; rc=1; }
done
for f in train/metrics.jsonl train.out sample.out greedy.out score.out score_text.out; do
  cmp -s <(untimed "$work/old/$f") <(untimed "$work/new/$f") && echo "same $f" || { echo "DIFFERENT $f"; rc=1; }
done
echo "outputs in $work"
exit $rc

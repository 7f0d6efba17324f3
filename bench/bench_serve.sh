#!/usr/bin/env bash
# Serving throughput of `alab serve`: the same short-prompt completions from 1
# sequential client and from 8 concurrent clients, on a random-init GPT-2 of
# the given shape (default 6 layers x 384, context 256 ~ 10.7M parameters).
# Usage: bench/bench_serve.sh [BUILD_DIR] [N_LAYER N_EMBD N_HEAD N_POSITIONS] (env WORKERS, REQUESTS, TOKENS)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shape=(${2:-6} ${3:-384} ${4:-6} ${5:-256})
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
"$build/tests/serve_make_model" "$tmp/model" "${shape[@]}" 2>/dev/null
"$build/alab" serve --model "$tmp/model" --port 0 --workers "${WORKERS:-1}" >"$tmp/out" &
pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/out" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$tmp/out")
echo "model: ${shape[*]} (layers embd heads context), workers ${WORKERS:-1}, $(nproc) cores"
node bench/bench_serve_client.mjs "$url" "${REQUESTS:-48}" "${TOKENS:-32}" 8

#!/bin/sh
# Real requests' throughput under the slow-client attack (256 connections from
# 127.0.0.2 sending their request head a byte a second), against the same
# load without it: tests/node/serve_attack.mjs with longer windows and the
# issue's bar of 0.9 (it also runs the memory and 500-connection checks).
# Usage: bench/bench_serve_attack.sh [BUILD_DIR] (env WINDOW_S, ROUNDS)
set -e
cd "$(dirname "$0")/.."
build=${1:-build}
ALAB_BIN=$build/alab SERVE_MAKE_MODEL=$build/tests/serve_make_model ALAB_TEST_TMP=${TMPDIR:-/tmp}/alab-bench-attack \
SERVE_ATTACK_WINDOW_S=${WINDOW_S:-3} SERVE_ATTACK_ROUNDS=${ROUNDS:-8} SERVE_ATTACK_MIN_RATIO=0.9 \
  node tests/node/serve_attack.mjs

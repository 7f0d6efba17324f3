#!/usr/bin/env bash
# Installs what is missing (scripts/deps.sh) and builds alab into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
echo "built build/alab" >&2

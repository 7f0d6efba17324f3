#!/usr/bin/env bash
# The test command: build (Release, then ASan+UBSan), install the npm
# oracles, and run every test under CTest in both builds.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
if [ -f tests/node/package.json ]; then
  (cd tests/node && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs" >/dev/null
(cd build && ctest --output-on-failure -j "$jobs")
if [ "${ALAB_SKIP_SANITIZE:-0}" != 1 ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DALAB_SANITIZE=ON >/dev/null
  cmake --build build-asan -j "$jobs" >/dev/null
  (cd build-asan && ASAN_OPTIONS=detect_leaks=0 ALAB_SANITIZE=1 ctest --output-on-failure -j "$jobs" -LE slow)
fi

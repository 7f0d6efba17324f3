#!/usr/bin/env bash
# The test command: install what is missing, build (Release, then
# ASan+UBSan), install the npm oracles, and run every test under CTest in
# both builds (the end-to-end `alab reproduce --quick` test, label e2e, in
# the Release build only). ALAB_SKIP_SANITIZE=1 runs the Release build only.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
scripts/deps.sh
(cd tests/node && npm install --no-audit --no-fund --loglevel=error >/dev/null)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs" >/dev/null
(cd build && ctest --output-on-failure -j "$jobs")
if [ "${ALAB_SKIP_SANITIZE:-0}" != 1 ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DALAB_SANITIZE=ON >/dev/null
  cmake --build build-asan -j "$jobs" >/dev/null
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j "$jobs" -LE e2e)
fi

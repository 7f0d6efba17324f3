#!/usr/bin/env bash
# Installs the Debian packages alab builds and tests with, if any is missing
# (Debian 12; uses sudo when not root). Safe to run again: it installs
# nothing when everything is there.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libopenblas-dev liblapacke-dev libjansson-dev libpcre2-dev
      libcurl4-openssl-dev libmicrohttpd-dev nettle-dev libsqlite3-dev sqlite3 libgsl-dev libcsv-dev gnuplot-nox python3-torch python3-numpy python3-mpmath python3-jinja2 libjemalloc2 nodejs npm curl
      chromium  # chromium: the report tests render report.html headless
      bubblewrap python3-pytest  # the sandbox for untrusted code (ilf); MBPP-style tests import pytest
      libexttextcat-dev libexttextcat-data  # language identification (oocr grading)
      liblinear-dev  # logistic regression (cpm)
      libdnnl-dev  # oneDNN bf16 matrix products
      openmpi-bin libopenmpi-dev)  # data-parallel training and sweeps
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm may come from elsewhere than Debian's packages: accept them on PATH
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]:-}"
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

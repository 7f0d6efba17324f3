#!/usr/bin/env bash
# The small-model regime end to end: the binary from before issue 22
# (commit 3ad544f^, the last one before #22's first change) against the
# current one, on the same experiment at the same settings, back to back,
# alternating which runs first; prints CPU seconds (user + sys) and wall
# seconds of each and the ratio old / new. CPU time is the figure that
# holds on a machine shared with other work; on idle cores the wall ratio
# matches it.
#
# The default work is `alab collapse --part lm` at its quick settings (the
# bulk of `alab reproduce --quick`'s tiny-model training: 39 GPT-2s of 137k
# parameters), which takes about 4 minutes of 2 idle cores per binary.
# ARGS replaces the experiment's arguments, e.g. fewer models at the same
# per-model settings: ARGS="collapse --part lm --seeds 2 --lm-gens 2", or
# the quick run of the experiments whose settings did not change since
# 3ad544f^: ARGS="reproduce --quick --only collapse,reversal,oocr,sycophancy,cpm"
# (reproduce takes no --threads: it uses every core, so THREADS is ignored).
#
# usage: bench/bench_reproduce.sh
# env: OLD_BIN (an alab built from 3ad544f^; built into a temp dir when
#      unset), ALAB_BIN (default build/alab), THREADS (default 2), REPEAT
#      (pairs, default 1), ARGS
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
new=${ALAB_BIN:-$root/build/alab}
threads=${THREADS:-2}
repeat=${REPEAT:-1}
args=${ARGS:-collapse --part lm}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
old=${OLD_BIN:-}
if [ -z "$old" ]; then
  mkdir "$work/old"
  git -C "$root" archive 3ad544f^ | tar -x -C "$work/old"
  cmake -S "$work/old" -B "$work/old/b" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$work/old/b" -j"$threads" --target alab >/dev/null
  old=$work/old/b/alab
fi
thr="--threads $threads"
case $args in reproduce*) thr="" ;; esac
run() { # run BIN TAG: prints "cpu wall"
  local TIMEFORMAT='%U %S %R'
  rm -rf "$work/out_$2"
  { time OMP_WAIT_POLICY=PASSIVE "$1" $args $thr --quiet --out "$work/out_$2" >/dev/null 2>"$work/err_$2"; } \
    2>"$work/t" || { echo "$2 failed:" >&2; cat "$work/err_$2" >&2; exit 1; }
  awk '{print $1 + $2, $3}' "$work/t"
}
echo "work: alab $args $thr"
printf "%-5s %10s %10s %10s %10s %8s %8s %s\n" pair old_cpu_s new_cpu_s old_wall new_wall cpu_x wall_x load
for i in $(seq "$repeat"); do
  if [ $((i % 2)) = 1 ]; then
    read -r oc ow <<<"$(run "$old" old)"
    read -r nc nw <<<"$(run "$new" new)"
  else
    read -r nc nw <<<"$(run "$new" new)"
    read -r oc ow <<<"$(run "$old" old)"
  fi
  load=$(cut -d' ' -f1 /proc/loadavg)
  python3 -c "oc,nc,ow,nw=$oc,$nc,$ow,$nw
print('%-5d %10.1f %10.1f %10.1f %10.1f %7.2fx %7.2fx %s'%($i,oc,nc,ow,nw,oc/nc,ow/nw,'$load'))"
done

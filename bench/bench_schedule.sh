#!/usr/bin/env bash
# Many models at once: for a set of THREADS training runs of one model size,
# is it sooner to run them side by side, one thread each (as the
# experiments do), or one after another, each on all THREADS threads?
# Prints both wall times and their ratio (> 1: one model per thread wins),
# alternating which way runs first, with the load. Wall time is the figure
# here (parallel efficiency is what is measured), so a loaded machine
# distorts it: threads of a multi-threaded run that are descheduled make
# the others wait at every barrier. Run it on idle cores for a verdict.
#
# usage: bench/bench_schedule.sh [collapse tiny small ...]
# env: ALAB_BIN (default build/alab), THREADS (default 2), REPEAT (default 2)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
alab=${ALAB_BIN:-$root/build/alab}
threads=${THREADS:-2}
repeat=${REPEAT:-2}
configs=${*:-collapse tiny small}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
spec() { # layers heads embd context vocab batch steps
  case $1 in
    collapse) echo "2 4 64 64 512 8 200" ;;
    tiny) echo "4 4 128 128 512 16 30" ;;
    small) echo "6 6 384 256 4096 8 6" ;;
    *) echo "unknown config $1" >&2; exit 2 ;;
  esac
}
train() { # train ID THREADS
  OMP_WAIT_POLICY=PASSIVE "$alab" train --data story:3000 --tokenizer byte --vocab "$V" --layers "$L" --heads "$H" \
    --embd "$C" --context "$T" --seq-len "$T" --batch "$B" --steps "$S" --eval-every 100000 --ckpt-every 0 \
    --val-frac 0.01 --threads "$2" --quiet --overwrite --seed "$1" --out "$work/m$1" >/dev/null
}
side_by_side() {
  for j in $(seq "$threads"); do train "$j" 1 & done
  wait
}
in_turn() { for j in $(seq "$threads"); do train "$j" "$threads"; done; }
wall() { local t0; t0=$(date +%s.%N); "$@"; python3 -c "import time; print(round(time.time() - $t0, 2))"; }
printf "%-9s %8s %12s %12s %9s %s\n" config models one_per_thr all_threads ratio load
for cfg in $configs; do
  read -r L H C T V B S <<<"$(spec "$cfg")"
  for i in $(seq "$repeat"); do
    if [ $((i % 2)) = 1 ]; then a=$(wall side_by_side); b=$(wall in_turn)
    else b=$(wall in_turn); a=$(wall side_by_side); fi
    python3 -c "print('%-9s %8d %12.2f %12.2f %8.2fx %s' % ('$cfg', $threads, $a, $b, $b / $a, '$(cut -d' ' -f1 /proc/loadavg)'))"
  done
done
echo "(wall seconds for $threads runs; ratio = all_threads / one_per_thr)"

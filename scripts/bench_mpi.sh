#!/usr/bin/env bash
# Measures the data-parallel speed-up of `triad lm` (docs/SCALING.md): the char
# LSTM 2 x 512 (batch 50, windows of 50) for STEPS steps, first as one process
# with one thread, then as RANKS MPI ranks with one thread each, the same global
# batch. The time per step is taken from the log lines (one per 20 steps),
# leaving out the first 20, which include building the graphs; the final
# evaluation and checkpoint are not counted. Needs a build with MPI:
#
#   go build -tags 'openblas mpi' -o bin/triad-mpi ./cmd/triad
#   STEPS=200 scripts/bench_mpi.sh bin/triad-mpi
#
# Run it on an otherwise idle machine with at least RANKS cores: other processes
# competing for the cores distort both figures.
set -euo pipefail
bin=${1:?usage: scripts/bench_mpi.sh TRIAD_BINARY_BUILT_WITH_MPI}
STEPS=${STEPS:-200}
RANKS=${RANKS:-2}
HIDDEN=${HIDDEN:-512}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
MPIRUN=(mpirun -np "$RANKS" --bind-to core)
if mpirun --version 2>&1 | grep -q 'Open MPI'; then
  [ "$(id -u)" = 0 ] && MPIRUN+=(--allow-run-as-root)
  [ "$RANKS" -gt "$(nproc)" ] && MPIRUN+=(--oversubscribe)
fi
LM=(lm --threads 1 --hidden "$HIDDEN" --train-frac 0.995 --log-every 20 --eval-every 1000000000
  --checkpoint-every 1000000000 --max-steps "$STEPS")

# secs_per_step LOG: seconds per step over the log windows after the first
secs_per_step() {
  awk '/^step [0-9]+\/[0-9]+ .* tokens\/s$/ { n++; if (n > 1) { t += 20 * 2500 / $(NF-1); s += 20 } }
       END { if (s == 0) exit 1; printf "%.4f", t / s }' "$1"
}

run() { # name command...
  local name=$1; shift
  local l0 l1 t0 t1
  l0=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(date +%s.%N)
  "$@" --out "$out/$name" >"$out/$name.log" 2>&1 || { cat "$out/$name.log"; exit 1; }
  t1=$(date +%s.%N)
  l1=$(cut -d' ' -f1 /proc/loadavg)
  printf '%s: %s s/step (%s s in all; load average %s before, %s after)\n' \
    "$name" "$(secs_per_step "$out/$name.log")" "$(echo "$t1 - $t0" | bc)" "$l0" "$l1"
}

echo "char LSTM 2 x $HIDDEN, batch 50 x 50 steps, $STEPS steps, $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
run one "$bin" "${LM[@]}"
run ranks "${MPIRUN[@]}" "$bin" "${LM[@]}" --dist mpi
t1=$(secs_per_step "$out/one.log")
tp=$(secs_per_step "$out/ranks.log")
echo "speed-up at $RANKS ranks: $(echo "scale=3; $t1 / $tp" | bc), scaling efficiency $(echo "scale=3; 100 * $t1 / $tp / $RANKS" | bc)%"

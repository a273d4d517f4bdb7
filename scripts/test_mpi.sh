#!/usr/bin/env bash
# Tests data-parallel training over MPI (`make test-mpi`; needs Open MPI or MPICH
# with its headers: apt-get install openmpi-bin libopenmpi-dev). It checks:
#   1. internal/mpi's tests under mpirun -np 2, and that MPI_Abort in one rank
#      ends the job promptly with a non-zero status;
#   2. `triad lm` on 2 ranks (global batch 8, 4 columns per rank) against one
#      process with batch 8: every tensor of the last checkpoint (parameters,
#      solver state, carried state) and every number of metrics.jsonl agree to
#      TOL (|a-b| <= TOL*max(1,|b|));
#   3. --resume on 2 ranks continues bit for bit: 10 steps, then 10 resumed,
#      equal the 20 uninterrupted steps;
#   4. killing rank 1 mid-run ends the job within 30 s with a non-zero status,
#      and the last checkpoint is intact (the run resumes from it);
#   5. (before 2-4) every other experiment (vae, mlp, ctc, demo, classify,
#      summarize, translate, gpt): a short run of tiny sizes on 2 ranks against one
#      process with the same global batch, every number of metrics.jsonl and
#      every tensor of the last checkpoint within TOL, and `mpirun -np 1`
#      against one process without MPI: metrics.jsonl byte for byte and the
#      checkpoint's tensors equal (vae's training sums, which a group keeps in
#      float32, within 1e-7). Dropout is off: ranks draw their own masks.
# Parts 2-4 need the tinyshakespeare dataset ($TRIAD_DATA), and each
# experiment of part 5 its own (demo none); they are skipped, with a message,
# without it. ONLY=name,... runs only those experiments of part 5 (none: lm).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
TAGS=${TAGS:-}
TOL=${TOL:-1e-4}
KILL_LIMIT=30

say() { printf 'test-mpi: %s\n' "$*"; }
die() { printf 'test-mpi: FAIL: %s\n' "$*" >&2; exit 1; }
# logged LOG WHAT CMD...: runs CMD with its output in LOG, and dies with WHAT,
# showing LOG, where it fails.
logged() {
  local log=$1 what=$2
  shift 2
  "$@" >"$log" 2>&1 || { cat "$log"; die "$what"; }
}
# alone LOG WHAT CMD...: runs CMD, one process without MPI, with its output in
# LOG; where it fails for want of its dataset, returns 1 (the caller skips its
# checks), and otherwise dies with WHAT, showing LOG.
alone() {
  local log=$1 what=$2
  shift 2
  "$@" >"$log" 2>&1 && return 0
  grep -qiE 'not found|no such file|cannot find|TRIAD_DATA' "$log" && return 1
  cat "$log"; die "$what"
}

command -v mpirun >/dev/null || die "mpirun not found (apt-get install openmpi-bin libopenmpi-dev)"
pkg-config --exists mpi 2>/dev/null || die "pkg-config does not know mpi (apt-get install libopenmpi-dev)"
MPIRUN=(mpirun -np 2)
MPIRUN1=(mpirun -np 1)
if mpirun --version 2>&1 | grep -q 'Open MPI'; then
  opts=(--oversubscribe)
  [ "$(id -u)" = 0 ] && opts+=(--allow-run-as-root)
  # shared memory without ptrace-based single copies, which containers often forbid
  opts+=(--mca btl_vader_single_copy_mechanism none)
  MPIRUN+=("${opts[@]}")
  MPIRUN1+=("${opts[@]}")
fi
# (the ranks, all on this machine, inherit the environment: TRIAD_DATA and
# TRIAD_MPI_ABORT_RANK)

tmp=$(mktemp -d)
bg=""
cleanup() {
  if [ -n "$bg" ] && kill -0 "$bg" 2>/dev/null; then kill "$bg" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
start=$(date +%s)

# build tags as a comma-separated list, mpi added
mpitags=$(echo "$TAGS mpi" | xargs | tr ' ' ',')
say "vet and build with -tags $mpitags"
$GO vet -tags "$mpitags" ./internal/mpi ./train
$GO build -tags "$mpitags" -o "$tmp/triad" ./cmd/triad
$GO test -tags "$mpitags" -c -o "$tmp/" ./internal/mpi ./train # mpi.test, train.test

say "internal/mpi under ${MPIRUN[*]}"
logged "$tmp/mpi.log" "internal/mpi tests" timeout 120 "${MPIRUN[@]}" "$tmp/mpi.test"

say "MPI_Abort in rank 1 ends the job"
t0=$(date +%s)
set +e
TRIAD_MPI_ABORT_RANK=1 timeout 120 "${MPIRUN[@]}" "$tmp/mpi.test" -test.run '^TestAbortJob$' >"$tmp/abort.log" 2>&1
rc=$?
set -e
took=$(($(date +%s) - t0))
{ [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $took -lt $KILL_LIMIT ]; } || { cat "$tmp/abort.log"; die "abort: status $rc after ${took}s"; }
say "  status $rc after ${took}s"

# compare_runs A B TOL LOG WHAT: the checkpoints and metrics of the run
# directories A and B agree within TOL (train's TestCompareRuns, its report in
# LOG), or the script dies with WHAT.
compare_runs() {
  TRIAD_COMPARE_RUNS="$1,$2" TRIAD_COMPARE_TOL=$3 logged "$4" "$5" "$tmp/train.test" -test.run '^TestCompareRuns$' -test.v
}

# compare NAME ARGS...: `triad NAME ARGS` as one process, on 2 ranks and on 1
# rank (see 5. above)
compare() {
  local name=$1
  shift
  case ",${ONLY:-$name}," in *",$name,"*) ;; *) return 0 ;; esac
  local dir="$tmp/$name" t0
  t0=$(date +%s)
  mkdir -p "$dir"
  alone "$dir/one.log" "$name: single-process run" "$tmp/triad" "$name" "$@" --out "$dir/one" ||
    { say "SKIP $name: its dataset was not found (set TRIAD_DATA)"; return 0; }
  logged "$dir/two.log" "$name: 2-rank run" timeout 300 "${MPIRUN[@]}" "$tmp/triad" "$name" "$@" --dist mpi --out "$dir/two"
  grep -q '"ranks": 2' "$dir/two/summary.json" || die "$name: summary.json does not record 2 ranks"
  compare_runs "$dir/one" "$dir/two" "$TOL" "$dir/compare.log" "$name: the 2-rank run differs from the single process"
  logged "$dir/np1.log" "$name: 1-rank run" timeout 300 "${MPIRUN1[@]}" "$tmp/triad" "$name" "$@" --dist mpi --out "$dir/np1"
  cmp "$dir/one/metrics.jsonl" "$dir/np1/metrics.jsonl" || die "$name: metrics.jsonl of mpirun -np 1 differs"
  local exact=0
  [ "$name" = vae ] && exact=1e-7 # the training sums of a group's checkpoint are float32
  compare_runs "$dir/one" "$dir/np1" "$exact" "$dir/compare1.log" "$name: the checkpoint of mpirun -np 1 differs"
  say "  $name: 2 ranks within $TOL ($(grep -oE 'param/?: largest difference [0-9.e+-]+' "$dir/compare.log" | sed 's/.*difference/parameters/')), -np 1 equal; $(($(date +%s) - t0))s"
}

say "every other experiment: one process, 2 ranks and 1 rank under mpirun"
T1=(--threads 1 --seed 3)
compare vae "${T1[@]}" --hidden 32 --latent 2 --batch 64 --max-steps 6 --log-every 2 --eval-every 3 --iwae-k 1 --iwae-max-samples 100
compare mlp "${T1[@]}" --hidden 32 --batch 64 --dropout 0 --max-steps 6 --log-every 2 --eval-every 3
compare ctc "${T1[@]}" --hidden 16 --batch 4 --dropout 0 --steps-per-epoch 6 --epochs 1 --log-every 2 --eval-every 3 \
  --eval-size 8 --eval-batch 8 --beam 2
compare demo "${T1[@]}" --embed 16 --hidden 16 --attn-dim 16 --batch 16 --dropout 0 --max-steps 6 --log-every 2 \
  --eval-every 3 --eval-size 50 --beam-eval 2 --examples 1
compare classify "${T1[@]}" --dataset snips --embed 16 --hidden 16 --batch 16 --dropout 0 --word-dropout 0.2 \
  --max-steps 6 --log-every 2 --eval-every 3 --show 2
compare summarize "${T1[@]}" --embed 16 --hidden 16 --attn-dim 16 --batch 16 --dropout 0 --max-steps 6 --log-every 2 \
  --eval-every 3 --eval-size 20 --beam 2 --beam-eval 2 --samples 2
compare translate "${T1[@]}" --model gru-attn --embed 16 --hidden 16 --batch 16 --dropout 0 --max-tokens 0 \
  --train-size 2000 --max-steps 6 --log-every 2 --eval-every 3 --eval-size 20 --beam 0
compare gpt "${T1[@]}" --layers 1 --heads 2 --embed 16 --block 32 --batch 4 --dropout 0 --max-steps 6 \
  --log-every 2 --eval-every 3 --eval-iters 2 --warmup 2
[ -z "${ONLY:-}" ] || { say "PASS (${ONLY}) in $(($(date +%s) - start))s"; exit 0; }

# a small char LSTM: 2 x 64 units, batch 8 (2 ranks x 4 columns), windows of 25
LM=(lm --threads 1 --hidden 64 --batch 8 --seq-len 25 --train-frac 0.995 --log-every 5 --eval-every 10)

say "reference: one process, 20 steps"
alone "$tmp/one.log" "single-process run" "$tmp/triad" "${LM[@]}" --max-steps 20 --out "$tmp/one" ||
  { say "SKIP the lm checks: tinyshakespeare not found (set TRIAD_DATA); $(($(date +%s) - start))s"; exit 0; }

say "2 ranks, 20 steps"
logged "$tmp/two.log" "2-rank run" timeout 300 "${MPIRUN[@]}" "$tmp/triad" "${LM[@]}" --dist mpi --max-steps 20 --out "$tmp/two"
grep -q '"ranks": 2' "$tmp/two/summary.json" || die "summary.json does not record 2 ranks"

say "comparing the checkpoints and metrics (tolerance $TOL)"
compare_runs "$tmp/one" "$tmp/two" "$TOL" "$tmp/compare.log" "the 2-rank run differs from the single process"
grep -E 'largest difference' "$tmp/compare.log" | sed 's/^ */test-mpi:   /'

say "--resume on 2 ranks: 10 steps, then 10 more, against the 20 above"
logged "$tmp/part.log" "2-rank run of 10 steps" timeout 300 "${MPIRUN[@]}" "$tmp/triad" "${LM[@]}" --dist mpi --max-steps 10 --out "$tmp/part"
timeout 300 "${MPIRUN[@]}" "$tmp/triad" lm --dist mpi --resume "$tmp/part" --max-steps 20 >>"$tmp/part.log" 2>&1 ||
  { cat "$tmp/part.log"; die "2-rank resume"; }
cmp "$tmp/two/metrics.jsonl" "$tmp/part/metrics.jsonl" || die "the resumed metrics.jsonl differs"
cmp "$tmp/two/checkpoints/last.safetensors" "$tmp/part/checkpoints/last.safetensors" || die "the resumed checkpoint differs"

say "killing rank 1 mid-run"
"${MPIRUN[@]}" "$tmp/triad" "${LM[@]}" --dist mpi --max-steps 1000000 --eval-every 1000000 --checkpoint-every 5 \
  --out "$tmp/kill" >"$tmp/kill.log" 2>&1 &
bg=$!
ckpt="$tmp/kill/checkpoints/last.safetensors"
for _ in $(seq 600); do [ -e "$ckpt" ] && break; kill -0 $bg 2>/dev/null || break; sleep 0.1; done
[ -e "$ckpt" ] || { cat "$tmp/kill.log"; die "no checkpoint appeared"; }
sleep 1
victim=""
for p in $(pgrep -P $bg); do
  if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxE '(OMPI_COMM_WORLD_RANK|PMI_RANK)=1'; then victim=$p; fi
done
[ -n "$victim" ] || { cat "$tmp/kill.log"; die "rank 1's process not found among mpirun's children"; }
t0=$(date +%s.%N)
kill -9 "$victim"
set +e
for _ in $(seq $((KILL_LIMIT * 10))); do kill -0 $bg 2>/dev/null || break; sleep 0.1; done
if kill -0 $bg 2>/dev/null; then
  cat "$tmp/kill.log"; die "the job still runs ${KILL_LIMIT}s after rank 1 was killed"
fi
wait $bg
rc=$?
set -e
bg=""
took=$(echo "$(date +%s.%N) - $t0" | bc)
[ $rc -ne 0 ] || die "mpirun exited with status 0 after rank 1 was killed"
step=$(head -c 65536 "$ckpt" | grep -ao '"step":"[0-9]*"' | head -1 | grep -o '[0-9]*')
say "  the job ended ${took}s after the kill, status $rc; last checkpoint at step $step"
logged "$tmp/resume.log" "resuming from the checkpoint left by the killed job" \
  timeout 300 "${MPIRUN[@]}" "$tmp/triad" lm --dist mpi --resume "$tmp/kill" --max-steps $((step + 5)) --checkpoint-every 0
grep -q "\"steps\": $((step + 5))" "$tmp/kill/summary.json" || die "the resumed run did not reach step $((step + 5))"

say "PASS in $(($(date +%s) - start))s"

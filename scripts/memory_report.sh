#!/usr/bin/env bash
# Measures the peak resident memory of a short real training run of every
# experiment (30 steps on one thread, with the experiment's default
# evaluations, the final one included) and writes docs/MEMORY.md: the
# command, the peak RSS that /usr/bin/time -v reports, the wall time, the
# same for the experiment's PyTorch counterpart run the same way (30 steps,
# one thread, the final evaluation: scripts/seq2seq_torch.py for translate and
# summarize, and scripts/<experiment>_torch.py for the others), and the peak of the triad run on the binary of a reference revision
# when --base REV is given (built in a temporary worktree).
#
#   scripts/memory_report.sh                  # every experiment, about 20 minutes
#   scripts/memory_report.sh --base HEAD~3    # beside an earlier revision
#   scripts/memory_report.sh --no-torch       # triad only, about 10 minutes
#
# Options: --out FILE (default docs/MEMORY.md), --base REV, --no-torch.
# Environment: GO (go), TAGS (openblas when the linker finds OpenBLAS),
# TRIAD_DATA (the datasets; default ../shared/data), PYTHON (the Python with
# PyTorch; default /usr/bin/python3), ONLY (comma-separated experiment names,
# e.g. ONLY="summarize,lm": only those rows, to try the script). Peak RSS does
# not depend on the load, but run it alone: two translation runs at once take
# a large share of a small machine.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
if [ -z "${TAGS+x}" ]; then
  TAGS=$(echo 'int main(void){return 0;}' | ${CC:-cc} -x c - -lopenblas -o /dev/null 2>/dev/null && echo openblas || true)
fi
export TRIAD_DATA=${TRIAD_DATA:-$(cd .. && pwd)/shared/data} TRIAD_OFFLINE=1
out=docs/MEMORY.md base="" torch=1
PYTHON=${PYTHON:-/usr/bin/python3}
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --base) base=$2; shift 2 ;;
    --no-torch) torch=""; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "memory_report.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "memory_report.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
if [ -n "$torch" ]; then
  torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null) ||
    { echo "memory_report.sh: $PYTHON cannot import torch (set PYTHON, or --no-torch)" >&2; exit 1; }
fi
shakespeare=${TRIAD_DATA%%:*}/tinyshakespeare/input.txt

tmp=$(mktemp -d)
cleanup() {
  [ -n "$base" ] && git worktree remove --force "$tmp/base" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
$GO build ${TAGS:+-tags "$TAGS"} -o "$tmp/triad" ./cmd/triad
if [ -n "$base" ]; then
  git worktree add -q --detach "$tmp/base" "$base"
  (cd "$tmp/base" && $GO build ${TAGS:+-tags "$TAGS"} -o "$tmp/triad-base" ./cmd/triad)
fi

# name|arguments after `triad`|the PyTorch counterpart: a script of scripts/ and
# its arguments (none: no counterpart)
runs=(
  "translate transformer|translate --model transformer --batch 128 --dropout 0.1 --lr 5e-4 --warmup 400|seq2seq_torch.py --model transformer"
  "translate gru-attn|translate --model gru-attn --hidden 128|seq2seq_torch.py --model gru-attn"
  "summarize|summarize|seq2seq_torch.py --model pointer"
  "lm|lm|lm_torch.py --data $shakespeare"
  "gpt|gpt|gpt_torch.py --data $shakespeare"
  "vae|vae|vae_torch.py"
  "classify snips|classify --dataset snips|classify_torch.py"
  "ctc|ctc|ctc_torch.py"
  "demo|demo|demo_torch.py"
  "mlp|mlp|mlp_torch.py"
)

# timed CMD... prints "peak_kb seconds" of one run of CMD under /usr/bin/time -v.
timed() {
  local log=$tmp/time.txt
  if ! /usr/bin/time -v -o "$log" "$@" >"$tmp/out.txt" 2>&1; then
    echo "memory_report.sh: $* failed:" >&2
    tail -5 "$tmp/out.txt" >&2
    exit 1
  fi
  awk -F': ' '/Maximum resident set size/ {kb=$2} /Elapsed \(wall clock\)/ {split($2, t, ":"); s = (length(t) == 3) ? t[1]*3600 + t[2]*60 + t[3] : t[1]*60 + t[2]} END {printf "%d %.0f\n", kb, s}' "$log"
}

# measure BIN ARGS... prints "peak_kb seconds" of one run in a fresh directory.
measure() {
  local bin=$1; shift
  rm -rf "$tmp/run"
  timed "$bin" "$@" --threads 1 --max-steps 30 --out "$tmp/run"
}

# measure_torch SCRIPT ARGS... prints "peak_kb seconds" of the PyTorch
# counterpart run the same way (one thread, its BLAS's included).
measure_torch() {
  local script=$1; shift
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 timed "$PYTHON" "scripts/$script" "$@" --threads 1 --max-steps 30
}

mb() { awk -v k="$1" 'BEGIN {printf "%.0f", k/1024}'; }

rows=() counterparts=()
for r in "${runs[@]}"; do
  IFS='|' read -r name args ref <<<"$r"
  if [ -n "${ONLY:-}" ] && [[ ",$ONLY," != *",$name,"* ]]; then
    continue
  fi
  echo "== $name" >&2
  read -r kb s < <(measure "$tmp/triad" $args)
  row="| $name | \`triad $args --threads 1 --max-steps 30\` | $(mb "$kb") | $s |"
  if [ -n "$torch" ]; then
    if [ -n "$ref" ]; then
      echo "== $name (PyTorch)" >&2
      read -r tkb ts < <(measure_torch $ref)
      row="$row $(mb "$tkb") | $ts |"
      counterparts+=("- $name: \`$PYTHON scripts/${ref/$shakespeare/\$TRIAD_DATA/tinyshakespeare/input.txt} --threads 1 --max-steps 30\`")
    else
      row="$row - | - |"
    fi
  fi
  if [ -n "$base" ]; then
    read -r bkb bs < <(measure "$tmp/triad-base" $args)
    row="$row $(mb "$bkb") | $bs |"
  fi
  rows+=("$row")
done
[ ${#rows[@]} -gt 0 ] || { echo "memory_report.sh: ONLY=${ONLY:-} names no experiment" >&2; exit 2; }

head="| experiment | command | peak RSS (MB) | seconds |"
rule="|---|---|---|---|"
if [ -n "$torch" ]; then
  head="$head PyTorch peak RSS (MB) | PyTorch seconds |"
  rule="$rule---|---|"
fi
if [ -n "$base" ]; then
  head="$head peak RSS at $base (MB) | seconds at $base |"
  rule="$rule---|---|"
fi
{
  echo "# Memory of short training runs"
  echo
  echo "Generated by \`scripts/memory_report.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') at $(git rev-parse --short HEAD); do not edit by hand."
  echo
  echo "Each experiment trains 30 steps on one thread with its default settings and evaluations (the final one included), in a fresh run directory; peak RSS is the maximum resident set size of the process (\`/usr/bin/time -v\`), seconds its wall time. Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo); $($GO version | cut -d' ' -f3); BLAS: ${TAGS:-gonum (pure Go)}."
  if [ -n "$torch" ]; then
    echo
    echo "The PyTorch columns are the same model and data in PyTorch $torch_version (one thread, OPENBLAS_NUM_THREADS=1), trained 30 steps with the same final evaluation; \"-\": no counterpart. A PyTorch process holds about 230 MB once torch is imported, before any model. The counterparts:"
    echo
    printf '%s\n' "${counterparts[@]}"
  fi
  echo
  echo "$head"
  echo "$rule"
  printf '%s\n' "${rows[@]}"
} >"$out"
echo "wrote $out" >&2

#!/usr/bin/env bash
# Measures one step of every reference configuration (a training step, a
# cached generation or a batch of cached decoding) with `triad bench` and
# scripts/bench_torch.py (PyTorch) in one sitting, with one thread and with two,
# and writes docs/BENCHMARKS.md: the machine, the versions, the commands, a table
# per thread count (medians and spreads, ratios with their spread over rounds,
# peak RSS, allocations, GFLOP/s against the GEMM peak) and, for every
# configuration slower than PyTorch, the profile notes of docs/benchmarks-notes.md.
#
#   scripts/bench_report.sh                 # everything (about 15 minutes)
#   scripts/bench_report.sh --only vae      # one configuration
#   scripts/bench_report.sh --keep s2 --previous s1   # beside an earlier sitting
#
# Options: --only NAME (repeatable), --threads "1 2", --processes N (fresh
# pairs of processes, default 3), --rounds N (rounds per pair, default 2),
# --steps N (most steps a round, default 200), --warmup N (default 2), --out FILE
# (default docs/BENCHMARKS.md), --keep DIR (keep the raw JSON there), --from DIR
# (no measuring: rewrite the report from a sitting kept with --keep), --previous
# DIR (a sitting kept with --keep: the report sets each ratio beside that
# sitting's and gives the largest difference). Environment: GO (go), PYTHON
# (/usr/bin/python3: Debian's, which has torch), TAGS (openblas when the linker
# finds OpenBLAS).
#
# Threads: "1" is triad --threads 1 (GOMAXPROCS 1, one OpenBLAS thread) against
# torch.set_num_threads(1) with OPENBLAS_NUM_THREADS=1. "2" is triad --threads 2
# against PyTorch's best setting on two cores here, torch.set_num_threads(1)
# with OPENBLAS_NUM_THREADS=2 (two torch threads over two OpenBLAS threads
# oversubscribe and are slower). Each configuration is measured by
# scripts/bench_rounds.py: one warm process per tool, taking turns in
# alternating rounds, so that both see the same machine and each peak RSS is
# the configuration's own. Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
PYTHON=${PYTHON:-/usr/bin/python3}
if [ -z "${TAGS+x}" ]; then
  TAGS=$(echo 'int main(void){return 0;}' | ${CC:-cc} -x c - -lopenblas -o /dev/null 2>/dev/null && echo openblas || true)
fi
only=() threads="1 2" steps=200 rounds=2 processes=3 warmup=2 out=docs/BENCHMARKS.md keep="" from="" previous=""
while [ $# -gt 0 ]; do
  case $1 in
    --only) only+=("$2"); shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --processes) processes=$2; shift 2 ;;
    --previous) previous=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --from) from=$2; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench_report.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

raw=$(mktemp -d)
trap 'rm -rf "$raw"' EXIT
if [ -n "$from" ]; then
  cp "$from"/*.txt "$from"/*.jsonl "$raw"/
  threads=$(sed -n 's/^threads=//p' "$raw/machine.txt")
  threads=${threads:-1 2}
else
bin=$raw/triad
$GO build ${TAGS:+-tags "$TAGS"} -o "$bin" ./cmd/triad
"$PYTHON" -c 'import torch' 2>/dev/null || { echo "bench_report.sh: $PYTHON cannot import torch (set PYTHON)" >&2; exit 1; }

mapfile -t configs < <("$bin" bench --list)
if [ ${#only[@]} -gt 0 ]; then
  for c in "${only[@]}"; do
    printf '%s\n' "${configs[@]}" | grep -qx "$c" || { echo "bench_report.sh: unknown configuration $c (${configs[*]})" >&2; exit 2; }
  done
  configs=("${only[@]}")
fi

# the machine and versions
{
  echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "cpus=$(nproc)"
  echo "go=$($GO version | awk '{print $3}')"
  echo "openblas=$(dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null || dpkg-query -W -f='${Version}' libopenblas0 2>/dev/null || echo unknown)"
  echo "torch=$("$PYTHON" -c 'import torch; print(torch.__version__)')"
  echo "tags=${TAGS:-none}"
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+changes')"
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "steps=$steps"
  echo "rounds=$rounds"
  echo "processes=$processes"
  echo "warmup=$warmup"
  echo "threads=$threads"
} >"$raw/machine.txt"

for t in $threads; do
  for c in "${configs[@]}"; do
    echo "== $c, $t thread(s) (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    "$PYTHON" scripts/bench_rounds.py --triad "$bin" --python "$PYTHON" --config "$c" --threads "$t" \
      --processes "$processes" --rounds "$rounds" --steps "$steps" --warmup "$warmup" --out "$raw"
  done
done
fi

"$PYTHON" - "$raw" "$out" docs/benchmarks-notes.md "$threads" "$previous" <<'PY'
"""Writes docs/BENCHMARKS.md from the JSON lines of one sitting."""
import json
import os
import re
import sys

raw, out, notes_path, threads, previous = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(), sys.argv[5]
machine = dict(line.rstrip("\n").split("=", 1) for line in open(os.path.join(raw, "machine.txt")))


def load(path):
    rows = {}
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line:
                r = json.loads(line)
                rows[r["name"]] = r
    return rows


# per-configuration profile notes: "### name" sections of the notes file
notes, current = {}, None
preamble = []
if os.path.exists(notes_path):
    for line in open(notes_path):
        m = re.match(r"^### (\S+)", line)
        if m:
            current = m.group(1)
            notes[current] = []
            continue
        if current is None:
            preamble.append(line)
        else:
            notes[current].append(line)

# the ratio a configuration should stay at or below: a clear margin over PyTorch
TARGET = 0.8


def round_ratios(a, b):
    """The ratio triad / PyTorch of each round, its median and its spread."""
    r = sorted(x / y for x, y in zip(a.get("rounds", [a["median_s"]]), b.get("rounds", [b["median_s"]])))
    mid = (r[(len(r) - 1) // 2] + r[len(r) // 2]) / 2
    return mid, r[0], r[-1]


w = []
w.append("# Benchmarks: training, generation and decoding against PyTorch\n")
w.append("Generated by `scripts/bench_report.sh` on %s; do not edit by hand (the notes come from "
         "`docs/benchmarks-notes.md`).\n" % machine["date"])
w.append("One step of each reference configuration, float32, random data of the stated shape: a training "
         "step (forward, backward, Adam or AdamW), or for gpt2-small-generate a cached generation of 128 "
         "tokens, for transformer-greedy and transformer-beam5 the cached decoding of 32 sentences (20 "
         "tokens each). Each configuration runs in %s successive pairs of warm processes, one per tool (%s "
         "warm-up steps and a probe step each); in each pair the two take turns in %s alternating rounds of "
         "about 3 s of the slower tool (3 to %s steps), while the other waits idle. The ratio of a round is "
         "its median triad step over its median PyTorch step; the table gives the median of all the round "
         "ratios and their range. Fresh processes matter: a process's own state moves its speed by more "
         "than a minute's load does.\n" % (machine.get("processes", "1"), machine["warmup"],
                                            machine.get("rounds", "1"), machine["steps"]))
# the load beyond what the sitting itself makes (its own threads): other work
others = []
for t in threads:
    for tool in ("triad", "torch"):
        others += [float(r["load"]) - int(t) for r in load(os.path.join(raw, "%s-%s.jsonl" % (tool, t))).values()
                   if "load" in r]
if others and max(others) > 1:
    w.append("**The machine was busy during this sitting** (1-minute load average up to %.1f above the sitting's "
             "own threads, on %s cores): the times are inflated and noisy, and PyTorch and triad suffer unequally. "
             "Rerun on an idle machine for figures to quote.\n" % (max(others), machine["cpus"]))
w.append("## Machine and versions\n")
w.append("| | |\n|---|---|")
w.append("| CPU | %s, %s cores |" % (machine["cpu"], machine["cpus"]))
w.append("| Go | %s, build tags `%s` |" % (machine["go"], machine["tags"]))
w.append("| OpenBLAS | %s (Debian) |" % machine["openblas"])
w.append("| PyTorch | %s (Debian's python3-torch) |" % machine["torch"])
w.append("| triad | commit %s |" % machine["commit"])
w.append("")
w.append("## Reproduce\n")
w.append("```")
w.append("scripts/bench_report.sh                      # this file, about 15 minutes")
w.append("scripts/bench_rounds.py --triad bin/triad --config transformer --threads 1 --out DIR   # one configuration, both tools")
w.append("go build -tags openblas -o bin/triad ./cmd/triad")
w.append("bin/triad bench --threads 1                  # triad, one thread")
w.append("bin/triad bench --threads 2                  # triad, two cores")
w.append("OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/bench_torch.py --threads 1   # PyTorch, one thread")
w.append("OPENBLAS_NUM_THREADS=2 /usr/bin/python3 scripts/bench_torch.py --threads 1   # PyTorch's best on two cores")
w.append("bin/triad bench --only transformer --threads 1 --steps 5 --cpuprofile cpu.prof   # a profile")
w.append("```\n")
w.append("Columns: median seconds per step and, in brackets, the fastest and slowest step; "
         "ratio = triad / PyTorch (below 1: triad is faster); peak RSS of each process; "
         "Go heap allocations per step (triad); GFLOP/s = the step's floating-point operations "
         "(counted by `triad bench`: matrix products, forward and backward) per second, and their share "
         "of the GEMM peak (the best of five float32 1024^3 products through OpenBLAS at the same thread "
         "count, measured by each triad process); CPU s/step = the process's user and system CPU time per "
         "step (median), which on a busy machine measures the work better than the wall clock (with more "
         "than one thread it adds the threads up); load = the 1-minute load average when each run started.\n")

above, ratios = [], {}
for t in threads:
    tr, to = load(os.path.join(raw, "triad-%s.jsonl" % t)), load(os.path.join(raw, "torch-%s.jsonl" % t))
    if not tr:
        continue
    if t == "1":
        w.append("## One thread\n")
        w.append("triad `--threads 1`; PyTorch `torch.set_num_threads(1)`, `OPENBLAS_NUM_THREADS=1`.\n")
    else:
        w.append("## %s threads\n" % t)
        w.append("triad `--threads %s`; PyTorch `torch.set_num_threads(1)`, `OPENBLAS_NUM_THREADS=%s` "
                 "(its best setting on this machine).\n" % (t, t))
    w.append("| configuration | triad s/step | PyTorch s/step | ratio (range over rounds) | CPU s/step triad / PyTorch (ratio) | "
             "peak RSS triad / PyTorch (MB) | allocs/step | triad GFLOP/s (% of peak) | PyTorch GFLOP/s (% of peak) | load |")
    w.append("|---|---|---|---|---|---|---|---|---|---|")
    for name, a in tr.items():
        b = to.get(name)
        peak = a.get("gemm_peak_gflops") or float("nan")
        flops = a.get("flops_per_step", 0.0)
        cell = lambda r: "%.4f (%.4f-%.4f)" % (r["median_s"], r["min_s"], r["max_s"])
        if b:
            ratio, lo, hi = round_ratios(a, b)
            ratios[(name, t)] = ratio
            if ratio > TARGET:
                above.append((name, t, ratio))
            tg = flops / b["median_s"] / 1e9
            ca, cb = a.get("cpu_median_s", float("nan")), b.get("cpu_median_s", float("nan"))
            w.append("| %s | %s | %s | **%.2f** (%.2f-%.2f) | %.4f / %.4f (%.2f) | %.0f / %.0f | %.0f | %.1f (%.0f%%) | %.1f (%.0f%%) | %s / %s |" % (
                name, cell(a), cell(b), ratio, lo, hi, ca, cb, ca / cb, a["peak_rss_mb"], b["peak_rss_mb"], a["allocs_per_step"],
                a["gflops"], 100 * a["gflops"] / peak, tg, 100 * tg / peak, a.get("load", "?"), b.get("load", "?")))
        else:
            w.append("| %s | %s | (not run) | | %.4f / | %.0f / | %.0f | %.1f (%.0f%%) | | %s |" % (
                name, cell(a), a.get("cpu_median_s", float("nan")), a["peak_rss_mb"], a["allocs_per_step"],
                a["gflops"], 100 * a["gflops"] / peak, a.get("load", "?")))
    w.append("\nGEMM peak: %.0f GFLOP/s. BLAS: %s.\n" % (next(iter(tr.values()))["gemm_peak_gflops"], next(iter(tr.values()))["blas"]))

if previous:
    before = dict(line.rstrip("\n").split("=", 1) for line in open(os.path.join(previous, "machine.txt")))
    w.append("## Against an earlier sitting\n")
    w.append("The same configurations in an earlier sitting (%s, triad commit %s, %s pair(s) of processes "
             "with %s rounds each; this sitting: %s with %s): how far the ratios of two sittings of this "
             "report move on their own.\n" % (before["date"], before["commit"], before.get("processes", "1"),
                                               before.get("rounds", "1"), machine.get("processes", "1"),
                                               machine.get("rounds", "1")))
    w.append("| configuration | threads | ratio then | ratio now | difference |")
    w.append("|---|---|---|---|---|")
    diffs = []
    for (name, t), now in ratios.items():
        a = load(os.path.join(previous, "triad-%s.jsonl" % t)).get(name)
        b = load(os.path.join(previous, "torch-%s.jsonl" % t)).get(name)
        if a and b:
            then = round_ratios(a, b)[0]
            diffs.append(abs(now - then))
            w.append("| %s | %s | %.2f | %.2f | %+.2f |" % (name, t, then, now, now - then))
    if diffs:
        w.append("\nLargest difference: %.2f over %d ratios (median %.2f).\n" % (
            max(diffs), len(diffs), sorted(diffs)[len(diffs) // 2]))

w.append("## Where triad takes more than %.1f of PyTorch's time: profile notes\n" % TARGET)
if preamble and "".join(preamble).strip():
    w.append("".join(preamble).strip() + "\n")
if not above:
    w.append("Every measured configuration takes at most %.1f of PyTorch's time.\n" % TARGET)
seen = set()
for name, t, ratio in above:
    if name in seen:
        continue
    seen.add(name)
    ratios = ", ".join("%.2f with %s thread%s" % (r, tt, "" if tt == "1" else "s") for n, tt, r in above if n == name)
    w.append("### %s (ratio %s)\n" % (name, ratios))
    if name in notes:
        w.append("".join(notes[name]).strip() + "\n")
    else:
        w.append("(No profile note for this configuration in docs/benchmarks-notes.md yet.)\n")

with open(out, "w") as f:
    f.write("\n".join(w))
print("wrote %s" % out, file=sys.stderr)
PY

if [ -n "$keep" ]; then
  mkdir -p "$keep"
  cp "$raw"/* "$keep"/
  rm -f "$keep/triad"
fi

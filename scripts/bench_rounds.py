#!/usr/bin/env python3
"""Measures one configuration with triad and with PyTorch in alternating rounds.

Both tools run in a process of their own, kept warm (`triad bench --rounds`,
`scripts/bench_torch.py --rounds`): each builds the configuration, runs its warm-up
steps and waits. A probe round of one step each sets the round length (about
--round-seconds of the slower tool, between 3 and --steps steps); then --rounds
rounds follow, triad and PyTorch taking turns at going first, so that whatever
the machine does in one minute falls on both; then --processes - 1 more pairs of
fresh processes do the same, because a process's own state moves its speed more
than a minute's load does (PyTorch's VAE step: 12-14 ms in one process, 22-25 ms
in the next). While one tool measures, the other sleeps on its standard input. Each round gives a ratio (the median
triad step over the median PyTorch step of that round); the spread of those
ratios is the measurement's own error bar.

Writes one JSON line per tool to triad-THREADS.jsonl and torch-THREADS.jsonl in
--out: the tool's summary over every measured step, with "load" (the 1-minute
load average at the start) and "rounds" (the median step of each round, over
every pair of processes).

  scripts/bench_rounds.py --triad bin/triad --config vae --threads 1 --out DIR
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


def start(cmd, env):
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, bufsize=1)
    ready = p.stdout.readline()
    if json.loads(ready or "{}").get("ready") is not True:
        p.kill()
        raise SystemExit("bench_rounds.py: %s did not start (%r)" % (cmd[0], ready))
    return p


def round_of(p, steps):
    p.stdin.write("%d\n" % steps)
    p.stdin.flush()
    line = p.stdout.readline()
    if not line:
        raise SystemExit("bench_rounds.py: a tool exited during a round")
    return json.loads(line)["times_s"]


def finish(p):
    p.stdin.close()
    summary = json.loads(p.stdout.readline())
    if p.wait() != 0:
        raise SystemExit("bench_rounds.py: a tool failed")
    return summary


def without_probe(s):
    """The summary's steps without the probe step, which counts as warm-up
    (merged recomputes the statistics)."""
    s["times_s"] = s["times_s"][1:]
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--triad", required=True, help="the triad binary")
    ap.add_argument("--python", default="/usr/bin/python3", help="a Python that has torch")
    ap.add_argument("--config", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--processes", type=int, default=3, help="fresh pairs of processes, one after the other")
    ap.add_argument("--rounds", type=int, default=2, help="rounds per pair of processes")
    ap.add_argument("--steps", type=int, default=200, help="most steps a round")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--round-seconds", type=float, default=3.0)
    ap.add_argument("--out", required=True, help="directory for the JSON lines")
    a = ap.parse_args()

    load = float(open("/proc/loadavg").read().split()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    commands = {
        "triad": ([a.triad, "bench", "--only", a.config, "--threads", str(a.threads), "--warmup", str(a.warmup),
                   "--json", "--rounds"], env),
        # PyTorch's best on this machine: one torch thread over OPENBLAS_NUM_THREADS BLAS threads
        "torch": ([a.python, os.path.join(here, "bench_torch.py"), "--threads", "1", "--only", a.config,
                   "--warmup", str(a.warmup), "--json", "--rounds"], dict(env, OPENBLAS_NUM_THREADS=str(a.threads))),
    }
    rounds = {name: [] for name in commands}
    summaries = {name: [] for name in commands}
    for proc in range(a.processes):
        # fresh processes: a process's own state (its memory layout, where its
        # threads run) moves its speed by more than a minute's load does
        tools = {name: start(*cmd) for name, cmd in commands.items()}
        probe = {name: round_of(p, 1)[0] for name, p in tools.items()}
        steps = max(3, min(a.steps, round(a.round_seconds / max(probe.values()))))
        for r in range(a.rounds):
            order = ["triad", "torch"] if r % 2 == proc % 2 else ["torch", "triad"]
            for name in order:
                rounds[name].append(statistics.median(round_of(tools[name], steps)))
            print("%s, %d thread(s), processes %d, round %d: triad %.4f s, PyTorch %.4f s, ratio %.2f" % (
                a.config, a.threads, proc, r, rounds["triad"][-1], rounds["torch"][-1],
                rounds["triad"][-1] / rounds["torch"][-1]), file=sys.stderr)
        for name, p in tools.items():
            summaries[name].append(without_probe(finish(p)))
    os.makedirs(a.out, exist_ok=True)
    for name, runs in summaries.items():
        summary = merged(runs)
        summary.update(load=load, rounds=rounds[name], processes=a.processes)
        with open(os.path.join(a.out, "%s-%d.jsonl" % (name, a.threads)), "a") as f:
            f.write(json.dumps(summary) + "\n")


def merged(runs):
    """One summary over the measured steps of every process (the last one's
    memory and machine fields; the largest peak RSS)."""
    s = dict(runs[-1])
    times = [t for r in runs for t in r["times_s"]]
    med = statistics.median(times)
    s.update(times_s=times, steps=len(times), min_s=min(times), max_s=max(times), median_s=med,
             cpu_median_s=statistics.median(r["cpu_median_s"] for r in runs),
             items_per_s=s["items_per_s"] * s["median_s"] / med, peak_rss_mb=max(r["peak_rss_mb"] for r in runs))
    if "flops_per_step" in s:
        s["gflops"] = s["flops_per_step"] / med / 1e9
    return s


if __name__ == "__main__":
    main()

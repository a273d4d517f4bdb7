#!/usr/bin/env python3
"""CPU seconds per training step of a triad run, for docs/SCALING.md.

    scripts/cpu_per_step.py [--skip K] -- bin/triad lm --threads 1 --log-every 10 ...

Runs the command (a triad experiment, or mpirun starting one), and at each of its
log lines "step N/M ..." reads the CPU time (user + system) of the command and
all its descendants from /proc. It prints the wall-clock and CPU seconds per step
between the K-th log line (default 1: after the first window, which builds the
graphs) and the last, and the CPU seconds per step per process. CPU time is
what a step costs on dedicated cores; unlike wall-clock time it is hardly
changed by other programs competing for the cores. Linux only; standard library.
"""
import argparse
import os
import re
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")
LINE = re.compile(r"^step (\d+)/\d+ ")


def tree_cpu(root):
    """Returns (CPU seconds, number of processes) of root and its descendants."""
    parent = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                parent[int(name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
            except (OSError, IndexError):
                pass
    total, count, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        if pid in parent:
            total += parent[pid][1]
            count += 1
        todo.extend(p for p, (pp, _) in parent.items() if pp == pid)
    return total / TICK, count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip", type=int, default=1, help="log lines to leave out at the start")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    marks = []
    for line in proc.stderr:
        m = LINE.match(line)
        if m:
            cpu, n = tree_cpu(proc.pid)
            marks.append((int(m.group(1)), time.monotonic(), cpu, n))
    if proc.wait() != 0:
        sys.exit(f"the command failed with status {proc.returncode}")
    if len(marks) <= a.skip:
        sys.exit("too few log lines")
    (s0, t0, c0, _), (s1, t1, c1, _) = marks[a.skip - 1], marks[-1]
    procs = max(n for *_, n in marks)
    steps = s1 - s0
    print(f"steps {s0}-{s1}: {(t1 - t0) / steps:.3f} s/step wall-clock, {(c1 - c0) / steps:.3f} CPU s/step "
          f"in all, over {procs} processes (mpirun included)")


if __name__ == "__main__":
    main()

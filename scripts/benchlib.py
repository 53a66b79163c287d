"""Shared pieces of the scripts/bench-* benchmarks: build, spawn, time, summarise.

Benchmarks print figures and never fail on them. Commands are run interleaved (each round
runs every command, in alternating order) so that a slow spell of the machine hits all of
them alike; each is spawned directly (no shell) and timed from spawn to exit.
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(argv, stdin=None):
    """Runs a set-up command; exits with its stderr when it fails."""
    out = subprocess.run(argv, input=stdin, capture_output=True, check=False)
    if out.returncode != 0:
        sys.exit(f"error: {' '.join(map(str, argv))} exited {out.returncode}:\n{out.stderr.decode()}")
    return out.stdout


def toolctl_binary():
    """$TOOLCTL, or a fresh release build of this checkout."""
    toolctl = os.environ.get("TOOLCTL")
    if not toolctl:
        subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=REPO, check=True)
        toolctl = str(REPO / "target/release/toolctl")
    # Settings from the caller's environment must not leak into the benchmark.
    for k in [k for k in os.environ if k.startswith("TOOLCTL_")]:
        del os.environ[k]
    return toolctl


def spawn_ns(argv, devnull):
    """Wall time of one run, spawn to exit, in nanoseconds; the exit status must be 0."""
    start = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, devnull, 1),
        (os.POSIX_SPAWN_DUP2, devnull, 2),
    ])
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter_ns() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"error: {' '.join(argv)} failed during the benchmark")
    return elapsed


def interleave(commands, runs, warmup):
    """Times every command `runs` times, interleaved; returns name -> sorted list of ns."""
    times = {name: [] for name in commands}
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for _ in range(warmup):
            for argv in commands.values():
                spawn_ns(argv, devnull)
        order = list(commands)
        for i in range(runs):
            for name in order if i % 2 == 0 else reversed(order):
                times[name].append(spawn_ns(commands[name], devnull))
    finally:
        os.close(devnull)
    for t in times.values():
        t.sort()
    return times


def summarise(times):
    """Prints median, mean, p10 and p90 in ms; returns name -> median in ms."""
    print(f"{'command':<14}{'median':>10}{'mean':>10}{'p10':>10}{'p90':>10}   (ms)")
    med = {}
    for name, t in times.items():
        med[name] = statistics.median(t) / 1e6
        p10, p90 = t[len(t) // 10], t[len(t) * 9 // 10]
        print(f"{name:<14}{med[name]:>10.3f}{statistics.fmean(t) / 1e6:>10.3f}"
              f"{p10 / 1e6:>10.3f}{p90 / 1e6:>10.3f}")
    return med

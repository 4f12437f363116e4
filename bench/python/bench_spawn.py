#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""capspawn.run(["true"]) against subprocess.run(["true"]) and os.posix_spawn,
with the parent holding few fds and then 10,000 open fds.

Usage (from a build tree):  PYTHONPATH=BUILD/python python3 bench/python/bench_spawn.py
(--program PATH runs another program, e.g. BUILD/bench/capspawn_bench_tiny_nolibc,
whose own start-up costs next to nothing.)

One iteration is a whole spawn + wait of the program. Each round runs every
method for --iterations iterations, in a shuffled order, so that a burst of
load elsewhere on the machine spreads over all of them; a method's figure is
the median over the rounds of its mean wall time per iteration. CPU time (ours
and our reaped children's) is shown too: it moves less when other programs
compete for the cores. Ratios are printed, never asserted (docs/python.md).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Tuple

import capspawn

METHODS: Dict[str, Callable[[], object]] = {}


def methods(program: str) -> None:
    """capspawn.run and subprocess.run get the program as argv[0] (a name is
    looked up in PATH by both); os.posix_spawn gets its path, found once."""
    path = shutil.which(program)
    if path is None:
        sys.exit(f"{program}: not found")

    def posix_spawn() -> None:
        pid = os.posix_spawn(path, [program], os.environ)
        os.waitpid(pid, 0)

    METHODS["capspawn.run"] = lambda: capspawn.run([program])
    METHODS["subprocess.run"] = lambda: subprocess.run([program])
    METHODS["os.posix_spawn"] = posix_spawn


def cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def measure(rounds: int, iterations: int) -> Dict[str, Tuple[float, float]]:
    """Per method: (median wall µs, median CPU µs) per iteration."""
    walls: Dict[str, List[float]] = {m: [] for m in METHODS}
    cpus: Dict[str, List[float]] = {m: [] for m in METHODS}
    for f in METHODS.values():  # warm up: caches, the namespace of imports
        for _ in range(20):
            f()
    for _ in range(rounds):
        order = list(METHODS.items())
        random.shuffle(order)
        for name, f in order:
            c0, t0 = cpu(), time.perf_counter()
            for _ in range(iterations):
                f()
            walls[name].append((time.perf_counter() - t0) / iterations * 1e6)
            cpus[name].append((cpu() - c0) / iterations * 1e6)
    return {m: (statistics.median(walls[m]), statistics.median(cpus[m])) for m in METHODS}


def hold_fds(n: int) -> List[int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = n + 256
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            sys.exit(f"RLIMIT_NOFILE hard limit {hard} is below {need}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    return [os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC) for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--fds", type=int, default=10000)
    ap.add_argument("--program", default="true", help="what to run (default: true)")
    args = ap.parse_args()
    # Debian's default PATH: subprocess tries each entry in turn, capspawn
    # looks "true" up in the same list; a long personal PATH would dominate.
    os.environ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    os.environ.pop("CAPSPAWN_LAUNCHER", None)
    methods(args.program)
    print(
        f"{args.program}: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; "
        f"{args.rounds} rounds x {args.iterations} iterations; median of the rounds' means"
    )
    results = {"baseline": measure(args.rounds, args.iterations)}
    held = hold_fds(args.fds)
    results[f"fds_{args.fds}"] = measure(args.rounds, args.iterations)
    for fd in held:
        os.close(fd)

    print(f"\n{'scenario':<12} {'method':<16} {'wall µs':>9} {'CPU µs':>9}")
    for scenario, r in results.items():
        for m, (wall, c) in r.items():
            print(f"{scenario:<12} {m:<16} {wall:>9.1f} {c:>9.1f}")
    print(f"\n{'ratio (wall)':<52} {'value':>6}  goal")
    for scenario, r in results.items():
        cs, sp, ps = r["capspawn.run"][0], r["subprocess.run"][0], r["os.posix_spawn"][0]
        print(f"{'capspawn.run / subprocess.run  ' + scenario:<52} {cs / sp:>6.2f}  <= 0.50")
        print(f"{'capspawn.run / os.posix_spawn  ' + scenario:<52} {cs / ps:>6.2f}")
    names = list(results)
    for m in METHODS:
        ratio = results[names[1]][m][0] / results[names[0]][m][0]
        goal = "  <= 1.20 (flat)" if m == "capspawn.run" else ""
        print(f"{m + ' ' + names[1] + ' / baseline':<52} {ratio:>6.2f}{goal}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Speed of `guardrail rollout rehearse` on the bundled fleets: three clusters of 50, 500 and 5,000 nodes
over 6 simulated hours, against a reference measured in the same run.

  - guarded, node-scoped lists: the engine widens every cluster to 100% (every step, gate, projection)
  - guarded, December:          the engine halts after the first canary and rolls back
  - naive, December:            every node of every cluster at once, then 6 simulated hours
  - reference:                  the simulator alone: the naive apply of the node-scoped fleet, 6 hours

Runs alternate to share the machine's noise; prints the median wall and CPU time of each and the ratio
of each to the reference. Target: every rehearsal <= 2.0 s. On a shared machine the wall time includes
waiting for a core, so the target is judged on the CPU time the rehearsal itself takes (on an idle
machine the two agree), and the ratio to the reference is the figure to compare across machines.

    python benchmarks/rollout_rehearse.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from guardrail.core.rollout.rehearsal import Strategy
from guardrail.services.rollout_rehearse import rehearse

FLEETS = Path(__file__).resolve().parent.parent / "examples" / "rollout"
DECEMBER = FLEETS / "december.yaml"
FIXED = FLEETS / "december-node-scoped.yaml"
TARGET_SECONDS = 2.0


def _timed(work: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cases: dict[str, Callable[[], object]] = {
        "guarded, node-scoped": lambda: rehearse(FIXED, Strategy.GUARDED),
        "guarded, December": lambda: rehearse(DECEMBER, Strategy.GUARDED),
        "naive, December": lambda: rehearse(DECEMBER, Strategy.NAIVE),
        "reference (simulator)": lambda: rehearse(FIXED, Strategy.NAIVE),
    }
    outcomes = {name: work() for name, work in cases.items()}  # warm-up, and what each does
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, work in cases.items():
            times[name].append(_timed(work))
    reference = statistics.median(wall for wall, _ in times["reference (simulator)"])
    print(f"{'rehearsal':<24} {'wall':>8} {'cpu':>8} {'x reference':>12}  outcome")
    ok = True
    for name, runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        report = outcomes[name]
        outcome = getattr(report, "outcome", "?")
        print(f"{name:<24} {wall:7.3f}s {cpu:7.3f}s {wall / reference:11.2f}x  {outcome}")
        ok = ok and cpu <= TARGET_SECONDS
    verdict = "met" if ok else "NOT met"
    print(f"target: every rehearsal of 6 simulated hours <= {TARGET_SECONDS:.1f} s of CPU: {verdict}")


if __name__ == "__main__":
    main()

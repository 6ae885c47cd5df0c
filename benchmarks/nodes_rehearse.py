#!/usr/bin/env python3
"""Speed of `guardrail nodes rehearse` on a 1,000-node pool, against references measured in the same run.

The pool: 800 eight-GPU machines in four zones and 200 one-GPU machines, a 300-pod training job (4 GPUs a
pod, at most 10 unavailable) that every drain must move, floor 0.9: about 2.3 simulated hours, a thousand
engine steps and nine thousand audit events. Runs, alternating to share the machine's noise:
  - the rehearsal itself (plan, pre-flight, the cycle to its end, the report), in process;
  - the same pool at 100 nodes (the scaling: ~10x is linear);
  - the reference: a JSON round trip (dumps + loads) of the finished cycle's state, 100 times, a fixed
    amount of plain-Python work whose time shows how fast the machine is at the moment;
and prints the median wall and CPU time of each and the rehearsal as a multiple of the reference.
Target: the 1,000-node rehearsal in <= 2 s.

    python benchmarks/nodes_rehearse.py [--runs 5] [--nodes 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from guardrail.config.nodes import NodesSettings
from guardrail.config.pool_file import PoolFile, PoolGroup, PoolWorkload
from guardrail.services.nodes_rehearse import Rehearsal, rehearse

TARGET_SECONDS = 2.0
ROUND_TRIPS = 100


def pool(nodes: int) -> PoolFile:
    """`nodes` machines: four-fifths eight-GPU in four zones, a fifth one-GPU; a job that drains must move."""
    big = nodes * 4 // 5 // 4
    groups = [
        PoolGroup(count=big, instance_type="Standard_ND96asr_v4", zone=zone, gpus=8, boot="6m", gpu_diag="3m")
        for zone in ("eastus-1", "eastus-2", "westus2-1", "westus2-2")
    ]
    small = nodes - 4 * big
    groups.append(PoolGroup(count=small, instance_type="Standard_NC24ads_A100_v4", zone="westus2-1", gpus=1, boot="5m"))
    job = PoolWorkload(name="trainer", namespace="ml", replicas=nodes * 3 // 10, gpus=4, max_unavailable=10)
    return PoolFile(pool="gpu-bench", boot_timeout="15m", capacity_floor=0.9, groups=groups, workloads=[job], seed=7)


def round_trips(state: dict[str, Any]) -> None:
    """The reference: what a database store would spend writing and reading the finished state, 100 times."""
    for _ in range(ROUND_TRIPS):
        json.loads(json.dumps(state))


def timed(work: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=1000)
    args = parser.parse_args()
    settings = NodesSettings()
    large, small = pool(args.nodes), pool(args.nodes // 10)
    results: list[Rehearsal] = []
    rehearse(small, settings)  # imports and first-call costs stay out of the figures
    big_times: list[tuple[float, float]] = []
    small_times: list[tuple[float, float]] = []
    ref_times: list[tuple[float, float]] = []
    for _ in range(args.runs):
        big_times.append(timed(lambda: results.append(rehearse(large, settings))))
        small_times.append(timed(lambda: rehearse(small, settings)))
        ref_times.append(timed(partial(round_trips, dict(results[-1].state.to_json()))))
    last = results[-1]
    report = last.report
    print(
        f"pool: {args.nodes} nodes in {len(report.strata)} strata, {last.state.total_gpus} GPUs; "
        f"{report.outcome.value if report.outcome else 'running'}: {report.nodes_cycled} cycled, "
        f"{report.nodes_lost} lost, min capacity {report.min_capacity:.3f}"
    )
    print(f"      {last.simulated_seconds / 3600:.2f} simulated hours, {len(last.events)} audit events")
    for label, times in (
        (f"rehearsal, {args.nodes} nodes", big_times),
        (f"rehearsal, {args.nodes // 10} nodes", small_times),
        (f"reference (state JSON x{ROUND_TRIPS})", ref_times),
    ):
        wall = statistics.median(t[0] for t in times)
        cpu = statistics.median(t[1] for t in times)
        print(f"{label:32s} median wall {wall:6.3f} s   cpu {cpu:6.3f} s")
    big_wall = statistics.median(t[0] for t in big_times)
    big_cpu = statistics.median(t[1] for t in big_times)
    ratio = big_wall / statistics.median(t[0] for t in ref_times)
    cpu_ratio = big_cpu / statistics.median(t[1] for t in ref_times)
    scaling = big_wall / statistics.median(t[0] for t in small_times)
    print(f"rehearsal / reference = {ratio:.2f}x (cpu {cpu_ratio:.2f}x)")
    print(f"{args.nodes} nodes / {args.nodes // 10} nodes = {scaling:.1f}x")
    verdict = "within" if big_wall <= TARGET_SECONDS else "OVER"
    print(f"target <= {TARGET_SECONDS:.1f} s: {verdict} ({big_wall:.2f} s)")
    if big_wall > 1.5 * big_cpu:
        print(f"the machine is busy: the process waited for a CPU {big_wall / big_cpu:.1f}x as long as it ran on one")


if __name__ == "__main__":
    main()

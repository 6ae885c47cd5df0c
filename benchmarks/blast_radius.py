#!/usr/bin/env python3
"""Speed of the blast radius analysis on the 11,000-change plan, against the parse of the same plan.

Builds the plan with ../shared/tools/gen_plan.py --stacks 200 (or reads --plan), then measures in one
process, alternating the steps to share the machine's noise:
  - parse:          guardrail.adapters.terraform.parse.parse_plan
  - graph + impact: build_graph + analyse (every destructive change, with shortest paths)
  - similar names and drift, the two other blast radius rules
and prints the median of each, the first (cold) graph + impact, and graph + impact as a share of parse.
Target: graph + impact < 150 ms.

    python benchmarks/blast_radius.py [--runs 7] [--stacks 200] [--plan PLAN.json]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchlib import generate_plan

from guardrail.adapters.terraform.parse import parse_plan
from guardrail.core.blast.graph import build_graph
from guardrail.core.blast.impact import analyse
from guardrail.core.rules.drift import DriftRule
from guardrail.core.rules.similar_names import SimilarNamesRule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--stacks", type=int, default=200)
    parser.add_argument("--plan", type=Path, help="an existing plan JSON instead of generating one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plan = args.plan or generate_plan(args.stacks, Path(tmp) / "plan.json")
        data = plan.read_bytes()
    parse_times, blast_times, names_times, drift_times = [], [], [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        changeset = parse_plan(data, str(plan)).changeset
        parse_times.append(time.perf_counter() - start)

        start = time.perf_counter()
        graph = build_graph(changeset.configuration, changeset.prior_state, changeset.changes)
        report = analyse(changeset, graph=graph)
        blast_times.append(time.perf_counter() - start)

        start = time.perf_counter()
        similar = list(SimilarNamesRule().evaluate(changeset))
        names_times.append(time.perf_counter() - start)

        start = time.perf_counter()
        drift = list(DriftRule().evaluate(changeset))
        drift_times.append(time.perf_counter() - start)

    cold = blast_times[0]
    impacted = sum(len(i.impacted) for i in report.impacts)
    print(f"plan: {len(changeset.changes)} changes, {len(graph.addresses)} instances, {graph.edge_count} edges")
    print(
        f"      {len(report.impacts)} destructive changes, {impacted} impacted in all, "
        f"{graph.unresolved_count} references not followable from the configuration"
    )
    print(f"      {len(similar)} look-alike findings, {len(drift)} drift findings")
    parse_ms = statistics.median(parse_times) * 1000
    blast_ms = statistics.median(blast_times) * 1000
    print(f"parse             median {parse_ms:7.1f} ms")
    print(f"graph + impact    median {blast_ms:7.1f} ms   (first run {cold * 1000:.1f} ms; target < 150 ms)")
    print(f"similar names     median {statistics.median(names_times) * 1000:7.1f} ms")
    print(f"drift             median {statistics.median(drift_times) * 1000:7.1f} ms")
    print(f"graph + impact / parse = {blast_ms / parse_ms:.2f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Look-alike names on a plan of 10,000 look-alike deletes, beside the 11,000-change plan of check_speed.py.

Builds a plan that deletes --deletes for_each instances keyed and named web-0, web-1, ... (benchlib's
lookalike_plan: each has dozens of look-alikes, by key and by name), then measures, in the same session and
alternating to share the machine's noise:
  - in process: json.loads of the plan (the reference), the plan's parse, and the look-alike names rule
  - whole process: python -c 'json.load(...)' (the reference) and guardrail check PLAN --format json
and prints the median of each, their ratio to the reference and the peak RSS of each process.
Targets: the rule <= 2 s, the whole check <= 2 s.

    python benchmarks/lookalike_names.py [--runs 5] [--deletes 10000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import REPO, lookalike_plan, timed

from guardrail.adapters.terraform.parse import parse_plan
from guardrail.core.rules.similar_names import SimilarNamesRule


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--deletes", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="guardrail-bench-") as work:
        return measure(args, Path(work))


def measure(args: argparse.Namespace, work: Path) -> int:
    plan = lookalike_plan(args.deletes, work / "plan.json")
    (work / "guardrail.yaml").write_text("")  # the defaults: similar_names on, compared by `name`
    data = plan.read_bytes()
    reference_times, parse_times, rule_times = [], [], []
    findings = 0
    for _ in range(args.runs):
        start = time.perf_counter()
        json.loads(data)
        reference_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        changeset = parse_plan(data, str(plan)).changeset
        parse_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        found = list(SimilarNamesRule().evaluate(changeset))
        rule_times.append(time.perf_counter() - start)
        findings = len(found)
    sample = found[0].message if found else "(none)"

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "guardrail")], check=True)
    reference = [sys.executable, "-c", f"import json; json.load(open({str(plan)!r}))"]
    gate = [sys.executable, "-m", "guardrail", "check", str(plan), "--config", "guardrail.yaml", "--format", "json"]
    _, _, code = timed(gate, work)  # warm the page cache and check it works
    if code not in (0, 1, 2):
        print(f"guardrail check exited {code}", file=sys.stderr)
        return 1
    process_runs: dict[str, list[tuple[float, float, int]]] = {"reference": [], "check": []}
    for _ in range(args.runs):
        process_runs["reference"].append(timed(reference, work))
        process_runs["check"].append(timed(gate, work))

    reference_s = statistics.median(reference_times)
    rule_s = statistics.median(rule_times)
    parse_s = statistics.median(parse_times)
    print(f"plan: {args.deletes} look-alike deletes ({plan.stat().st_size / 1e6:.1f} MB), {findings} findings")
    print(f"  e.g. {sample[:150]}...")
    print(f"in process, median of {args.runs}:")
    print(f"  reference json.loads : {reference_s:6.3f} s")
    print(f"  parse                : {parse_s:6.3f} s  {parse_s / reference_s:5.2f}x the reference")
    print(f"  look-alike names rule: {rule_s:6.3f} s  {rule_s / reference_s:5.2f}x the reference")
    ref_wall = statistics.median(r[0] for r in process_runs["reference"])
    check_wall = statistics.median(r[0] for r in process_runs["check"])
    ref_mem = max(r[1] for r in process_runs["reference"])
    check_mem = max(r[1] for r in process_runs["check"])
    print(f"whole process, median of {args.runs}, verdict exit code {code}:")
    print(f"  reference json.load  : {ref_wall:6.3f} s  peak {ref_mem:6.0f} MB")
    print(f"  guardrail check      : {check_wall:6.3f} s  peak {check_mem:6.0f} MB  {check_wall / ref_wall:5.2f}x")
    met = rule_s <= 2.0 and check_wall <= 2.0
    print(f"targets (rule <= 2 s, whole check <= 2 s): {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

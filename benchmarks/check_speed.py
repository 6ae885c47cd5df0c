#!/usr/bin/env python3
"""Whole-process speed and memory of `guardrail check` on an 11,000-change plan.

Builds the plan with ../shared/tools/gen_plan.py --stacks 200, writes a guardrail.yaml and 20 Rego rules,
then runs, in the same session and alternating to share the machine's noise:
  - reference: python -c 'import json; json.load(open(PLAN))'
  - guardrail check PLAN --config guardrail.yaml --format json
  - the same check with the store opened in-process instead of in the forked store helper
and prints the median wall time, the ratio to the reference and the peak RSS of each, and what the store
helper gains (the helper is kept only while it does).
Targets: <= 1.0 s, <= 3x the reference, <= 300 MB.

    python benchmarks/check_speed.py [--runs 5] [--stacks 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchlib import CONFIG as BASE_CONFIG
from benchlib import REPO, generate_plan, timed

CONFIG = BASE_CONFIG + "policies: [policies/]\n"

RULE = """
{kind} contains msg if {{
\tsome rc in input.resource_changes
\trc.type == "{rtype}"
\t"{action}" in rc.change.actions
\tmsg := sprintf("%s: {text}", [rc.address])
}}
"""

RULE_TYPES = [
    "aws_s3_bucket",
    "aws_instance",
    "aws_iam_role",
    "aws_security_group",
    "aws_db_instance",
    "aws_ebs_volume",
    "aws_subnet",
    "aws_vpc",
    "aws_kms_key",
    "aws_lb",
    "aws_eks_cluster",
    "aws_iam_policy",
    "aws_route_table",
    "aws_elb",
    "aws_neptune_cluster",
    "aws_elasticsearch_domain",
    "aws_iam_user",
    "aws_iam_access_key",
    "aws_s3_bucket_object",
    "aws_volume_attachment",
]


def write_policies(folder: Path) -> None:
    """20 rules of the usual conftest shape, each walking every resource change."""
    folder.mkdir(parents=True, exist_ok=True)
    body = ["package main", "", "import rego.v1"]
    for i, rtype in enumerate(RULE_TYPES):
        kind = ("deny", "warn")[i % 2]
        action = ("delete", "create", "update")[i % 3]
        body.append(RULE.format(kind=kind, rtype=rtype, action=action, text=f"rule {i}: {action} of {rtype}"))
    (folder / "bench.rego").write_text("\n".join(body))


# The entry point of `python -m guardrail`, which also writes, as it leaves, the CPU time of the main
# process alone (not of its forked children) to the file in $CPU_LOG: the critical path of a check when
# a core is free for the children. HELPER=off turns the store helper off: the store then opens
# in-process after the check, as it does wherever forking is unsafe.
ENTRY = """
import os, resource
main, leave = os.getpid(), os._exit
def noted(code):
    if os.getpid() == main:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with open(os.environ["CPU_LOG"], "a") as log:
            log.write(f"{usage.ru_utime + usage.ru_stime}\\n")
    leave(code)
os._exit = noted
if os.environ.get("HELPER") == "off":
    import guardrail.services.wiring as wiring
    wiring.start_store_helper = lambda: None
from guardrail.cli.main import entry
entry()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stacks", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return measure(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="guardrail-bench-") as work:  # a 22 MB plan: not left behind
        return measure(args, Path(work))


def measure(args: argparse.Namespace, work: Path) -> int:
    plan = work / "plan.json"
    plan.unlink(missing_ok=True)  # generated afresh for the size asked
    generate_plan(args.stacks, plan)
    (work / "guardrail.yaml").write_text(CONFIG)
    write_policies(work / "policies")
    # As an installed package is: byte-compiled (an environment with PYTHONDONTWRITEBYTECODE would
    # otherwise compile guardrail's own modules again in every run, about 70 ms here).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "guardrail")], check=True)

    reference = [sys.executable, "-c", f"import json; json.load(open({str(plan)!r}))"]
    arguments = ["check", str(plan), "--config", "guardrail.yaml", "--format", "json"]
    gate = [sys.executable, "-c", ENTRY, *arguments]
    helper_cpu, bare_cpu = work / "cpu-helper.log", work / "cpu-bare.log"
    with_helper = {**os.environ, "CPU_LOG": str(helper_cpu)}
    without = {**os.environ, "CPU_LOG": str(bare_cpu), "HELPER": "off"}
    _, _, code = timed(gate, work, with_helper)  # warm the page cache and check it works
    if code not in (0, 1, 2) or timed(gate, work, without)[2] != code:
        print(f"guardrail check exited {code}, or differently without the store helper", file=sys.stderr)
        return 1
    for log in (helper_cpu, bare_cpu):
        log.unlink()
    ref_runs, gate_runs, bare_runs = [], [], []
    for _ in range(args.runs):
        ref_runs.append(timed(reference, work))
        gate_runs.append(timed(gate, work, with_helper))
        bare_runs.append(timed(gate, work, without))
    ref_wall = statistics.median(r[0] for r in ref_runs)
    gate_wall = statistics.median(r[0] for r in gate_runs)
    bare_wall = statistics.median(r[0] for r in bare_runs)
    ref_mem = max(r[1] for r in ref_runs)
    gate_mem = max(r[1] for r in gate_runs)
    bare_mem = max(r[1] for r in bare_runs)
    ratio = gate_wall / ref_wall
    print(f"plan: {plan} ({plan.stat().st_size / 1e6:.1f} MB), verdict exit code {code}, {args.runs} runs each")
    print(f"reference json.load : {ref_wall:6.3f} s  peak {ref_mem:6.0f} MB")
    print(f"guardrail check     : {gate_wall:6.3f} s  peak {gate_mem:6.0f} MB")
    print(f"ratio               : {ratio:6.2f}x the reference")
    print(f"  without the store helper: {bare_wall:6.3f} s  peak {bare_mem:6.0f} MB  ({bare_wall / ref_wall:.2f}x)")
    gain = bare_wall - gate_wall
    print(f"  store helper gain, wall : {gain * 1000:6.0f} ms ({gain / bare_wall:.1%})")
    main_with, main_without = (statistics.median(map(float, log.read_text().split())) for log in (helper_cpu, bare_cpu))
    cpu_gain = main_without - main_with
    print(
        f"  main process CPU (the critical path when a core is free): {main_with:6.3f} s with the helper, "
        f"{main_without:6.3f} s without: {cpu_gain * 1000:.0f} ms off it"
    )
    verdict = "worth keeping" if cpu_gain > 0 else "LOST: remove the helper"
    print(f"  store helper: {verdict} (wall figures count other programs' turns on a busy machine)")
    ok = gate_wall <= 1.0 and ratio <= 3.0 and gate_mem <= 300
    print(f"targets (<= 1.0 s, <= 3x, <= 300 MB): {'met' if ok else 'NOT met'}")
    print_stages(plan, work / "guardrail.yaml", gate_wall, args.runs)
    return 0


def print_stages(plan: Path, config: Path, whole: float, runs: int) -> None:
    """Where the time of one check goes, in this process: parse, each built-in rule, and the blast-radius
    graph and impact separately, and the store (the Rego policies run in a forked child alongside, not
    counted here). The store's import is only paid on the first run of the loop."""
    sys.path.insert(0, str(REPO))
    from guardrail.adapters.terraform.parse import parse_plan
    from guardrail.config import load_settings
    from guardrail.core.blast.graph import build_graph
    from guardrail.core.blast.impact import analyse
    from guardrail.core.report import CheckReport
    from guardrail.core.verdict import Verdict
    from guardrail.services.review import settle
    from guardrail.services.rules import builtin_rules, reversibility_rule
    from guardrail.services.store import opened_store

    data = plan.read_bytes()
    settings = load_settings(config)
    stages: dict[str, list[float]] = {}

    def clock(name: str, started: float) -> float:
        now = time.perf_counter()
        stages.setdefault(name, []).append(now - started)
        return now

    for _ in range(runs):
        started = time.perf_counter()
        changeset = parse_plan(data, str(plan)).changeset
        started = clock("parse", started)
        graph = build_graph(changeset.configuration, changeset.prior_state, changeset.changes)
        started = clock("blast graph", started)
        analyse(changeset, graph=graph)
        started = clock("blast impact", started)
        for rule in builtin_rules(settings):
            list(rule.evaluate(changeset))
            started = clock(f"rule {rule.id}", started)
        rollback = reversibility_rule(settings).analyse(changeset)
        started = clock("reversibility", started)
        report = CheckReport(changeset, Verdict.of([]), rollback=rollback)
        started = time.perf_counter()
        with opened_store(None, settings) as store:  # the default store beside guardrail.yaml, as the check uses
            started = clock("store import + open", started)
            settle(store, report, settings, "bench", datetime.now(UTC))
            started = clock("store settle + record", started)
    print(f"stages in process (median of {runs}; share of the whole check's {whole:.3f} s):")
    for name, times in stages.items():
        # The store's import is paid once per process: its first run is what every `guardrail check` pays.
        median = times[0] if name == "store import + open" else statistics.median(times)
        print(f"  {name:<22}: {median * 1000:7.1f} ms  {median / whole:6.1%}")
    graph_share = sum(statistics.median(stages[k]) for k in ("blast graph", "blast impact")) / whole
    print(f"  graph + impact share of the whole check: {graph_share:.1%}")


if __name__ == "__main__":
    sys.exit(main())

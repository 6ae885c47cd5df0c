#!/usr/bin/env python3
"""Rego engines compared on the 11,000-change plan: time and peak memory, in the same run.

Builds the plan with ../shared/tools/gen_plan.py --stacks 200 (or reads --plan), writes 20 realistic
conftest-style rules (each walks `input.resource_changes`), then runs every engine in its own process (so
each peak RSS is its own; processes run one after the other):
  - regorus:             set_input_json(whole plan) + one query for the 20 rules, what a plain
                         integration does
  - guardrail (inline):  load_policies(...).submit(plan).findings() in-process: input pruned to the
                         keys the policies read, one query, results as Findings
  - guardrail (fork):    the same, evaluated in a forked child (what `guardrail check` does)
  - regopy (rego-cpp):   set_input_term(whole plan) + the same query; skipped with a note when the
                         optional `bench` extra is not installed
and prints, per engine, the median wall time of its steps, the result count (they must agree) and the
peak RSS of its process.

    python benchmarks/rego_engines.py [--runs 3] [--stacks 200] [--plan PLAN.json] [--regopy-timeout 300]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import generate_plan

HELPERS = """package main

import rego.v1

after(rc) := value if {
	value := rc.change.after
	is_object(value)
} else := {}

creates(rc) if "create" in rc.change.actions

deletes(rc) if "delete" in rc.change.actions
"""

# (rule, resource type or "", condition on `rc`, message): each rule walks every resource change.
RULES = [
    ("deny_public_bucket", "aws_s3_bucket", 'after(rc).acl in {"public-read", "public-read-write"}', "public ACL"),
    ("deny_unencrypted_db", "aws_db_instance", "not after(rc).storage_encrypted", "storage not encrypted"),
    ("deny_public_db", "aws_db_instance", "after(rc).publicly_accessible == true", "publicly accessible"),
    ("warn_no_backup", "aws_db_instance", "after(rc).backup_retention_period == 0", "no backups"),
    ("require_approval_db_delete", "aws_db_instance", "deletes(rc)", "database deleted"),
    ("deny_open_ingress", "aws_security_group", 'some r in after(rc).ingress; "0.0.0.0/0" in r.cidr_blocks', "open"),
    ("warn_missing_name_tag", "", "creates(rc); is_object(after(rc).tags); not after(rc).tags.Name", "no Name tag"),
    ("deny_unencrypted_volume", "aws_ebs_volume", "not after(rc).encrypted", "volume not encrypted"),
    ("warn_force_destroy", "aws_s3_bucket", "after(rc).force_destroy == true", "force_destroy"),
    (
        "deny_iam_wildcard",
        "aws_iam_role_policy",
        'contains(object.get(after(rc), "policy", ""), "\\"*\\"")',
        "wildcard",
    ),
    ("warn_access_key", "aws_iam_access_key", "creates(rc)", "long-lived access key"),
    ("deny_kms_no_rotation", "aws_kms_key", "not after(rc).enable_key_rotation", "key rotation off"),
    ("require_approval_eks", "aws_eks_cluster", 'not rc.change.actions == ["create"]', "cluster changed"),
    ("warn_instance_no_monitoring", "aws_instance", "not after(rc).monitoring", "no detailed monitoring"),
    ("deny_ecr_mutable", "aws_ecr_repository", 'after(rc).image_tag_mutability == "MUTABLE"', "mutable tags"),
    (
        "warn_lambda_no_tracing",
        "aws_lambda_function",
        'count(object.get(after(rc), "tracing_config", [])) == 0',
        "no tracing",
    ),
    (
        "deny_es_unencrypted",
        "aws_elasticsearch_domain",
        "some e in after(rc).encrypt_at_rest; e.enabled == false",
        "not encrypted",
    ),
    ("warn_subnet_public_ip", "aws_subnet", "after(rc).map_public_ip_on_launch == true", "public IPs on launch"),
    ("require_approval_replace", "", "count(rc.change.actions) == 2", "replaced"),
    ("warn_neptune_unencrypted", "aws_neptune_cluster", "not after(rc).storage_encrypted", "not encrypted"),
]


def policy_text() -> str:
    blocks = [HELPERS]
    for name, rtype, condition, text in RULES:
        type_check = f'\n\trc.type == "{rtype}"' if rtype else ""
        lines = "\n\t".join(part.strip() for part in condition.split(";"))
        blocks.append(
            f'{name} contains {{"msg": sprintf("%s: {text}", [rc.address]), "address": rc.address}} if {{\n'
            f'\tsome rc in input.resource_changes\n\trc.mode == "managed"{type_check}\n\t{lines}\n}}\n'
        )
    return "\n".join(blocks)


QUERY = "[" + ", ".join(f"[v | v := data.main.{name}]" for name, *_ in RULES) + "]"


# --- one engine, in its own process -------------------------------------------------------------------


def run_regorus(plan: Path, policy: Path) -> dict[str, float | int]:
    import regorus

    start = time.perf_counter()
    text = plan.read_text(encoding="utf-8")
    engine = regorus.Engine()
    engine.add_policy_from_file(str(policy))
    loaded = time.perf_counter()
    engine.set_input_json(text)
    inputted = time.perf_counter()
    result = json.loads(engine.eval_query_as_json(QUERY))
    done = time.perf_counter()
    values = result["result"][0]["expressions"][0]["value"]
    return {
        "load": loaded - start,
        "input": inputted - loaded,
        "eval": done - inputted,
        "total": done - start,
        "results": sum(len(v) for rule in values for v in rule),
    }


def run_guardrail(plan: Path, policy: Path, mode: str) -> dict[str, float | int]:
    from guardrail.adapters.rego import load_policies

    start = time.perf_counter()
    document = plan.read_bytes()
    engine = load_policies([policy], mode=mode)  # type: ignore[arg-type]
    loaded = time.perf_counter()
    pending = engine.submit(document)
    submitted = time.perf_counter()
    findings = pending.findings()
    done = time.perf_counter()
    return {
        "load": loaded - start,
        "submit": submitted - loaded,
        "findings": done - submitted,
        "total": done - start,
        "results": len(findings),
    }


def run_regopy(plan: Path, policy: Path) -> dict[str, float | int]:
    import regopy

    start = time.perf_counter()
    text = plan.read_text(encoding="utf-8")
    interpreter = regopy.Interpreter()
    interpreter.add_module("bench", policy.read_text(encoding="utf-8"))
    loaded = time.perf_counter()
    interpreter.set_input_term(text)
    inputted = time.perf_counter()
    output = interpreter.query(QUERY)
    done = time.perf_counter()
    values = json.loads(str(output))["expressions"][0]
    return {
        "load": loaded - start,
        "input": inputted - loaded,
        "eval": done - inputted,
        "total": done - start,
        "results": sum(len(v) for rule in values for v in rule),
    }


ENGINES = {
    "regorus": run_regorus,
    "guardrail-inline": lambda plan, policy: run_guardrail(plan, policy, "inline"),
    "guardrail-fork": lambda plan, policy: run_guardrail(plan, policy, "fork"),
    "regopy": run_regopy,
}


def measure(engine: str, plan: Path, policy: Path, timeout: float) -> tuple[dict[str, float | int], float] | str:
    """One run of `engine` in a fresh process: its figures and peak RSS (MB, children included), or why not."""
    argv = [sys.executable, __file__, "--child", engine, "--plan", str(plan), "--policy", str(policy)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return f"timed out after {timeout:.0f} s"
    if proc.returncode != 0:
        return (err.decode(errors="replace").strip().splitlines() or ["failed"])[-1]
    figures, peak_kb = json.loads(out)
    return figures, peak_kb / 1024


def child(engine: str, plan: Path, policy: Path) -> None:
    import resource

    figures = ENGINES[engine](plan, policy)
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    print(json.dumps([figures, peak]))


def available(engine: str) -> str | None:
    """None when the engine can run, else why not."""
    module = "regopy" if engine == "regopy" else "regorus"
    try:
        __import__(module)
    except ImportError:
        return f"not installed ({module}; pip install -e '.[bench]')"
    if engine == "guardrail-fork" and not hasattr(os, "fork"):
        return "os.fork is not available here"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs per engine (regopy: always 1, it is slow)")
    parser.add_argument("--stacks", type=int, default=200)
    parser.add_argument("--plan", type=Path, help="an existing plan JSON instead of generating one")
    parser.add_argument("--regopy-timeout", type=float, default=300.0)
    parser.add_argument("--child", choices=sorted(ENGINES), help=argparse.SUPPRESS)
    parser.add_argument("--policy", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.plan, args.policy)
        return
    with tempfile.TemporaryDirectory() as tmp:
        plan = args.plan or generate_plan(args.stacks, Path(tmp) / "plan.json")
        policy = Path(tmp) / "bench.rego"
        policy.write_text(policy_text(), encoding="utf-8")
        size = plan.stat().st_size / 1e6
        changes = len(json.loads(plan.read_bytes())["resource_changes"])
        print(f"plan: {changes:,} resource changes, {size:.1f} MB; {len(RULES)} rules; {os.cpu_count()} CPUs")
        counts: dict[str, int] = {}
        for engine in ENGINES:
            why_not = available(engine)
            if why_not:
                print(f"{engine:17} skipped: {why_not}")
                continue
            runs = 1 if engine == "regopy" else args.runs
            timeout = args.regopy_timeout if engine == "regopy" else 120.0
            results = [measure(engine, plan, policy, timeout) for _ in range(runs)]
            failures = [r for r in results if isinstance(r, str)]
            if failures:
                print(f"{engine:17} failed: {failures[0]}")
                continue
            done = [r for r in results if not isinstance(r, str)]
            report(engine, done)
            counts[engine] = int(done[0][0]["results"])
        if len(set(counts.values())) > 1:  # the engines did different work: their times do not compare
            print(f"MISMATCH: the engines found different numbers of results: {counts}")


def report(engine: str, results: list[tuple[dict[str, float | int], float]]) -> None:
    keys = [k for k in results[0][0] if k != "results"]
    steps = ", ".join(f"{k} {statistics.median(float(r[0][k]) for r in results):.3f} s" for k in keys)
    peak = max(r[1] for r in results)
    print(f"{engine:17} {steps}; {results[0][0]['results']:,} results; peak RSS {peak:.0f} MB ({len(results)} runs)")


if __name__ == "__main__":
    main()

"""What the benchmarks share: where the plan generator is, the guardrail.yaml they check with, the plans
they measure (the 11,000-change plan of ../shared/tools/gen_plan.py, and a plan of look-alike deletes), and
how a whole process is timed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GEN_PLAN = REPO.parent / "shared" / "tools" / "gen_plan.py"

# The settings every benchmark checks with; check_speed.py adds its Rego policies.
CONFIG = """\
protect:
  - types: [aws_eks_cluster, azurerm_kubernetes_cluster, google_container_cluster]
    reason: production clusters
  - addresses: ["module.stack_1*.aws_s3_bucket.*"]
    tags: {env: prod}
    reason: production buckets
stateful:
  enforcement: soft
"""


def generate_plan(stacks: int, target: Path) -> Path:
    """`target`, generated with ../shared/tools/gen_plan.py unless it already exists (11,000 changes at 200
    stacks). Exits 3 with a message when the generator is not there."""
    if not target.is_file():
        if not GEN_PLAN.is_file():
            raise SystemExit(f"missing {GEN_PLAN}: the shared tools are needed to build the plan")
        subprocess.run([sys.executable, str(GEN_PLAN), "--stacks", str(stacks), "-o", str(target)], check=True)
    return target


def lookalike_plan(deletes: int, target: Path) -> Path:
    """`target`: a plan that deletes `deletes` for_each instances of one block, google_compute_instance.web
    keyed and named web-0, web-1, ...: every delete has dozens of look-alikes, by key and by name (web-12 and
    web-13, web-12 and web-21, web-12 and web-123)."""
    changes, prior = [], []
    for i in range(deletes):
        key = f"web-{i}"
        address = f'google_compute_instance.web["{key}"]'
        values = {"name": key, "zone": "europe-west1-b", "machine_type": "e2-small", "labels": {"app": "web"}}
        changes.append(
            {
                "address": address,
                "mode": "managed",
                "type": "google_compute_instance",
                "name": "web",
                "index": key,
                "provider_name": "registry.terraform.io/hashicorp/google",
                "action_reason": "delete_because_each_key",
                "change": {
                    "actions": ["delete"],
                    "before": values,
                    "after": None,
                    "after_unknown": {},
                    "before_sensitive": {},
                    "after_sensitive": False,
                },
            }
        )
        prior.append(
            {
                "address": address,
                "mode": "managed",
                "type": "google_compute_instance",
                "name": "web",
                "index": key,
                "provider_name": "registry.terraform.io/hashicorp/google",
                "schema_version": 6,
                "values": values,
                "sensitive_values": {},
            }
        )
    block = {
        "address": "google_compute_instance.web",
        "mode": "managed",
        "type": "google_compute_instance",
        "name": "web",
        "provider_config_key": "google",
        "expressions": {"name": {"references": ["each.key"]}},
        "for_each_expression": {"references": ["var.names"]},
    }
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "variables": {"names": {"value": []}},
        "planned_values": {"root_module": {}},
        "resource_changes": changes,
        "prior_state": {
            "format_version": "1.0",
            "terraform_version": "1.11.4",
            "values": {"root_module": {"resources": prior}},
        },
        "configuration": {"root_module": {"resources": [block], "variables": {"names": {}}}},
        "applyable": True,
        "complete": True,
        "errored": False,
    }
    target.write_text(json.dumps(plan))
    return target


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit code of one process (in `env`, default: this one's)."""
    start = time.perf_counter()
    # Output is not read: a pipe nobody drains would block a chatty child (and hang os.wait4).
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)

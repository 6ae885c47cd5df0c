"""What the benchmarks share: where the plan generator is, the guardrail.yaml they check with, and the
generated plan itself."""

from __future__ import annotations

import subprocess
import sys
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

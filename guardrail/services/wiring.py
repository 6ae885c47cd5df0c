"""The one place that picks an adapter for each port.

Adapters are imported when first asked for: checking a JSON plan never loads python-terraform, and only
the markdown output loads jinja2, which keeps the gate fast to start.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from guardrail.core.ports import PolicyEngine, Renderer, TerraformRunner


def terraform_runner(binary: str | None) -> TerraformRunner:
    """The terraform CLI (or OpenTofu): `binary`, else $GUARDRAIL_TERRAFORM, else `terraform`."""
    from guardrail.adapters.terraform.run import TerraformCli

    return TerraformCli(binary)


def policy_engine(
    paths: Sequence[Path], namespaces: Sequence[str], all_namespaces: bool, *, timeout: float | None = None
) -> PolicyEngine:
    """Rego policies, conftest-compatible, each evaluation stopped after `timeout` seconds (None: no
    limit). Raises PolicyError when one does not load."""
    from guardrail.adapters.rego import load_policies

    return load_policies(paths, namespaces=namespaces, all_namespaces=all_namespaces, timeout=timeout)


def renderer(output_format: str, *, color: bool) -> Renderer:
    """The renderer for `text`, `json`, `markdown`, `sarif` or `junit`."""
    from guardrail.adapters.render import renderer_for

    return renderer_for(output_format, color=color)

"""The one place that picks an adapter for each port.

Adapters are imported when first asked for: checking a JSON plan never loads python-terraform, and only
the markdown output loads jinja2, which keeps the gate fast to start.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from guardrail.core.errors import BadInputError
from guardrail.core.kube.change import LiveDiff
from guardrail.core.kube.cluster import ClusterReader
from guardrail.core.ports import PolicyEngine, Renderer, TerraformRunner


def terraform_runner(binary: str | None) -> TerraformRunner:
    """The terraform CLI (or OpenTofu): `binary`, else $GUARDRAIL_TERRAFORM, else `terraform`."""
    from guardrail.adapters.terraform.run import TerraformCli

    return TerraformCli(binary)


def policy_engine(paths: Sequence[Path], namespaces: Sequence[str], all_namespaces: bool) -> PolicyEngine:
    """Rego policies, conftest-compatible. Raises PolicyError when one does not load."""
    from guardrail.adapters.rego import load_policies

    return load_policies(paths, namespaces=namespaces, all_namespaces=all_namespaces)


def renderer(output_format: str, *, color: bool) -> Renderer:
    """The renderer for `text`, `json`, `markdown`, `sarif` or `junit`."""
    from guardrail.adapters.render import renderer_for

    return renderer_for(output_format, color=color)


# Said by every option that needs a live cluster until the cluster adapter is installed.
LIVE_CLUSTERS_MISSING = (
    "live clusters need the Kubernetes cluster adapter (the official kubernetes client), which this "
    "installation does not have; check offline (without --context, --kubeconfig and --prune), "
    "with --target-version and --nodes for what the cluster would be"
)


def cluster_readers(contexts: Sequence[str], kubeconfig: Path | None) -> list[ClusterReader]:
    """A reader per kubeconfig context (the current context when none is named), kubeconfig read as kubectl
    reads it (`kubeconfig`, else $KUBECONFIG, else ~/.kube/config). Raises BadInputError for a kubeconfig or
    context that does not exist, ClusterUnreachableError for a cluster that does not answer."""
    raise BadInputError(LIVE_CLUSTERS_MISSING)


def live_diff() -> LiveDiff:
    """What compares rendered objects with a live cluster (server-side dry-run apply, client-side when the
    server cannot). Raises BadInputError when no cluster adapter is installed."""
    raise BadInputError(LIVE_CLUSTERS_MISSING)

"""The one place that picks an adapter for each port.

Adapters are imported when first asked for: checking a JSON plan never loads python-terraform, only the
markdown output loads jinja2, and only a command that reaches a cluster loads the kubernetes client
(about 0.4 s), which keeps the gate fast to start.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from guardrail.core.kube.cluster import Cluster
from guardrail.core.ports import PolicyEngine, Renderer, TerraformRunner

# Seconds any one request to a Kubernetes API server may take (the adapter's own default).
KUBE_REQUEST_TIMEOUT = 10.0


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


def cluster(context: str | None, kubeconfig: str | None, *, timeout: float = KUBE_REQUEST_TIMEOUT) -> Cluster:
    """The Kubernetes cluster of a kubeconfig context (kubectl's rules: `kubeconfig`, else $KUBECONFIG,
    else ~/.kube/config; `context`, else the current one), every request bounded by `timeout` seconds.

    Raises BadInputError naming the context and the files when the kubeconfig or the context is missing;
    the API server is not asked anything until the cluster is used."""
    from guardrail.adapters.kubernetes import connect

    return connect(context, kubeconfig, timeout=timeout)

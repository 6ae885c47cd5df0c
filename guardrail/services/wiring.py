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
from guardrail.core.source_control import SourceControl

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


def source_control() -> SourceControl:
    """git, through GitPython (imported only once a repository is found: see adapters/git.py)."""
    from guardrail.adapters.git import GitSourceControl

    return GitSourceControl()


def apply_lock_name(directory: Path) -> str | None:
    """The apply lock's name of a configuration directory (its absolute path and Terraform workspace), or
    None when `directory` holds no Terraform configuration."""
    from guardrail.adapters.terraform.intake import require_configuration
    from guardrail.adapters.terraform.workspace import workspace_key
    from guardrail.core.errors import BadInputError

    try:
        require_configuration(directory)
    except BadInputError:
        return None
    return workspace_key(directory)

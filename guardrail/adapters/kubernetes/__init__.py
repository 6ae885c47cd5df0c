"""Kubernetes clusters over the official `kubernetes` client: the only package that imports it.

`connect(context, kubeconfig)` resolves the context as kubectl does and returns a KubernetesCluster,
the cluster port's live implementation. Importing this package loads the client (about 0.4 s), so the
wiring module imports it only when a command needs a cluster.
"""

from __future__ import annotations

from guardrail.adapters.kubernetes.cluster import DEFAULT_TIMEOUT, KubernetesCluster
from guardrail.adapters.kubernetes.kubeconfig import KubeContext, load_context


def connect(context: str | None, kubeconfig: str | None, *, timeout: float = DEFAULT_TIMEOUT) -> KubernetesCluster:
    """The cluster of `context` (else the kubeconfig's current context), every request bounded by
    `timeout` seconds. Raises BadInputError for a missing kubeconfig or context; nothing is asked of the
    API server until a method is called."""
    return KubernetesCluster(load_context(context, kubeconfig), timeout=timeout)


__all__ = ["DEFAULT_TIMEOUT", "KubeContext", "KubernetesCluster", "connect"]

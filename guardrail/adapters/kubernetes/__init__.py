"""Kubernetes clusters over the official `kubernetes` client (the only package that imports it), and the
API server's metrics text.

`connect(context, kubeconfig)` resolves the context as kubectl does and returns a KubernetesCluster, the
cluster port's live implementation. The client (about 0.4 s to import) loads when `connect` is first
called, not with this package: parsing metrics text, as a rehearsal does, never pays for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guardrail.adapters.kubernetes.cluster import KubernetesCluster

DEFAULT_TIMEOUT = 10.0  # seconds for every request to the API server


def connect(
    context: str | None, kubeconfig: str | None, *, timeout: float = DEFAULT_TIMEOUT, name: str | None = None
) -> KubernetesCluster:
    """The cluster of `context` (else the kubeconfig's current context), every request bounded by
    `timeout` seconds, called `name` (default: the context's name). Raises BadInputError for a missing
    kubeconfig or context; nothing is asked of the API server until a method is called."""
    import dataclasses

    from guardrail.adapters.kubernetes.cluster import KubernetesCluster
    from guardrail.adapters.kubernetes.kubeconfig import load_context

    resolved = load_context(context, kubeconfig)
    if name is not None:
        resolved = dataclasses.replace(resolved, name=name)
    return KubernetesCluster(resolved, timeout=timeout)


__all__ = ["DEFAULT_TIMEOUT", "connect"]

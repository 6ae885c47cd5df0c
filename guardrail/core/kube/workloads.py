"""Workloads and their pod templates: where each kind keeps the pod spec, and whose identity its pods run as."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guardrail.core.kube.objects import ObjectRef

# kind -> (API groups that serve it, old ones included; path of the pod spec in the object)
_POD_SPECS: Mapping[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "DaemonSet": (frozenset({"apps", "extensions"}), ("spec", "template", "spec")),
    "Deployment": (frozenset({"apps", "extensions"}), ("spec", "template", "spec")),
    "ReplicaSet": (frozenset({"apps", "extensions"}), ("spec", "template", "spec")),
    "StatefulSet": (frozenset({"apps"}), ("spec", "template", "spec")),
    "Job": (frozenset({"batch"}), ("spec", "template", "spec")),
    "CronJob": (frozenset({"batch"}), ("spec", "jobTemplate", "spec", "template", "spec")),
    "Pod": (frozenset({""}), ("spec",)),
}
DEFAULT_SERVICE_ACCOUNT = "default"
DEFAULT_NAMESPACE = "default"


def is_daemonset(ref: ObjectRef) -> bool:
    """A DaemonSet of the built-in API (apps, or the old extensions group)."""
    return ref.kind == "DaemonSet" and ref.group in _POD_SPECS["DaemonSet"][0]


def pod_spec(ref: ObjectRef, manifest: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The pod spec of a built-in workload (a Pod's own spec), or None for other kinds and odd shapes."""
    known = _POD_SPECS.get(ref.kind)
    if known is None or ref.group not in known[0] or manifest is None:
        return None
    value: Any = manifest
    for key in known[1]:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, Mapping) else None


def service_account(spec: Mapping[str, Any]) -> str:
    """The service account a pod runs as: serviceAccountName, else the older serviceAccount, else default."""
    for key in ("serviceAccountName", "serviceAccount"):
        value = spec.get(key)
        if isinstance(value, str) and value:
            return value
    return DEFAULT_SERVICE_ACCOUNT

"""What a workload runs: its pod template, the ConfigMaps and Secrets its pods read, the labels they carry.

Shared by the blast radius (who mounts this ConfigMap, which pods a Service selects) and the reach of
per-node workloads. Odd shapes read as empty, never as an error: the API server judges validity.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from guardrail.core.kube.objects import ObjectRef, split_api_version

# kind -> (the API groups that serve it, old ones included; the path from the object to its pod template).
_TEMPLATES: Mapping[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "Deployment": (frozenset({"apps", "extensions"}), ("spec", "template")),
    "DaemonSet": (frozenset({"apps", "extensions"}), ("spec", "template")),
    "StatefulSet": (frozenset({"apps"}), ("spec", "template")),
    "ReplicaSet": (frozenset({"apps", "extensions"}), ("spec", "template")),
    "ReplicationController": (frozenset({""}), ("spec", "template")),
    "Job": (frozenset({"batch"}), ("spec", "template")),
    "CronJob": (frozenset({"batch"}), ("spec", "jobTemplate", "spec", "template")),
    "PodTemplate": (frozenset({""}), ("template",)),
    "Pod": (frozenset({""}), ()),
}
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
DEFAULT_SERVICE_ACCOUNT = "default"
DEFAULT_NAMESPACE = "default"


def workload_kinds() -> Iterator[tuple[str, str]]:
    """(group, kind) of every built-in kind that runs pods, old API groups included."""
    for kind, (groups, _) in _TEMPLATES.items():
        for group in sorted(groups):
            yield group, kind


def is_daemonset(ref: ObjectRef) -> bool:
    """A DaemonSet of the built-in API (apps, or the old extensions group)."""
    return ref.kind == "DaemonSet" and ref.group in _TEMPLATES["DaemonSet"][0]


def pod_template(manifest: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The pod template (`metadata` and `spec`) of a built-in workload, the Pod itself for a Pod, else None."""
    if manifest is None:
        return None
    group, _ = split_api_version(str(manifest.get("apiVersion", "")))
    known = _TEMPLATES.get(str(manifest.get("kind", "")))
    if known is None or group not in known[0]:
        return None
    node: Any = manifest
    for key in known[1]:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else None


def pod_spec(manifest: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The pod spec of a workload (see pod_template)."""
    template = pod_template(manifest)
    spec = template.get("spec") if template is not None else None
    return spec if isinstance(spec, Mapping) else None


def pod_labels(manifest: Mapping[str, Any]) -> Mapping[str, str]:
    """The labels of the pods a workload makes (a Pod's own labels)."""
    template = pod_template(manifest)
    metadata = template.get("metadata") if template is not None else None
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {}


def service_account(spec: Mapping[str, Any]) -> str:
    """The service account a pod runs as: serviceAccountName, else the older serviceAccount, else default."""
    for key in ("serviceAccountName", "serviceAccount"):
        value = spec.get(key)
        if isinstance(value, str) and value:
            return value
    return DEFAULT_SERVICE_ACCOUNT


def referenced(spec: Mapping[str, Any], kind: str) -> set[str]:
    """The names of the ConfigMaps (`kind` ConfigMap) or Secrets (`Secret`) a pod spec reads: volumes,
    projected volumes, envFrom and env valueFrom of every container, and (Secrets) imagePullSecrets."""
    return set(_references(spec, kind))


def _references(spec: Mapping[str, Any], kind: str) -> Iterator[str]:
    volume_key, name_key = ("configMap", "name") if kind == "ConfigMap" else ("secret", "secretName")
    ref_key, key_ref = ("configMapRef", "configMapKeyRef") if kind == "ConfigMap" else ("secretRef", "secretKeyRef")
    for volume in _maps(spec.get("volumes")):
        yield from _name(volume.get(volume_key), name_key)
        projected = volume.get("projected")
        for source in _maps(projected.get("sources") if isinstance(projected, Mapping) else None):
            yield from _name(source.get("configMap" if kind == "ConfigMap" else "secret"), "name")
    for list_name in _CONTAINER_LISTS:
        for container in _maps(spec.get(list_name)):
            for env_from in _maps(container.get("envFrom")):
                yield from _name(env_from.get(ref_key), "name")
            for env in _maps(container.get("env")):
                value_from = env.get("valueFrom")
                if isinstance(value_from, Mapping):
                    yield from _name(value_from.get(key_ref), "name")
    if kind == "Secret":
        for pull in _maps(spec.get("imagePullSecrets")):
            yield from _name(pull, "name")


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a Service's equality selector (a plain map) selects pods with `labels`; an empty selector
    selects nothing (a Service without one manages no endpoints)."""
    return bool(selector) and all(labels.get(str(k)) == str(v) for k, v in selector.items())


def _maps(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, Mapping))


def _name(value: Any, key: str) -> Iterator[str]:
    if isinstance(value, Mapping) and isinstance(value.get(key), str) and value[key]:
        yield value[key]

"""What a cluster shows and what guardrail may do to it: the cluster port.

The gate (kube check/apply), the fleet canary (rollout) and the node-pool cycle (nodes) drive clusters
only through `Cluster`. Two implementations: the official `kubernetes` client
(guardrail.adapters.kubernetes) and the deterministic simulators (guardrail.simulation), which is how
`rehearse` and the tests run the real engines. An engine never learns which one it has.

Every method may raise ClusterUnreachableError (the API server did not answer: retryable, and never
read as "allow") or ClusterError (it answered with a refusal guardrail did not expect).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from guardrail.core.kube.objects import ObjectRef

# Extended resource name of NVIDIA GPUs on nodes (device plugin).
GPU_RESOURCE = "nvidia.com/gpu"


class TaintEffect(StrEnum):
    NO_SCHEDULE = "NoSchedule"
    PREFER_NO_SCHEDULE = "PreferNoSchedule"
    NO_EXECUTE = "NoExecute"


@dataclass(frozen=True, slots=True)
class Taint:
    key: str
    value: str = ""
    effect: str = TaintEffect.NO_SCHEDULE.value


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """A Node as guardrail reasons about it (from the API or `kubectl get nodes -o json`)."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    unschedulable: bool = False
    # Condition type -> status ("True", "False", "Unknown"); `Ready` is the one most gates read.
    conditions: Mapping[str, str] = field(default_factory=dict)
    allocatable: Mapping[str, str] = field(default_factory=dict)
    provider_id: str | None = None
    kubelet_version: str = ""
    os_image: str = ""
    kernel_version: str = ""
    created_at: datetime | None = None
    # status.nodeInfo.bootID: changes on every boot, so a re-registered node of the same name is told apart.
    boot_id: str = ""

    @property
    def ready(self) -> bool:
        return self.conditions.get("Ready") == "True"

    def allocatable_count(self, resource: str) -> int:
        """An integer allocatable (GPUs, pods); 0 when absent or not a plain integer."""
        text = self.allocatable.get(resource, "0")
        return int(text) if text.isdigit() else 0

    @classmethod
    def from_manifest(cls, node: Mapping[str, Any]) -> NodeInfo:
        """A v1 Node object as the API serves it. Missing parts read as empty, never as an error."""
        metadata = _mapping(node.get("metadata"))
        spec = _mapping(node.get("spec"))
        status = _mapping(node.get("status"))
        info = _mapping(status.get("nodeInfo"))
        taints = tuple(
            Taint(str(t.get("key", "")), str(t.get("value", "") or ""), str(t.get("effect", "")))
            for t in spec.get("taints") or ()
            if isinstance(t, Mapping)
        )
        conditions = {
            str(c.get("type")): str(c.get("status"))
            for c in status.get("conditions") or ()
            if isinstance(c, Mapping) and c.get("type")
        }
        return cls(
            name=str(metadata.get("name", "")),
            labels=_strings(metadata.get("labels")),
            taints=taints,
            unschedulable=bool(spec.get("unschedulable", False)),
            conditions=conditions,
            allocatable=_strings(status.get("allocatable")),
            provider_id=spec.get("providerID") if isinstance(spec.get("providerID"), str) else None,
            kubelet_version=str(info.get("kubeletVersion", "")),
            os_image=str(info.get("osImage", "")),
            kernel_version=str(info.get("kernelVersion", "")),
            created_at=_time(metadata.get("creationTimestamp")),
            boot_id=str(info.get("bootID", "")),
        )


@dataclass(frozen=True, slots=True)
class PodInfo:
    """A Pod's placement and health."""

    namespace: str
    name: str
    node: str | None = None
    phase: str = "Pending"
    ready: bool = False
    restarts: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    owner_kind: str | None = None
    owner_name: str | None = None
    created_at: datetime | None = None

    @classmethod
    def from_manifest(cls, pod: Mapping[str, Any]) -> PodInfo:
        metadata = _mapping(pod.get("metadata"))
        spec = _mapping(pod.get("spec"))
        status = _mapping(pod.get("status"))
        owners = [o for o in metadata.get("ownerReferences") or () if isinstance(o, Mapping)]
        owner = next((o for o in owners if o.get("controller")), owners[0] if owners else None)
        ready = any(
            isinstance(c, Mapping) and c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions") or ()
        )
        restarts = sum(
            int(s.get("restartCount", 0) or 0) for s in status.get("containerStatuses") or () if isinstance(s, Mapping)
        )
        return cls(
            namespace=str(metadata.get("namespace", "")),
            name=str(metadata.get("name", "")),
            node=spec.get("nodeName") if isinstance(spec.get("nodeName"), str) else None,
            phase=str(status.get("phase", "Pending")),
            ready=ready,
            restarts=restarts,
            labels=_strings(metadata.get("labels")),
            owner_kind=str(owner["kind"]) if owner and owner.get("kind") else None,
            owner_name=str(owner["name"]) if owner and owner.get("name") else None,
            created_at=_time(metadata.get("creationTimestamp")),
        )


@dataclass(frozen=True, slots=True)
class ServedResource:
    """A kind the API server serves (discovery): its plural and whether objects live in namespaces."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the API server takes a client to be: a SelfSubjectReview's userInfo (or a service account's)."""

    username: str
    groups: tuple[str, ...] = ()


class EvictionOutcome(StrEnum):
    EVICTED = "evicted"
    BLOCKED = "blocked"  # a PodDisruptionBudget refused it (HTTP 429): try again later
    GONE = "gone"  # the pod no longer exists


class ClusterReader(Protocol):
    """Reading a cluster. Raises ClusterUnreachableError, ClusterError."""

    @property
    def name(self) -> str:
        """The cluster's name as the user gave it (a kubeconfig context, a fleet entry)."""
        ...

    @property
    def default_namespace(self) -> str:
        """Where an object that names no namespace goes: the kubeconfig context's namespace, else `default`."""
        ...

    def server_version(self) -> str:
        """The API server's version, `1.29.3` (from /version, without the leading v or build suffix)."""
        ...

    def served(self, api_version: str, kind: str) -> ServedResource | None:
        """Discovery: the resource serving `kind` at `api_version`, or None when the server does not serve it."""
        ...

    def preferred(self, group: str, kind: str) -> ServedResource | None:
        """Discovery: the resource serving `kind` of API `group` ("" for core) at the version the server
        prefers, or None when no version of the group serves it (what kubectl's REST mapper resolves)."""
        ...

    def served_resources(self) -> list[ServedResource]:
        """Discovery: every kind the server lets one list, once per API group at the group's preferred version;
        subresources (`pods/status`) and kinds that cannot be listed (`TokenReview`) left out. A kind served by
        two groups (Event in the core group and in events.k8s.io) appears once per group."""
        ...

    def get(self, ref: ObjectRef, api_version: str) -> dict[str, Any] | None:
        """The live object (as served at `api_version`), or None when it does not exist."""
        ...

    def list_objects(
        self, api_version: str, kind: str, *, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        """Every live object of the kind (in `namespace`, or all namespaces), optionally by label selector."""
        ...

    def count_objects(self, api_version: str, kind: str) -> int | None:
        """How many objects of the kind live in the cluster (all namespaces), read cheaply: None when the
        server cannot tell without listing every object (it gives no remaining-item count)."""
        ...

    def nodes(self, label_selector: str | None = None) -> list[NodeInfo]:
        """The cluster's nodes, optionally those matching a label selector."""
        ...

    def pods(
        self, *, namespace: str | None = None, label_selector: str | None = None, node: str | None = None
    ) -> list[PodInfo]:
        """Pods, narrowed by namespace, label selector and the node they run on."""
        ...

    def metrics_text(self) -> str | None:
        """The API server's /metrics in Prometheus text format, or None when it is not readable."""
        ...

    def ready(self) -> bool:
        """Whether the API server answers /readyz with ok."""
        ...

    def identity(self) -> Identity:
        """Who the API server authenticates guardrail as: a SelfSubjectReview (POST
        /apis/authentication.k8s.io/v1/selfsubjectreviews, nothing stored), its user name and groups.
        Raises ClusterUnreachableError when the server does not answer, ClusterError when it refuses or
        names no user (a server older than 1.28 serves no SelfSubjectReview)."""
        ...

    def pod_metrics_text(self, namespace: str, name: str, *, port: int, path: str = "/metrics") -> str | None:
        """A pod's metrics in Prometheus text format, read through the API server's pod proxy
        (`GET /api/v1/namespaces/NAMESPACE/pods/NAME:PORT/proxy/PATH`; how the rollout reads CoreDNS), or
        None when the pod does not serve them. Raises ClusterUnreachableError when the API server does not
        answer, ClusterError when it refuses (no such pod, proxy forbidden)."""
        ...


class ClusterWriter(Protocol):
    """Changing a cluster. Raises ClusterUnreachableError, ClusterError (refused: invalid, forbidden)."""

    def apply(
        self, manifest: Mapping[str, Any], *, field_manager: str, dry_run: bool = False, force: bool = False
    ) -> dict[str, Any]:
        """Server-side apply of the manifest; returns the object as the server now has it (or would have)."""
        ...

    def delete(self, ref: ObjectRef, api_version: str, *, dry_run: bool = False) -> bool:
        """Delete the object; False when it did not exist."""
        ...

    def label_node(self, name: str, labels: Mapping[str, str | None]) -> None:
        """Set (or, for None, remove) labels on a node."""
        ...

    def set_unschedulable(self, name: str, unschedulable: bool) -> None:
        """Cordon (True) or uncordon (False) a node."""
        ...

    def evict(self, namespace: str, name: str) -> EvictionOutcome:
        """Evict a pod through the eviction subresource, which honours PodDisruptionBudgets."""
        ...

    def delete_pod(self, namespace: str, name: str) -> None:
        """Delete a pod (an OnDelete DaemonSet then replaces it with the new template)."""
        ...

    def delete_node(self, name: str) -> None:
        """Delete a Node object (a managed pool then re-creates the machine)."""
        ...

    def create(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        """Create an object (a validation pod); returns it as created."""
        ...

    def pod_log(self, namespace: str, name: str, *, tail_lines: int = 50) -> str:
        """The last lines of a pod's log."""
        ...


class Cluster(ClusterReader, ClusterWriter, Protocol):
    """One cluster, read and written."""


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _strings(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None

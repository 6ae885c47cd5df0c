"""A simulated cluster behind the cluster port: objects, nodes, pods, metrics, APF.

guardrail's own requests are served while the API server copes; once it is overloaded they time out
(ClusterUnreachableError) unless a FlowSchema sends guardrail's identity to the `exempt` level. Requests
of the workload's service account go to the priority level of the FlowSchema matching it, when there
is one: that is how guardrail's containment caps the workload's seats.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from guardrail.core.errors import BadInputError, ClusterError, ClusterUnreachableError
from guardrail.core.kube.cluster import EvictionOutcome, Identity, NodeInfo, PodInfo, ServedResource
from guardrail.core.kube.objects import ObjectRef, split_api_version
from guardrail.simulation.apf import MANDATORY_APF, route
from guardrail.simulation.apiserver import BASELINE_FLOW
from guardrail.simulation.selectors import selector
from guardrail.simulation.world import COREDNS, World, revision_of

IDENTITY = "guardrail"  # the user the simulated API servers authenticate guardrail as
SERVER_VERSION = "1.31.2"
_SERVED = {
    ("apps/v1", "DaemonSet"): ("daemonsets", True),
    ("v1", "ConfigMap"): ("configmaps", True),
    ("v1", "ServiceAccount"): ("serviceaccounts", True),
    ("v1", "Namespace"): ("namespaces", False),
    ("v1", "Node"): ("nodes", False),
    ("v1", "Pod"): ("pods", True),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): ("clusterroles", False),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): ("clusterrolebindings", False),
    ("rbac.authorization.k8s.io/v1", "Role"): ("roles", True),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): ("rolebindings", True),
    ("flowcontrol.apiserver.k8s.io/v1", "FlowSchema"): ("flowschemas", False),
    ("flowcontrol.apiserver.k8s.io/v1", "PriorityLevelConfiguration"): ("prioritylevelconfigurations", False),
    ("authentication.k8s.io/v1", "SelfSubjectReview"): ("selfsubjectreviews", False),
}


class SimulatedCluster:
    """One cluster of a simulated fleet (implements guardrail.core.kube.cluster.Cluster)."""

    def __init__(self, world: World, *, refuse: frozenset[str] = frozenset()) -> None:
        self.world = world
        # Operations this cluster refuses, for tests: "dry-run" (every dry-run), "apply", "label".
        self.refuse = refuse
        self.objects: dict[ObjectRef, dict[str, Any]] = {ObjectRef.of(m): copy.deepcopy(m) for m in MANDATORY_APF}
        self.exempt = False
        self.calls = 0  # requests guardrail made, for tests
        self._status_cache: dict[str, tuple[int, Mapping[str, Any], dict[str, Any]]] = {}
        self._pods_cache: dict[tuple[str | None, ...], tuple[int, list[PodInfo]]] = {}

    @property
    def name(self) -> str:
        return self.world.spec.name

    @property
    def default_namespace(self) -> str:
        return "default"

    # -- reading --------------------------------------------------------------------------------------

    def server_version(self) -> str:
        self._serve()
        return SERVER_VERSION

    def served(self, api_version: str, kind: str) -> ServedResource | None:
        self._serve()
        found = _SERVED.get((api_version, kind))
        return ServedResource(api_version, kind, found[0], found[1]) if found else None

    def served_resources(self) -> list[ServedResource]:
        self._serve()
        return [ServedResource(v, k, plural, namespaced) for (v, k), (plural, namespaced) in _SERVED.items()]

    def preferred(self, group: str, kind: str) -> ServedResource | None:
        self._serve()
        for (api_version, served_kind), (plural, namespaced) in _SERVED.items():
            if served_kind == kind and split_api_version(api_version)[0] == group:
                return ServedResource(api_version, kind, plural, namespaced)
        return None

    def count_objects(self, api_version: str, kind: str) -> int | None:
        self._serve()
        found = self.served(api_version, kind)
        if found is None:
            raise ClusterError(self.name, f"{api_version} {kind} is not served")
        # What apiserver_storage_objects shows: the world's pods and nodes; other kinds as stored here.
        counted = self.world.objects().get(found.plural)
        if counted is not None:
            return counted
        group, _ = split_api_version(api_version)
        return sum(1 for ref in self.objects if ref.group == group and ref.kind == kind)

    def get(self, ref: ObjectRef, api_version: str) -> dict[str, Any] | None:
        self._serve()
        stored = self.objects.get(ref)
        if stored is None:
            return None
        result = copy.deepcopy(stored)
        if ref.kind == "DaemonSet":
            result["status"] = self._daemonset_status(ref, stored)
        return result

    def list_objects(
        self, api_version: str, kind: str, *, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        self._serve()
        group, _ = split_api_version(api_version)
        matches = self._selector(label_selector)
        return [
            copy.deepcopy(obj)
            for ref, obj in sorted(self.objects.items())
            if ref.group == group
            and ref.kind == kind
            and (namespace is None or ref.namespace == namespace)
            and matches(obj.get("metadata", {}).get("labels") or {})
        ]

    def nodes(self, label_selector: str | None = None) -> list[NodeInfo]:
        self._serve()
        infos = self.world.node_list()
        if not label_selector:
            return list(infos)
        matches = self._selector(label_selector)
        return [info for info in infos if matches(info.labels)]

    def pods(
        self, *, namespace: str | None = None, label_selector: str | None = None, node: str | None = None
    ) -> list[PodInfo]:
        self._serve()
        key = (namespace, label_selector, node)
        cached = self._pods_cache.get(key)
        if cached is not None and cached[0] == self.world.version:
            return list(cached[1])
        matches = self._selector(label_selector)
        found = [
            pod
            for pod in self.world.pod_infos()
            if (namespace is None or pod.namespace == namespace)
            and (node is None or pod.node == node)
            and matches(pod.labels)
        ]
        self._pods_cache[key] = (self.world.version, found)
        return list(found)

    def metrics_text(self) -> str | None:
        self._serve()
        return self.world.api.metrics_text(self.world.objects())

    def identity(self) -> Identity:
        self._serve()
        return Identity(IDENTITY, ("system:authenticated",))

    def pod_metrics_text(self, namespace: str, name: str, *, port: int, path: str = "/metrics") -> str | None:
        self._serve()
        if namespace == "kube-system" and name in COREDNS and port == 9153 and path == "/metrics":
            return self.world.coredns_metrics_text()
        return None

    def ready(self) -> bool:
        # /readyz is matched by the built-in `probes` FlowSchema at the exempt level: always answered.
        self.calls += 1
        return not self.world.api.failing(self.world.now)

    # -- writing --------------------------------------------------------------------------------------

    def apply(
        self, manifest: Mapping[str, Any], *, field_manager: str, dry_run: bool = False, force: bool = False
    ) -> dict[str, Any]:
        self._serve("dry-run" if dry_run else "apply")
        ref = self._ref(manifest)
        api_version = str(manifest.get("apiVersion"))
        if (api_version, ref.kind) not in _SERVED:
            raise ClusterError(self.name, f"{ref.address}: no {ref.kind} served at {api_version}")
        stored = copy.deepcopy(dict(manifest))
        previous = self.objects.get(ref)
        generation = int((previous or {}).get("metadata", {}).get("generation", 0))
        if previous is None or previous.get("spec") != stored.get("spec"):
            generation += 1  # as the API server does: only a change of spec is a new generation
        stored.setdefault("metadata", {})["generation"] = generation
        if dry_run:
            return stored
        self.objects[ref] = stored
        self._changed(ref)
        return copy.deepcopy(stored)

    def delete(self, ref: ObjectRef, api_version: str, *, dry_run: bool = False) -> bool:
        self._serve("dry-run" if dry_run else "delete")
        if ref not in self.objects:
            return False
        if not dry_run:
            del self.objects[ref]
            self._changed(ref)
        return True

    def label_node(self, name: str, labels: Mapping[str, str | None]) -> None:
        self._serve("label")
        current = self.world.node_labels.get(name)
        if current is None:
            raise ClusterError(self.name, f'nodes "{name}" not found')
        for key, value in labels.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
        self.world.forget_node(name)
        for ref, obj in self.objects.items():
            if ref.kind == "DaemonSet":
                self.world.reconcile(str(ref), obj, [name])

    def set_unschedulable(self, name: str, unschedulable: bool) -> None:
        self._serve()
        if name not in self.world.node_labels:
            raise ClusterError(self.name, f'nodes "{name}" not found')
        (self.world.unschedulable.add if unschedulable else self.world.unschedulable.discard)(name)
        self.world.forget_node(name)

    def evict(self, namespace: str, name: str) -> EvictionOutcome:
        return EvictionOutcome.EVICTED if self._delete_pod(namespace, name) else EvictionOutcome.GONE

    def delete_pod(self, namespace: str, name: str) -> None:
        if not self._delete_pod(namespace, name):
            raise ClusterError(self.name, f'pods "{name}" not found in {namespace}')

    def delete_node(self, name: str) -> None:
        self._serve()
        if self.world.node_labels.pop(name, None) is None:
            raise ClusterError(self.name, f'nodes "{name}" not found')
        for key in [k for k in self.world.pods if k[1] == name]:
            self.world.reconcile(key[0], None, [name])
        self.world.forget_node(name)

    def create(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        self._serve()
        ref = self._ref(manifest)
        if ref in self.objects:
            raise ClusterError(self.name, f"{ref.address} already exists")
        return self.apply(manifest, field_manager="guardrail")

    def pod_log(self, namespace: str, name: str, *, tail_lines: int = 50) -> str:
        self._serve()
        return ""

    # -- for the fleet and the tests ------------------------------------------------------------------

    def install_existing(self, manifest: Mapping[str, Any]) -> None:
        """An object that was there before the rehearsal; a DaemonSet's pods start Ready and are not the
        workload (they cost what the baseline already counts)."""
        ref = self._ref(manifest)
        if ref.kind == "DaemonSet":
            self.world.baseline_revisions.add(revision_of(manifest))
        stored = copy.deepcopy(dict(manifest))
        stored.setdefault("metadata", {}).setdefault("generation", 1)
        self.objects[ref] = stored
        self._changed(ref)

    def add_node(self, name: str) -> None:
        """A node joins (an autoscaler, a repaired machine): it carries no rollout label, and every
        DaemonSet that admits it starts a pod there."""
        if name in self.world.node_labels:
            raise ClusterError(self.name, f'nodes "{name}" already exists')
        self.world.add_node(name)
        for ref, obj in self.objects.items():
            if ref.kind == "DaemonSet":
                self.world.reconcile(str(ref), obj, [name])

    # -- inside ---------------------------------------------------------------------------------------

    def _serve(self, operation: str = "read") -> None:
        self.calls += 1
        if self.world.api.overloaded() and not self.exempt:
            raise ClusterUnreachableError(self.name, "request timed out: the API server is overloaded")
        if operation in self.refuse:
            raise ClusterError(self.name, f"{operation} refused (admission webhook denied the request)")

    def _ref(self, manifest: Mapping[str, Any]) -> ObjectRef:
        try:
            return ObjectRef.of(manifest)
        except BadInputError as exc:
            raise ClusterError(self.name, f"invalid object: {exc}") from None

    def _selector(self, text: str | None) -> Any:
        try:
            return selector(text)
        except BadInputError as exc:
            raise ClusterError(self.name, str(exc)) from None

    def _delete_pod(self, namespace: str, name: str) -> bool:
        self._serve("delete")
        for (key, node), pod in list(self.world.pods.items()):
            if pod.namespace == namespace and pod.name == name:
                owner = next((obj for ref, obj in self.objects.items() if str(ref) == key), None)
                if owner is None:
                    self.world.reconcile(key, None, [node])
                else:
                    self.world.recreate(key, owner, node)
                return True
        return False

    def _changed(self, ref: ObjectRef) -> None:
        if ref.kind == "DaemonSet":
            self.world.reconcile(str(ref), self.objects.get(ref))
        if ref.kind in ("DaemonSet", "FlowSchema", "PriorityLevelConfiguration"):
            self._route()

    def _route(self) -> None:
        """Which priority level guardrail's and the workload's requests land in, from the FlowSchemas."""
        routing = route(self.objects, IDENTITY, self._workload_account())
        self.exempt = routing.exempt
        api = self.world.api
        api.bound_level, api.bound_shares = routing.bound_level, routing.bound_shares
        self.world.workload_flow = routing.workload_flow or BASELINE_FLOW

    def _workload_account(self) -> tuple[str, str] | None:
        for ref, obj in self.objects.items():
            if ref.kind == "DaemonSet" and revision_of(obj) not in self.world.baseline_revisions:
                pod_spec = obj.get("spec", {}).get("template", {}).get("spec", {})
                return ref.namespace or "default", str(pod_spec.get("serviceAccountName") or "default")
        return None

    def _daemonset_status(self, ref: ObjectRef, daemonset: Mapping[str, Any]) -> dict[str, Any]:
        key = str(ref)
        cached = self._status_cache.get(key)
        if cached is not None and cached[0] == self.world.version and cached[1] is daemonset:
            return dict(cached[2])
        revision = revision_of(daemonset)
        pods = [p for (k, _), p in self.world.pods.items() if k == key]
        ready = [p for p in pods if p.ready_at <= self.world.now and self.world.nodes_ready]
        status = {
            "desiredNumberScheduled": len(pods),
            "currentNumberScheduled": len(pods),
            "numberReady": len(ready),
            "updatedNumberScheduled": sum(p.revision == revision for p in pods),
            "observedGeneration": daemonset.get("metadata", {}).get("generation", 1),
        }
        self._status_cache[key] = (self.world.version, daemonset, status)
        return dict(status)

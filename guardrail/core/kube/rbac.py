"""RBAC as the control-plane cost rule reads it: what a service account may list or watch in every
namespace, through ClusterRoleBindings to ClusterRoles (aggregated ones included), once a change is applied.

RoleBindings are left out on purpose: even to a ClusterRole they grant within one namespace only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guardrail.core.change import Action
from guardrail.core.kube.change import KubeChangeSet
from guardrail.core.kube.objects import ObjectRef, split_api_version

RBAC_GROUP = "rbac.authorization.k8s.io"


@dataclass(frozen=True, slots=True)
class WatchedResource:
    """A resource whose every object a pod that lists or watches it cluster-wide reads: its name in RBAC
    rules, its kind, and the API versions that serve it (one per API group that does, the usual first)."""

    resource: str
    kind: str
    api_versions: tuple[str, ...]

    @property
    def groups(self) -> frozenset[str]:
        """The API groups whose RBAC rules grant it."""
        return frozenset(split_api_version(version)[0] for version in self.api_versions)

    @property
    def count_key(self) -> str:
        """The key of ClusterView.counts under which a live reading counts its objects (kubectl's type)."""
        return ObjectRef(split_api_version(self.api_versions[0])[0], self.kind, None, "").type


# The one table of these resources: what the control-plane cost rule looks for in RBAC, what a live reading
# counts on each cluster, and how the rule finds those counts. Both Event APIs serve the same objects.
WATCHED: tuple[WatchedResource, ...] = (
    WatchedResource("pods", "Pod", ("v1",)),
    WatchedResource("nodes", "Node", ("v1",)),
    WatchedResource("endpoints", "Endpoints", ("v1",)),
    WatchedResource("endpointslices", "EndpointSlice", ("discovery.k8s.io/v1",)),
    WatchedResource("events", "Event", ("v1", "events.k8s.io/v1")),
    WatchedResource("secrets", "Secret", ("v1",)),
    WatchedResource("configmaps", "ConfigMap", ("v1",)),
)
LISTING_VERBS = ("list", "watch")
# Groups every service account belongs to, besides its own namespace's `system:serviceaccounts:<ns>`.
_ALL_ACCOUNTS = ("system:serviceaccounts", "system:authenticated")


@dataclass(frozen=True, slots=True)
class ListGrant:
    """A ClusterRoleBinding that lets a service account list or watch some WATCHED resources cluster-wide."""

    binding: str
    cluster_role: str
    verbs: tuple[str, ...]  # of LISTING_VERBS, in that order
    resources: tuple[str, ...]  # of WATCHED, in its order


class ClusterRbac:
    """The ClusterRoles and ClusterRoleBindings of one cluster as they will be: the live ones (when known)
    with the change set's creates, updates and deletes applied. `live_known` is False offline, and when the
    cluster would not let them be listed."""

    def __init__(
        self, roles: Mapping[str, Mapping[str, Any]], bindings: Iterable[Mapping[str, Any]], *, live_known: bool
    ) -> None:
        self.roles = dict(roles)
        self.bindings = tuple(bindings)
        self.live_known = live_known
        self._by_subject: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        for binding in self.bindings:
            for subject in _list(binding.get("subjects")):
                if isinstance(subject, Mapping):
                    self._by_subject.setdefault(_subject_key(subject), []).append(binding)
        self._rules: dict[str, list[Mapping[str, Any]]] = {}

    @classmethod
    def after(cls, changes: KubeChangeSet, cluster: str, *, with_changes: bool = True) -> ClusterRbac:
        """The cluster's RBAC once the change set is applied (or, with_changes=False, as it is live)."""
        view = changes.cluster(cluster)
        live = view.live if view is not None else None
        roles = {_name(o): o for o in view.live_of_kind("ClusterRole", RBAC_GROUP)} if view else {}
        bindings = {_name(o): o for o in view.live_of_kind("ClusterRoleBinding", RBAC_GROUP)} if view else {}
        for change in changes.on(cluster) if with_changes else ():
            target = {"ClusterRole": roles, "ClusterRoleBinding": bindings}.get(change.ref.kind)
            if target is None or change.ref.group != RBAC_GROUP:
                continue
            if change.action is Action.DELETE:
                target.pop(change.ref.name, None)
            elif change.after is not None:
                target[change.ref.name] = change.after
        unreadable = view.unreadable if view is not None else frozenset()
        read = live is not None and not unreadable & {_type("ClusterRole"), _type("ClusterRoleBinding")}
        return cls(roles, bindings.values(), live_known=read)

    def grants(self, namespace: str, service_account: str) -> list[ListGrant]:
        """What the service account may list or watch across all namespaces, binding by binding."""
        keys = [
            ("ServiceAccount", f"{namespace}/{service_account}"),
            ("User", f"system:serviceaccount:{namespace}:{service_account}"),
            ("Group", f"system:serviceaccounts:{namespace}"),
            *(("Group", group) for group in _ALL_ACCOUNTS),
        ]
        found: list[ListGrant] = []
        seen: set[str] = set()
        for key in keys:
            for binding in self._by_subject.get(key, ()):
                name = _name(binding)
                ref = binding.get("roleRef")
                if name in seen or not isinstance(ref, Mapping) or ref.get("kind") != "ClusterRole":
                    continue
                seen.add(name)
                role = str(ref.get("name", ""))
                verbs, resources = _listing(self.rules_of(role))
                if verbs and resources:
                    found.append(ListGrant(name, role, verbs, resources))
        return found

    def rules_of(self, role: str) -> list[Mapping[str, Any]]:
        """A ClusterRole's rules, with those of the ClusterRoles it aggregates (by their labels)."""
        if role not in self._rules:
            self._rules[role] = self._aggregate(role, {role})
        return self._rules[role]

    def _aggregate(self, role: str, seen: set[str]) -> list[Mapping[str, Any]]:
        found = self.roles.get(role)
        if found is None:
            return []  # a binding to a role that does not exist grants nothing until it does
        rules = [r for r in _list(found.get("rules")) if isinstance(r, Mapping)]
        aggregation = found.get("aggregationRule")
        selectors = _list(aggregation.get("clusterRoleSelectors")) if isinstance(aggregation, Mapping) else []
        for other, manifest in self.roles.items():
            labels = _labels(manifest)
            if other not in seen and any(isinstance(s, Mapping) and selects(s, labels) for s in selectors):
                seen.add(other)
                rules.extend(self._aggregate(other, seen))
        return rules


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) selects these labels; {} selects all."""
    match_labels = selector.get("matchLabels")
    if isinstance(match_labels, Mapping) and any(labels.get(str(k)) != str(v) for k, v in match_labels.items()):
        return False
    for expression in _list(selector.get("matchExpressions")):
        if not isinstance(expression, Mapping):
            return False
        key, operator = str(expression.get("key", "")), expression.get("operator")
        values = {str(v) for v in _list(expression.get("values"))}
        holds = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }.get(str(operator), False)
        if not holds:
            return False
    return True


def _listing(rules: Sequence[Mapping[str, Any]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    verbs: set[str] = set()
    resources: set[str] = set()
    for rule in rules:
        if rule.get("resourceNames"):
            continue  # limited to named objects: not every object of the resource
        rule_verbs = {str(v) for v in _list(rule.get("verbs"))}
        listing = set(LISTING_VERBS) if "*" in rule_verbs else rule_verbs & set(LISTING_VERBS)
        groups = {str(g) for g in _list(rule.get("apiGroups"))}
        named = {str(r) for r in _list(rule.get("resources"))}
        granted = {
            watched.resource
            for watched in WATCHED
            if ("*" in named or watched.resource in named) and ("*" in groups or groups & watched.groups)
        }
        if listing and granted:
            verbs |= listing
            resources |= granted
    return tuple(v for v in LISTING_VERBS if v in verbs), tuple(w.resource for w in WATCHED if w.resource in resources)


def _type(kind: str) -> str:
    return ObjectRef(RBAC_GROUP, kind, None, "").type


def _subject_key(subject: Mapping[str, Any]) -> tuple[str, str]:
    kind, name = str(subject.get("kind", "")), str(subject.get("name", ""))
    if kind == "ServiceAccount":
        return kind, f"{subject.get('namespace', '')}/{name}"
    return kind, name


def _name(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata")
    return str(metadata.get("name", "")) if isinstance(metadata, Mapping) else ""


def _labels(obj: Mapping[str, Any]) -> dict[str, str]:
    metadata = obj.get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []

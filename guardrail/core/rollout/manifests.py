"""The objects a guarded rollout writes, built as plain manifests (the services apply them via the port).

- a new DaemonSet gets a required node affinity that keeps it off the nodes guardrail holds (rollout label
  `hold`), and guardrail releases them batch by batch; nodes that join later are not held, so they get
  their pod once the rollout is over (and during it: the gates see them);
- an update of an existing DaemonSet gets the OnDelete strategy, so guardrail replaces pods batch by batch;
- containment: a bounded APF priority level and a FlowSchema sending the workload's service account to it
  (at worst its requests queue or get 429s, kubelets and CoreDNS keep their seats), and a FlowSchema
  sending the identity that runs the rollback to the `exempt` level, so an overloaded API server still
  serves the rollback.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from guardrail.core.kube.objects import ObjectRef, mapping_at
from guardrail.core.rollout.policy import HOLD

FLOWCONTROL_API = "flowcontrol.apiserver.k8s.io/v1"
EXEMPT_LEVEL = "exempt"
ROLLBACK_FLOW_SCHEMA = "guardrail-rollback"
# Lower wins: ahead of the built-in schemas (system-nodes is 500, workload-low 9000, catch-all 10000).
_ROLLBACK_PRECEDENCE = 200
_WORKLOAD_PRECEDENCE = 300
_EVERY_RESOURCE = {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "clusterScope": True, "namespaces": ["*"]}
# Fields the server owns: a restored object must not carry them back.
_SERVER_METADATA = ("resourceVersion", "uid", "creationTimestamp", "managedFields", "generation", "selfLink")


def is_daemonset(manifest: Mapping[str, Any]) -> bool:
    return manifest.get("kind") == "DaemonSet" and str(manifest.get("apiVersion", "")).startswith("apps/")


def service_account(daemonset: Mapping[str, Any]) -> tuple[str, str]:
    """(namespace, name) of the service account the DaemonSet's pods run as (`default` when unset)."""
    ref = ObjectRef.of(daemonset)
    spec = mapping_at(daemonset, "spec", "template", "spec")
    name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    return ref.namespace or "default", str(name)


def workload_flow_schema(daemonset: Mapping[str, Any]) -> str:
    """The name of the workload's FlowSchema and of its bounded priority level."""
    ref = ObjectRef.of(daemonset)
    return f"guardrail-workload-{ref.namespace or 'default'}-{ref.name}"[:253]


def node_label(prefix: str, daemonset: Mapping[str, Any]) -> str:
    """The label that holds the DaemonSet off a node: one per DaemonSet, so two rollouts never share it."""
    name = ObjectRef.of(daemonset).name
    group, _, base = prefix.rpartition("/")
    key = f"{base}-{name}"[:63].rstrip("-._")  # a label name has at most 63 characters
    return f"{group}/{key}" if group else key


def with_hold_affinity(daemonset: Mapping[str, Any], label: str) -> dict[str, Any]:
    """The DaemonSet with a required node affinity that admits only nodes where `label` is absent or not
    HOLD (`NotIn [hold]` holds for a node without the label), ANDed into every node selector term it
    already has (so it never reaches a node its own affinity excludes)."""
    result = copy.deepcopy(dict(daemonset))
    pod_spec = result.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})
    required = (
        pod_spec.setdefault("affinity", {})
        .setdefault("nodeAffinity", {})
        .setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
    )
    terms = required.setdefault("nodeSelectorTerms", [])
    expression = {"key": label, "operator": "NotIn", "values": [HOLD]}
    if not terms:
        terms.append({"matchExpressions": [expression]})
    for term in terms:
        if expression not in term.setdefault("matchExpressions", []):
            term["matchExpressions"].append(dict(expression))
    return result


def with_on_delete(daemonset: Mapping[str, Any]) -> dict[str, Any]:
    """The DaemonSet with the OnDelete update strategy: pods change only when guardrail deletes them."""
    result = copy.deepcopy(dict(daemonset))
    result.setdefault("spec", {})["updateStrategy"] = {"type": "OnDelete"}
    return result


def restorable(live: Mapping[str, Any]) -> dict[str, Any]:
    """A live object as a manifest to apply back: without status and server-owned metadata."""
    result = copy.deepcopy(dict(live))
    result.pop("status", None)
    metadata = result.get("metadata")
    if isinstance(metadata, dict):
        for key in _SERVER_METADATA:
            metadata.pop(key, None)
    return result


def containment(daemonset: Mapping[str, Any], *, shares: int, rollback_user: str) -> list[dict[str, Any]]:
    """The bounded priority level and FlowSchema of the workload, and the rollback identity's FlowSchema."""
    name = workload_flow_schema(daemonset)
    namespace, account = service_account(daemonset)
    level = {
        "apiVersion": FLOWCONTROL_API,
        "kind": "PriorityLevelConfiguration",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "guardrail"}},
        "spec": {
            "type": "Limited",
            "limited": {
                "nominalConcurrencyShares": shares,
                "lendablePercent": 0,
                "borrowingLimitPercent": 0,  # never more than its own seats, even when others are idle
                "limitResponse": {"type": "Queue", "queuing": {"queues": 16, "handSize": 4, "queueLengthLimit": 50}},
            },
        },
    }
    workload_subject = {"kind": "ServiceAccount", "serviceAccount": {"name": account, "namespace": namespace}}
    return [
        level,
        _flow_schema(name, name, _WORKLOAD_PRECEDENCE, workload_subject),
        _flow_schema(ROLLBACK_FLOW_SCHEMA, EXEMPT_LEVEL, _ROLLBACK_PRECEDENCE, subject_of(rollback_user)),
    ]


def subject_of(username: str) -> dict[str, Any]:
    """The FlowSchema subject of an authenticated user name (a service account's is spelled
    `system:serviceaccount:NAMESPACE:NAME`)."""
    parts = username.split(":")
    if len(parts) == 4 and parts[:2] == ["system", "serviceaccount"]:
        return {"kind": "ServiceAccount", "serviceAccount": {"namespace": parts[2], "name": parts[3]}}
    return {"kind": "User", "user": {"name": username}}


def _flow_schema(name: str, level: str, precedence: int, subject: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": FLOWCONTROL_API,
        "kind": "FlowSchema",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "guardrail"}},
        "spec": {
            "priorityLevelConfiguration": {"name": level},
            "matchingPrecedence": precedence,
            "distinguisherMethod": {"type": "ByUser"},
            "rules": [
                {
                    "subjects": [dict(subject)],
                    "resourceRules": [copy.deepcopy(_EVERY_RESOURCE)],
                    "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                }
            ],
        },
    }

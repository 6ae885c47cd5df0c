"""The ids and descriptions of the built-in Kubernetes rules: the one place that names them.

Every finding carries its rule's id; renderers (the SARIF rule list), the TUI and the docs read the
descriptions from here, never a copy.
"""

from __future__ import annotations

from collections.abc import Mapping

DEPRECATED_API = "kube-deprecated-api"
NODE_REACH = "kube-node-reach"
CONTROL_PLANE_COST = "kube-control-plane-cost"

KUBE_RULE_DESCRIPTIONS: Mapping[str, str] = {
    DEPRECATED_API: "An object uses an API version that the target Kubernetes release no longer serves, or that "
    "it deprecates.",
    NODE_REACH: "A per-node workload reaches more nodes in one step than kubernetes.max_reach allows, or no node.",
    CONTROL_PLANE_COST: "A DaemonSet's service account may list or watch objects across all namespaces from "
    "every node: API server load that grows with nodes x objects.",
}

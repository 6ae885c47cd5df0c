"""The ids and descriptions of the built-in Kubernetes rules, declared in the rule registry
(guardrail.core.policy) like every built-in rule: renderers (the SARIF rule list), the TUI and the docs
read them from there, never a copy."""

from __future__ import annotations

from guardrail.core.policy import register_rule

DEPRECATED_API = register_rule(
    "kube-deprecated-api",
    "An object uses an API version that the target Kubernetes release no longer serves, or that it deprecates.",
)
NODE_REACH = register_rule(
    "kube-node-reach",
    "A per-node workload reaches more nodes in one step than kubernetes.max_reach allows, or no node.",
)
CONTROL_PLANE_COST = register_rule(
    "kube-control-plane-cost",
    "A DaemonSet's service account may list or watch objects across all namespaces from every node: API server "
    "load that grows with nodes x objects.",
)

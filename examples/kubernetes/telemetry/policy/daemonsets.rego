package main

import rego.v1

# Each Kubernetes object is one input, as conftest reads a multi-document file.

# A DaemonSet that tolerates every taint runs on every node, GPU and control-plane nodes included: a
# person approves it, and it goes out with the fleet canary (guardrail rollout), not all at once.
require_approval contains msg if {
	input.kind == "DaemonSet"
	some toleration in input.spec.template.spec.tolerations
	toleration.operator == "Exists"
	not toleration.key
	msg := sprintf("DaemonSet %s tolerates every taint: it will run on every node", [input.metadata.name])
}

# Every workload declares what it requests.
warn contains msg if {
	input.kind in {"Deployment", "DaemonSet", "StatefulSet"}
	some container in input.spec.template.spec.containers
	not container.resources.requests
	msg := sprintf("%s %s: container %s has no resource requests", [input.kind, input.metadata.name, container.name])
}

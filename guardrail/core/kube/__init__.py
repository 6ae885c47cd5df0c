"""Kubernetes in the core: objects and their addresses, nodes and pods as a cluster shows them, and the
cluster port that the gate, the fleet canary and the node-pool cycle all drive."""

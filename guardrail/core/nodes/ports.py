"""What a node cycle needs beyond the cluster port: a way to replace a node's machine.

Replacing a machine is the cloud provider's business, not the API server's: the cluster port cannot do
it. Three implementations: a `--replace-command` template run through guardrail.adapters.process (an
`az vmss reimage`, a `gcloud compute instances delete`), deleting the Node and letting the managed pool
re-create it (over the cluster port), and the simulator's own machines in a rehearsal.
"""

from __future__ import annotations

from typing import Protocol

from guardrail.core.kube.cluster import NodeInfo


class NodeReplacer(Protocol):
    def replace(self, node: NodeInfo) -> None:
        """Start replacing the node's machine; return once the provider accepted it (the new machine boots
        afterwards, on its own). Raises CommandError (the command failed; CommandTimeoutError when it ran
        past its time limit), BadInputError (a template that does not render, a command not found),
        ClusterError or ClusterUnreachableError (deleting the Node was refused or not answered)."""
        ...

    def describe(self, node: NodeInfo) -> str:
        """What `replace(node)` would do, in words a person checks before a cycle (the command line, or the
        Node's deletion); nothing is done. Raises BadInputError when a template does not render for it."""
        ...

"""Kinds nobody declared: neither Kubernetes itself nor a CustomResourceDefinition in the same input.

Offline their scope is unknown (the address keeps whatever namespace the manifest wrote, and a namespace
criterion of `protect:` or a lock cannot say no: it asks for approval), and whether the target cluster
serves the kind at all is unknown too (a live check refuses a kind the cluster does not serve). One
finding per kind, not per object: a stack of 300 ServiceMonitors is one thing to know.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from guardrail.core.kube.change import KubeChangeSet
from guardrail.core.policy import register_rule
from guardrail.core.verdict import Enforcement, Finding

RULE_ID = register_rule(
    "kube-unknown-kind", "Kubernetes objects of a kind that neither Kubernetes nor a CRD of the input declares."
)


@dataclass(frozen=True)
class UnknownKindsRule:
    enforcement: Enforcement = Enforcement.ADVISORY
    id: str = RULE_ID

    def evaluate(self, changes: KubeChangeSet) -> Sequence[Finding]:
        counts: dict[tuple[str, str], int] = {}
        for change in changes.changes:
            if not change.scope_known:
                key = (change.ref.group, change.ref.kind)
                counts[key] = counts.get(key, 0) + 1
        return [
            Finding(
                self.id,
                self.enforcement,
                None,
                f"{count:,} object change{'' if count == 1 else 's'} of kind {kind}"
                f"{f'.{group}' if group else ''}, which neither Kubernetes nor a CustomResourceDefinition of "
                "this input declares: judged as written (scope unknown); the cluster must serve it",
            )
            for (group, kind), count in sorted(counts.items())
        ]

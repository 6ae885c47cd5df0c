"""The Kubernetes gate once a change is known: its fingerprint, the ChangeSet every other part of guardrail
reads, the built-in rules, `protect:`, the blast radius and the custom policies, decided into a report.

`kube check` and `kube apply` reach it from manifests, `kube rollback` from a saved rollback point: one gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgspec

from guardrail.config import Settings
from guardrail.core.blast.impact import BlastRadius
from guardrail.core.change import ChangeSet
from guardrail.core.fingerprint import fingerprint
from guardrail.core.kube.blast import kube_blast_radius
from guardrail.core.kube.change import DiffSource, KubeChangeSet
from guardrail.core.kube.derive import derived_changeset, fingerprint_sections
from guardrail.core.kube.render import RenderedObject
from guardrail.core.kube.report import kube_report
from guardrail.core.policy import evaluate, evaluate_kube
from guardrail.core.ports import PolicyEngine, PolicyRun
from guardrail.core.report import CheckReport
from guardrail.core.secrets import scrubber_for
from guardrail.core.verdict import Finding, Verdict
from guardrail.services.kube_rules import change_rules, kube_rules, reach_analysis
from guardrail.services.rules import blast_radius_rule
from guardrail.services.wiring import policy_engine

_ENCODER = msgspec.json.Encoder(order="sorted")


def policies_of(settings: Settings, extra: Sequence[Path]) -> PolicyEngine | None:
    """The custom policies of the config's `policies:` and `extra`, loaded (None when there are none).
    Raises PolicyError when one does not load: before any other work."""
    paths = [*settings.policy_paths(), *extra]
    if not paths:
        return None
    return policy_engine(paths, tuple(settings.namespaces), False)


def submit(engine: PolicyEngine, objects: Sequence[RenderedObject]) -> PolicyRun:
    """Start the policies on `objects`: each as the input wrote it, one input per object (conftest's
    multi-document YAML), named by its address without cluster (the findings go to each cluster's change)."""
    return engine.submit_each([(obj.ref.address, _ENCODER.encode(obj.written)) for obj in objects])


def judged(
    settings: Settings,
    objects: Sequence[RenderedObject],
    changes: KubeChangeSet,
    *,
    source: str,
    run: PolicyRun | None = None,
    covers: Sequence[tuple[str, Any]] = (),
) -> CheckReport:
    """The report on `changes` (the change `objects` make on its clusters): its fingerprint covers the
    objects, the changes and the clusters (and `covers`, more sections such as the apply a rollback undoes).

    Raises PolicyError when a policy fails to evaluate; never returns an "allow" a failed step would deny.
    """
    sections = [*fingerprint_sections(objects, changes), *covers]
    identity = fingerprint((name, _ENCODER.encode(data)) for name, data in sections)
    derived = derived_changeset(changes, source=source, fingerprint=identity)
    findings = evaluate(derived, change_rules(settings))
    findings.extend(evaluate_kube(changes, kube_rules(settings)))
    reach = reach_analysis(settings, changes)
    findings.extend(reach.findings)
    blast = _blast(settings, changes, derived, findings)
    if run is not None:
        findings.extend(_policy_findings(run, objects, changes, derived))
    notes = tuple(_client_side_notes(changes))
    kube = kube_report(changes, reach.reaches)
    return CheckReport(derived, Verdict.of(findings), blast=blast, kube=kube, notes=notes)


def _client_side_notes(changes: KubeChangeSet) -> list[str]:
    return [
        f"cluster {view.name}: the API server refused a server-side dry-run apply, so its diff is client-side: "
        "only the fields the manifests set are compared with the live objects, and a field a manifest no longer "
        "sets is not seen"
        for view in changes.clusters
        if view.diff_source is DiffSource.CLIENT_SIDE
    ]


def _blast(
    settings: Settings, changes: KubeChangeSet, derived: ChangeSet, findings: list[Finding]
) -> BlastRadius | None:
    rule = blast_radius_rule(settings)
    if rule is None:
        return None
    blast = kube_blast_radius(changes, derived, rule.settings.critical)
    findings.extend(rule.findings(blast))
    return blast


def _policy_findings(
    run: PolicyRun, objects: Sequence[RenderedObject], changes: KubeChangeSet, derived: ChangeSet
) -> list[Finding]:
    scrub = scrubber_for(changes.sensitive_literals)
    # A policy names an object by its address as rendered; on a cluster the object may sit elsewhere (the
    # context's namespace), so its changes are found by the document they came from.
    rendered = {obj.source: obj.ref.address for obj in objects}
    on_clusters: dict[str, list[str]] = {}
    for change, resource in zip(changes.changes, derived.changes, strict=True):
        on_clusters.setdefault(rendered.get(change.source, change.ref.address), []).append(resource.address)
    findings = []
    for found in run.findings():
        message = scrub(found.message)  # a policy may quote the object, Secret values included
        for address in on_clusters.get(found.address or "", [found.address]):
            findings.append(replace(found, address=address, message=message))
    return findings

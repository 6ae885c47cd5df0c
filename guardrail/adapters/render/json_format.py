"""The machine contract on stdout: one JSON document, stable keys, `schema_version` bumped on any break.

Every key is always present (null or empty when there is nothing to say), so consumers never need to
guess between "absent" and "none". Free text (messages, notes) is scrubbed of the plan's sensitive
literals before encoding, because a literal is no longer recognisable once JSON-escaped; names (addresses,
rule ids, paths) are never secrets and are written as they are.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

import guardrail
from guardrail.adapters.render.common import SafeReport
from guardrail.core.report import CheckReport

SCHEMA_VERSION = 1


class JsonChange(msgspec.Struct):
    """One resource change. `replace_paths` are attribute paths (keys and list indices)."""

    address: str
    previous_address: str | None
    type: str
    action: str
    actions: list[str]
    action_reason: str | None
    replace_order: str | None
    replace_paths: list[list[str | int]]
    cluster: str | None  # Kubernetes: the target cluster (null for Terraform)
    changed_paths: list[str] | None  # Kubernetes: the fields an update changes, `data.level` (null for Terraform)


class JsonFinding(msgspec.Struct):
    """One finding; `address` is null for a finding about the plan as a whole."""

    rule: str
    enforcement: str
    address: str | None
    message: str
    unknown: bool
    source: str | None


class JsonImpact(msgspec.Struct):
    """What one destructive change takes with it. `impacted` is transitive and sorted; `downtime` is a
    delete-then-create replace that others depend on; `critical` is the change itself matching `critical:`."""

    address: str
    action: str
    impacted: list[str]
    downtime: bool
    deposed: str | None
    replace_order: str | None
    critical: bool
    critical_impacted: list[str]
    # Kubernetes (null for Terraform): the cluster, what the change does to what it reaches, the pods that
    # restart or go (a DaemonSet), and what could not be known (e.g. live objects offline).
    cluster: str | None
    effect: str | None
    pods: int | None
    unknown: str | None


class JsonCluster(msgspec.Struct):
    """A target cluster of a Kubernetes check. `diff_source` says how its changes were known: `offline`
    (everything a create, or a delete), `client-side` or `server-side` (dry-run apply)."""

    name: str
    version: str | None
    nodes: int | None
    diff_source: str
    summary: dict[str, int]


class JsonReach(msgspec.Struct):
    """The nodes of `cluster` a per-node workload will run on (`nodes` of `total`; null when unknown)."""

    address: str
    cluster: str
    nodes: int | None
    total: int | None


class JsonReversibility(msgspec.Struct):
    """How far re-applying the earlier configuration undoes one change: `reversibility` is reversible,
    lossy or irreversible; `unknown` when it depends on values known only after apply."""

    address: str
    reversibility: str
    reason: str
    action: str
    deposed: str | None
    unknown: bool


class JsonReport(msgspec.Struct):
    """The document. `summary` counts changes per action, every action present."""

    schema_version: int
    guardrail_version: str
    verdict: str
    fingerprint: str
    source: str
    format_version: str
    terraform_version: str | None
    summary: dict[str, int]
    changes: list[JsonChange]
    findings: list[JsonFinding]
    blast_radius: list[JsonImpact] | None  # null when the analysis is turned off
    notes: list[str]
    clusters: list[JsonCluster] | None  # Kubernetes only: null for a Terraform plan
    reach: list[JsonReach] | None  # Kubernetes only
    rollback: list[JsonReversibility] | None  # every change but no-ops and reads, weightiest first
    rollback_summary: dict[str, int] | None  # changes per class: irreversible, lossy, reversible
    config: str | None  # the guardrail.yaml the plan was judged by; null: the built-in defaults
    store: str | None  # the store of its locks and approvals; null: not consulted


_ENCODER = msgspec.json.Encoder()


class JsonRenderer:
    """Renders a CheckReport as the JSON machine contract (indented, keys in a fixed order)."""

    def render(self, report: CheckReport) -> str:
        """The JSON document followed by a newline."""
        raw = _ENCODER.encode(build(report))
        return msgspec.json.format(raw, indent=2).decode() + "\n"


def build(report: CheckReport) -> JsonReport:
    """The document as a msgspec Struct, for callers that embed it in a larger one."""
    safe = SafeReport.of(report)
    text, name = safe.text, safe.name
    changeset = report.changeset
    changes = [
        JsonChange(
            address=name(c.address),
            previous_address=name(c.previous_address) if c.previous_address is not None else None,
            type=c.type,
            action=c.action.value,
            actions=list(c.actions),
            action_reason=c.action_reason,
            replace_order=c.replace_order.value if c.replace_order is not None else None,
            replace_paths=[[name(s) if isinstance(s, str) else s for s in path] for path in c.replace_paths],
            cluster=name(c.cluster_object.cluster) if c.cluster_object is not None else None,
            changed_paths=[name(p) for p in c.cluster_object.changed_paths] if c.cluster_object is not None else None,
        )
        for c in changeset.changes
    ]
    findings = [
        JsonFinding(
            rule=name(f.rule),
            enforcement=f.enforcement.value,
            address=name(f.address) if f.address is not None else None,
            message=text(f.message),
            unknown=f.unknown,
            source=name(f.source) if f.source is not None else None,
        )
        for f in report.verdict.findings
    ]
    return JsonReport(
        schema_version=SCHEMA_VERSION,
        guardrail_version=guardrail.__version__,
        verdict=report.verdict.decision.value,
        fingerprint=changeset.fingerprint,
        source=name(changeset.source),
        format_version=changeset.format_version,
        terraform_version=changeset.terraform_version,
        summary=changeset.summary(),
        changes=changes,
        findings=findings,
        blast_radius=_impacts(report, name),
        notes=[text(note) for note in report.notes],
        clusters=_clusters(report, name),
        reach=_reach(report, name),
        rollback=_rollback(report, text, name),
        rollback_summary=report.rollback.counts() if report.rollback is not None else None,
        config=report.config,
        store=report.store,
    )


def _clusters(report: CheckReport, name: Callable[[str], str]) -> list[JsonCluster] | None:
    if report.kube is None:
        return None
    return [
        JsonCluster(name(c.name), c.version, c.nodes, c.diff_source.value, dict(c.summary))
        for c in report.kube.clusters
    ]


def _reach(report: CheckReport, name: Callable[[str], str]) -> list[JsonReach] | None:
    if report.kube is None:
        return None
    return [JsonReach(name(r.address), name(r.cluster), r.nodes, r.total) for r in report.kube.reach]


def _rollback(
    report: CheckReport, text: Callable[[str], str], name: Callable[[str], str]
) -> list[JsonReversibility] | None:
    if report.rollback is None:
        return None
    return [
        JsonReversibility(
            address=name(entry.address),
            reversibility=entry.reversibility.value,
            reason=text(entry.reason),
            action=entry.action.value,
            deposed=entry.deposed,
            unknown=entry.unknown,
        )
        for entry in report.rollback.changes
    ]


def _impacts(report: CheckReport, name: Callable[[str], str]) -> list[JsonImpact] | None:
    if report.blast is None:
        return None
    ordered = sorted(report.blast.impacts, key=lambda i: (i.address, i.deposed or ""))
    return [
        JsonImpact(
            address=name(impact.address),
            action=impact.action.value,
            impacted=[name(r.address) for r in impact.impacted],
            downtime=impact.downtime,
            deposed=impact.deposed,
            replace_order=impact.replace_order.value if impact.replace_order is not None else None,
            critical=impact.critical,
            critical_impacted=[name(r.address) for r in impact.critical_impacted],
            cluster=name(impact.cluster) if impact.cluster is not None else None,
            effect=name(impact.effect) if impact.effect is not None else None,
            pods=impact.pods,
            unknown=name(impact.unknown) if impact.unknown is not None else None,
        )
        for impact in ordered
    ]

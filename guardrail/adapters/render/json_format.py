"""The machine contract on stdout: one JSON document, stable keys, `schema_version` bumped on any break.

Every key is always present (null or empty when there is nothing to say), so consumers never need to
guess between "absent" and "none". Free text (messages, notes, addresses) is scrubbed of the plan's
sensitive literals before encoding, because a literal is no longer recognisable once JSON-escaped.
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
    text = SafeReport.of(report).text
    changeset = report.changeset
    changes = [
        JsonChange(
            address=text(c.address),
            previous_address=text(c.previous_address) if c.previous_address is not None else None,
            type=c.type,
            action=c.action.value,
            actions=list(c.actions),
            action_reason=c.action_reason,
            replace_order=c.replace_order.value if c.replace_order is not None else None,
            replace_paths=[[text(s) if isinstance(s, str) else s for s in path] for path in c.replace_paths],
        )
        for c in changeset.changes
    ]
    findings = [
        JsonFinding(
            rule=text(f.rule),
            enforcement=f.enforcement.value,
            address=text(f.address) if f.address is not None else None,
            message=text(f.message),
            unknown=f.unknown,
            source=text(f.source) if f.source is not None else None,
        )
        for f in report.verdict.findings
    ]
    return JsonReport(
        schema_version=SCHEMA_VERSION,
        guardrail_version=guardrail.__version__,
        verdict=report.verdict.decision.value,
        fingerprint=changeset.fingerprint,
        source=text(changeset.source),
        format_version=changeset.format_version,
        terraform_version=changeset.terraform_version,
        summary=changeset.summary(),
        changes=changes,
        findings=findings,
        blast_radius=_impacts(report, text),
        notes=[text(note) for note in report.notes],
        config=report.config,
        store=report.store,
    )


def _impacts(report: CheckReport, text: Callable[[str], str]) -> list[JsonImpact] | None:
    if report.blast is None:
        return None
    ordered = sorted(report.blast.impacts, key=lambda i: (i.address, i.deposed or ""))
    return [
        JsonImpact(
            address=text(impact.address),
            action=impact.action.value,
            impacted=[text(r.address) for r in impact.impacted],
            downtime=impact.downtime,
            deposed=impact.deposed,
            replace_order=impact.replace_order.value if impact.replace_order is not None else None,
            critical=impact.critical,
            critical_impacted=[text(r.address) for r in impact.critical_impacted],
        )
        for impact in ordered
    ]

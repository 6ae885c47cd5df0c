"""SARIF 2.1.0 for code-scanning uploads: one run, one result per finding.

A plan has no source lines, so every result points at the plan file (region line 1) and names the
resource as a logical location. `partialFingerprints` hash the rule and the address only, not the plan
fingerprint, so an alert keeps its identity from one plan of the same change to the next.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import metadata
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

import guardrail
from guardrail.adapters.render.common import SafeReport
from guardrail.core.policy import rule_info
from guardrail.core.report import CheckReport
from guardrail.core.verdict import Enforcement, Finding

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "guardrailFinding/v1"
LEVELS: dict[Enforcement, str] = {
    Enforcement.HARD: "error",
    Enforcement.SOFT: "warning",
    Enforcement.ADVISORY: "note",
}


@cache
def information_uri() -> str | None:
    """The project's home page from the installed package metadata, when it declares one."""
    try:
        meta = metadata.metadata("guardrail")
    except metadata.PackageNotFoundError:
        return None
    for entry in meta.get_all("Project-URL") or ():
        label, _, url = str(entry).partition(",")
        if label.strip().lower() in {"homepage", "home", "source", "repository"} and url.strip():
            return url.strip()
    home = meta.get_all("Home-page") or ()
    return next((str(url).strip() for url in home if str(url).strip()), None)


def artifact_uri(source: str) -> str:
    """The plan file as a URI reference: relative paths stay relative (code scanning maps them to the
    repository), absolute paths become file URIs; spaces and other reserved characters are escaped."""
    if PureWindowsPath(source).drive:
        return "file:///" + quote(PureWindowsPath(source).as_posix(), safe="/:")
    path = PurePosixPath(source)
    if path.is_absolute():
        return "file://" + quote(path.as_posix(), safe="/")
    return quote(path.as_posix(), safe="/")


def partial_fingerprint(finding: Finding) -> str:
    """Stable across plans: the rule and the address, never the message or the plan fingerprint."""
    key = f"{finding.rule}\x00{finding.address or ''}".encode()
    return hashlib.sha256(key).hexdigest()


class SarifRenderer:
    """Renders a CheckReport as a SARIF 2.1.0 log (`information_uri` overrides the package metadata)."""

    def __init__(self, *, information_uri: str | None = None) -> None:
        self._information_uri = information_uri

    def render(self, report: CheckReport) -> str:
        """The SARIF log as indented JSON followed by a newline."""
        return json.dumps(self.log(report), indent=2, ensure_ascii=False) + "\n"

    def log(self, report: CheckReport) -> dict[str, Any]:
        """The SARIF log as plain data."""
        safe = SafeReport.of(report)
        rule_ids: dict[str, int] = {}
        rules: list[dict[str, Any]] = []
        results: list[dict[str, Any]] = []
        uri = artifact_uri(report.changeset.source)
        for finding in report.verdict.findings:
            rule_id = safe.name(finding.rule)
            if rule_id not in rule_ids:
                rule_ids[rule_id] = len(rules)
                rules.append(self._rule(safe, rule_id, finding))
            results.append(self._result(safe, finding, rule_id, rule_ids[rule_id], uri))
            self._add_reversibility(safe, finding, results[-1])
        driver: dict[str, Any] = {"name": "guardrail", "version": guardrail.__version__, "rules": rules}
        home = self._information_uri or information_uri()
        if home:
            driver["informationUri"] = home
        run: dict[str, Any] = {
            "tool": {"driver": driver},
            "artifacts": [{"location": {"uri": uri}}],
            "results": results,
            "properties": {
                "verdict": report.verdict.decision.value,
                "fingerprint": report.changeset.fingerprint,
                "summary": report.changeset.summary(),
                **self._rollback(safe),
            },
        }
        if report.kube is not None:  # Kubernetes: each target cluster, and how its diff was made
            run["properties"]["clusters"] = [
                {"name": safe.name(c.name), "version": c.version, "nodes": c.nodes, "diffSource": c.diff_source.value}
                for c in report.kube.clusters
            ]
            run["properties"]["reach"] = [
                {"address": safe.name(r.address), "cluster": safe.name(r.cluster), "nodes": r.nodes, "total": r.total}
                for r in report.kube.reach
            ]
        return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}

    @staticmethod
    def _rollback(safe: SafeReport) -> dict[str, Any]:
        """The run's rollback section: counts per class, and every change that is not simply reversible."""
        assessment = safe.report.rollback
        if assessment is None:
            return {}
        weighty = assessment.not_reversible()
        return {
            "rollbackSummary": assessment.counts(),
            "rollback": [
                {"address": safe.text(e.address), "reversibility": e.reversibility.value, "reason": safe.text(e.reason)}
                for e in weighty
            ],
        }

    @staticmethod
    def _add_reversibility(safe: SafeReport, finding: Finding, result: dict[str, Any]) -> None:
        assessment = safe.report.rollback
        entry = assessment.of(finding.address) if assessment is not None and finding.address else None
        if entry is not None:
            result["properties"]["reversibility"] = entry.reversibility.value

    @staticmethod
    def _rule(safe: SafeReport, rule_id: str, first: Finding) -> dict[str, Any]:
        # Built-in rules describe themselves where they are declared; any other id is a custom policy.
        built_in = rule_info(first.rule)
        if built_in is not None:
            described = built_in.description
        else:
            origin = f" from {safe.name(first.source)}" if first.source else ""
            described = f"Custom policy {rule_id}{origin}."
        rule: dict[str, Any] = {"id": rule_id, "name": rule_id, "shortDescription": {"text": described}}
        if first.source:
            rule["properties"] = {"source": safe.name(first.source)}
        return rule

    @staticmethod
    def _result(safe: SafeReport, finding: Finding, rule_id: str, index: int, uri: str) -> dict[str, Any]:
        message = safe.text(finding.message)
        location: dict[str, Any] = {
            "physicalLocation": {"artifactLocation": {"uri": uri, "index": 0}, "region": {"startLine": 1}}
        }
        if finding.address is not None:
            address = safe.name(finding.address)
            message = f"{address}: {message}"
            location["logicalLocations"] = [{"fullyQualifiedName": address, "kind": "resource"}]
        return {
            "ruleId": rule_id,
            "ruleIndex": index,
            "level": LEVELS[finding.enforcement],
            "message": {"text": message},
            "locations": [location],
            "partialFingerprints": {FINGERPRINT_KEY: partial_fingerprint(finding)},
            "properties": {"enforcement": finding.enforcement.value, "unknown": finding.unknown},
        }

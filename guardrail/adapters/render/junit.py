"""JUnit XML, for CI systems that show test results but know nothing of plans.

One `<testsuite>` per rule, one `<testcase>` per rule and resource it found something on (the plan as a
whole is the resource "(plan)"). Hard and soft findings are `<failure>`s, the `type` attribute saying
which, because both stop an unattended apply. Advisory findings are `<skipped message=...>`: they must
not turn the build red, yet a skip shows them in every CI test view, which a passing test with output
would not. A test case with several findings fails with the strongest of them and lists them all.
When there are no findings at all, one passing test case, "guardrail verdict", says so.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from guardrail.adapters.render.common import SafeReport
from guardrail.core.report import CheckReport
from guardrail.core.verdict import UNKNOWN_OUTCOME_WORDS, Enforcement, Finding, strongest

PLAN_WIDE = "(plan)"
VERDICT_CASE = "guardrail verdict"
ROLLBACK_SUITE = "rollback"

# XML 1.0 cannot carry these characters even escaped; ElementTree would write them raw and produce a
# document no parser accepts.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _clean(safe: SafeReport, name: str) -> str:
    return _xml_text(safe.name(name))


class JUnitRenderer:
    """Renders a CheckReport as a JUnit XML `<testsuites>` document."""

    def render(self, report: CheckReport) -> str:
        """The XML document, UTF-8 declared, followed by a newline."""
        safe = SafeReport.of(report)
        cases: dict[str, dict[str, list[Finding]]] = {}
        for finding in report.verdict.findings:
            rule_cases = cases.setdefault(_clean(safe, finding.rule), {})
            rule_cases.setdefault(_clean(safe, finding.address or PLAN_WIDE), []).append(finding)

        root = ET.Element("testsuites", name="guardrail")
        totals = {"tests": 0, "failures": 0, "skipped": 0}
        for rule, by_address in cases.items():
            suite = ET.SubElement(root, "testsuite", name=rule)
            self._properties(suite, report)
            counts = {"tests": 0, "failures": 0, "skipped": 0}
            for address, findings in by_address.items():
                case = ET.SubElement(suite, "testcase", classname=f"guardrail.{rule}", name=address, time="0")
                counts["tests"] += 1
                counts[self._outcome(case, [_xml_text(self._line(safe, f)) for f in findings], findings)] += 1
            self._count(suite, counts, totals)
        self._rollback(root, safe, totals)
        if not cases:
            suite = ET.SubElement(root, "testsuite", name="guardrail")
            self._properties(suite, report)
            ET.SubElement(suite, "testcase", classname="guardrail", name=VERDICT_CASE, time="0")
            self._count(suite, {"tests": 1, "failures": 0, "skipped": 0}, totals)
        for key, value in totals.items():
            root.set(key, str(value))
        root.set("errors", "0")
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

    @staticmethod
    def _line(safe: SafeReport, finding: Finding) -> str:
        text = f"[{finding.enforcement.value}] {safe.text(finding.message)}"
        if finding.unknown:
            text += f" ({UNKNOWN_OUTCOME_WORDS})"
        if finding.source:
            text += f" (from {safe.name(finding.source)})"
        return text

    @staticmethod
    def _outcome(case: ET.Element, lines: list[str], findings: list[Finding]) -> str:
        """Attach a failure or a skip to the test case; return which counter it adds to."""
        level = strongest(findings)
        if level is Enforcement.ADVISORY:
            ET.SubElement(case, "skipped", message=" | ".join(lines))
            return "skipped"
        failure = ET.SubElement(case, "failure", type=str(level), message=lines[0])
        failure.text = "\n".join(lines)
        return "failures"

    @staticmethod
    def _properties(suite: ET.Element, report: CheckReport) -> None:
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="verdict", value=report.verdict.decision.value)
        ET.SubElement(properties, "property", name="fingerprint", value=report.changeset.fingerprint)
        for cluster in report.kube.clusters if report.kube is not None else ():
            where = f"{cluster.name} ({cluster.version or 'version unknown'}, diff {cluster.diff_source.value})"
            ET.SubElement(properties, "property", name="cluster", value=_xml_text(where))
        if report.rollback is not None:
            ET.SubElement(properties, "property", name="rollback", value=report.rollback.counts_line())

    def _rollback(self, root: ET.Element, safe: SafeReport, totals: dict[str, int]) -> None:
        """A `rollback` suite: one skipped case per lossy or irreversible change, its class and reason as the
        message (shown in every CI view, never red: the reversibility rule's findings fail where they should)."""
        assessment = safe.report.rollback
        weighty = assessment.not_reversible() if assessment is not None else ()
        if not weighty:
            return
        suite = ET.SubElement(root, "testsuite", name=ROLLBACK_SUITE)
        self._properties(suite, safe.report)
        for entry in weighty:
            case = ET.SubElement(
                suite, "testcase", classname=f"guardrail.{ROLLBACK_SUITE}", name=_clean(safe, entry.address), time="0"
            )
            ET.SubElement(case, "skipped", message=_xml_text(safe.text(f"{entry.reversibility.value}: {entry.reason}")))
        self._count(suite, {"tests": len(weighty), "failures": 0, "skipped": len(weighty)}, totals)

    @staticmethod
    def _count(suite: ET.Element, counts: dict[str, int], totals: dict[str, int]) -> None:
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")

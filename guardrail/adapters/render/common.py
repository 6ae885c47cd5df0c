"""What every output format shares: plain-word reasons, safe text, and findings grouped by change."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from guardrail.core.change import Action, ResourceChange
from guardrail.core.queries import findings_for, index_findings
from guardrail.core.report import CheckReport
from guardrail.core.rollback.reversibility import ChangeReversibility
from guardrail.core.secrets import plan_scrubber
from guardrail.core.verdict import Finding

ACTION_TITLES: dict[Action, str] = {
    Action.DELETE: "Delete",
    Action.REPLACE: "Replace",
    Action.FORGET: "Forget (remove from state, keep the object)",
    Action.UPDATE: "Update in place",
    Action.CREATE: "Create",
    Action.READ: "Read",
    Action.NO_OP: "No change",
}

# C0 and C1 controls, DEL, and the Unicode characters that reorder or break lines when displayed
# (bidirectional overrides and isolates, line and paragraph separators): a plan string containing them
# could repaint a terminal, fake a line of output or hide text. Tab is kept as a space.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# A lone surrogate (possible in a policy's message) cannot be encoded as UTF-8: writing it would crash.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\t":
        return " "
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def neutralise(text: str) -> str:
    """`text` with control and display-reordering characters shown as escapes (ESC becomes `\\x1b`)."""
    return _CONTROL.sub(_visible, text) if _CONTROL.search(text) else text


def _encodable(text: str) -> str:
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@dataclass(frozen=True)
class SafeReport:
    """A report's strings made safe to print, lone surrogates made visible so that any can be written as UTF-8.

    `text` is for free text (finding messages, notes): it also scrubs every sensitive literal of the plan.
    `name` is for names (resource addresses, rule ids, file and attribute paths), which are never secrets
    and are shown as they are: a secret "prod" must not turn `aws_s3_bucket.prod_logs` into a riddle.
    """

    report: CheckReport
    text: Callable[[str], str]
    by_address: Mapping[str, tuple[Finding, ...]]
    plan_level: list[Finding]

    @classmethod
    def of(cls, report: CheckReport) -> SafeReport:
        """Group the verdict's findings (already hard first) by the address they are about."""
        findings = report.verdict.findings
        plan_level = [finding for finding in findings if finding.address is None]
        scrub = plan_scrubber(report.changeset)
        return cls(report, lambda text: _encodable(scrub(text)), index_findings(findings), plan_level)

    @staticmethod
    def name(text: str) -> str:
        """A name (address, rule id, path) as it is: never scrubbed, only made writable."""
        return _encodable(text)

    def findings_for(self, change: ResourceChange) -> list[Finding]:
        """Findings on the change, under its address or (across a `moved` block) its former one."""
        return list(findings_for(change, self.by_address))

    def reversibility(self, change: ResourceChange) -> ChangeReversibility | None:
        """How reversible the change is (None for a no-op, a read, or a report without the assessment)."""
        if self.report.rollback is None:
            return None
        return self.report.rollback.of(change.address, change.deposed)

    def orphans(self, changes: Iterable[ResourceChange]) -> list[Finding]:
        """Findings on an address that no change in the plan has: still reported, never dropped."""
        known = {address for change in changes for address in change.addresses}
        return [f for address, found in self.by_address.items() if address not in known for f in found]


def counts_line(report: CheckReport) -> str:
    """`2 hard, 1 soft, 0 advisory`."""
    return report.verdict.counts_line()


def rollback_line(report: CheckReport) -> str | None:
    """`1 irreversible, 2 lossy, 5 reversible`, or None for a report without the assessment."""
    return report.rollback.counts_line() if report.rollback is not None else None

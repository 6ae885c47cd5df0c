"""What every output format shares: plain-word reasons, safe text, and findings grouped by change."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from guardrail.core.change import Action, ReplaceOrder, ResourceChange
from guardrail.core.report import CheckReport
from guardrail.core.secrets import scrubber_for
from guardrail.core.verdict import Enforcement, Finding

ACTION_TITLES: dict[Action, str] = {
    Action.DELETE: "Delete",
    Action.REPLACE: "Replace",
    Action.FORGET: "Forget (remove from state, keep the object)",
    Action.UPDATE: "Update in place",
    Action.CREATE: "Create",
    Action.READ: "Read",
    Action.NO_OP: "No change",
}

ORDER_WORDS: dict[ReplaceOrder, str] = {
    ReplaceOrder.DELETE_BEFORE_CREATE: "delete before create: the object is gone until its successor exists",
    ReplaceOrder.CREATE_BEFORE_DESTROY: "create before destroy",
}

ENFORCEMENT_ORDER: tuple[Enforcement, ...] = (Enforcement.HARD, Enforcement.SOFT, Enforcement.ADVISORY)

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
    """A report's free text made safe to print: `text` scrubs any sensitive literal of the plan (and makes
    lone surrogates visible, so the text can always be written as UTF-8)."""

    report: CheckReport
    text: Callable[[str], str]
    by_address: dict[str, list[Finding]]
    plan_level: list[Finding]

    @classmethod
    def of(cls, report: CheckReport) -> SafeReport:
        """Group the verdict's findings (already hard first) by the address they are about."""
        by_address: dict[str, list[Finding]] = {}
        plan_level: list[Finding] = []
        for finding in report.verdict.findings:
            if finding.address is None:
                plan_level.append(finding)
            else:
                by_address.setdefault(finding.address, []).append(finding)
        scrub = scrubber_for(report.changeset.sensitive_literals)
        return cls(report, lambda text: _encodable(scrub(text)), by_address, plan_level)

    def findings_for(self, change: ResourceChange) -> list[Finding]:
        """Findings on the change, under its address or (across a `moved` block) its former one."""
        found: list[Finding] = []
        for address in change.addresses:
            found.extend(self.by_address.get(address, ()))
        return found

    def orphans(self, changes: Iterable[ResourceChange]) -> list[Finding]:
        """Findings on an address that no change in the plan has: still reported, never dropped."""
        known = {address for change in changes for address in change.addresses}
        return [f for address, found in self.by_address.items() if address not in known for f in found]


def counts_line(report: CheckReport) -> str:
    """`2 hard, 1 soft, 0 advisory`."""
    verdict = report.verdict
    return ", ".join(f"{verdict.count(level)} {level.value}" for level in ENFORCEMENT_ORDER)

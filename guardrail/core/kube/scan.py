"""What `kube scan` found on one cluster: the live objects and client requests an upgrade would break.

Pure: the service lists the objects and reads the metric; the deprecated-API table judges them
(guardrail.core.kube.deprecated_apis: judge_live_object, judge_requested_apis); this is the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from guardrail.core.verdict import Enforcement, Finding

# Exit codes of a scan (DESIGN.md's contract): nothing breaks, or something does (or could not be told).
CLEAN, BREAKS = 0, 1


@dataclass(frozen=True)
class ScanReport:
    """A scan of one cluster for an upgrade to `target_version`.

    `kinds` and `objects` count what was listed and judged; `unreadable` names the kinds guardrail may not
    list (their objects are unknown: the scan cannot say nothing breaks); `metric` is None when the API
    server's `apiserver_requested_deprecated_apis` was read, else why it was not.
    """

    cluster: str
    version: str
    target_version: str
    kinds: int
    objects: int
    findings: tuple[Finding, ...]
    unreadable: tuple[str, ...] = ()
    metric: str | None = None

    @property
    def breaks(self) -> tuple[Finding, ...]:
        """The findings of what the target release no longer serves."""
        return tuple(f for f in self.findings if f.enforcement is Enforcement.HARD)

    @property
    def exit_code(self) -> int:
        """1 when something would break or a kind could not be read, else 0."""
        return BREAKS if self.breaks or self.unreadable else CLEAN

    def to_json(self) -> dict[str, Any]:
        """The scan as the JSON output writes it (messages are names and versions: nothing secret)."""
        return {
            "cluster": self.cluster,
            "version": self.version,
            "target_version": self.target_version,
            "kinds": self.kinds,
            "objects": self.objects,
            "breaks": len(self.breaks),
            "findings": [
                {"rule": f.rule, "enforcement": f.enforcement.value, "address": f.address, "message": f.message}
                for f in self.findings
            ],
            "unreadable": list(self.unreadable),
            "metric": {"read": self.metric is None, "reason": self.metric},
        }

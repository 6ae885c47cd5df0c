"""Time as a port: engines that wait (rollout soaks, node boot budgets) ask a Clock, never the system.

The real clock sleeps; the simulated one (guardrail.simulation) advances a simulator instead, so a six-hour
rehearsal runs in a second and tests never sleep.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let `seconds` pass."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        import time

        if seconds > 0:
            time.sleep(seconds)

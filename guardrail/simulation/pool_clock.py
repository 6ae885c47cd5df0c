"""Simulated time: a queue of things due at given moments, and the Clock that advances it.

`sleep(s)` runs everything due within the next `s` seconds, in order, and no real time passes, so a
six-hour cycle rehearses in a second and the tests never sleep.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta


class Timeline:
    """Callbacks due at simulated times (seconds since the start), run in time order, ties in the order
    they were scheduled: deterministic."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.elapsed = 0.0
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()

    def at(self, delay: float, callback: Callable[[], None]) -> None:
        """Run `callback` `delay` seconds from now (at once, on the next advance, when delay <= 0)."""
        heapq.heappush(self._due, (self.elapsed + max(0.0, delay), next(self._order), callback))

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass, running whatever falls due meanwhile (and what that schedules within it)."""
        until = self.elapsed + max(0.0, seconds)
        while self._due and self._due[0][0] <= until:
            moment, _, callback = heapq.heappop(self._due)
            self.elapsed = max(self.elapsed, moment)
            callback()
        self.elapsed = until

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)


class SimulatedClock:
    """The Clock port over a Timeline: sleeping advances the simulation."""

    def __init__(self, timeline: Timeline) -> None:
        self._timeline = timeline

    def now(self) -> datetime:
        return self._timeline.now()

    def sleep(self, seconds: float) -> None:
        self._timeline.advance(seconds)

"""Resource locks as a rule: a change to a locked resource is a hard finding naming the lock."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from guardrail.core.change import ChangeSet
from guardrail.core.locks import UNLOCKED_ACTIONS, Lock
from guardrail.core.matching import Match, unknown_tags_finding
from guardrail.core.policy import register_rule
from guardrail.core.verdict import Enforcement, Finding

LOCK = register_rule("lock", "A change to a resource that an active lock freezes (guardrail lock add).")


@dataclass(frozen=True)
class ActiveLocksRule:
    """Every lock active at `now` blocks any change but no-op and read to what it matches.

    A match that depends on tags known only after apply, or on sensitive tags the plan does not hold, is a
    soft, unknown-outcome finding: a person must confirm that the lock does not apply.
    """

    locks: Sequence[Lock]
    now: datetime
    id: str = LOCK

    def evaluate(self, changeset: ChangeSet) -> Iterable[Finding]:
        # Each lock's selector is built once, not once per change (a tag lock parses its `k=v` each time).
        active = [(lock, lock.selector()) for lock in self.locks if lock.is_active(self.now)]
        if not active:
            return
        for change in changeset.changes:
            if change.action in UNLOCKED_ACTIONS:
                continue
            for lock, selector in active:
                matched = selector.match(change)
                if matched is Match.NO:
                    continue
                moved = f" (it was {change.moved_from} before a moved block)" if change.moved_from else ""
                if matched.undecided:
                    yield unknown_tags_finding(self.id, change, f"locked by {lock.describe()}", matched)
                else:
                    yield Finding(
                        self.id,
                        Enforcement.HARD,
                        change.address,
                        f"{change.action.value} of a locked resource{moved}: {lock.describe()}",
                    )

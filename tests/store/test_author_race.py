"""Eight actors check the same new plan at the same moment: exactly one is its author, every one of them is
told so, and every check event names that author. Real threads, each with its own connection, on SQLite
and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from guardrail.adapters.store import SqlStore, open_store
from guardrail.core.approvals import ApprovalPolicy
from guardrail.core.change import ChangeSet
from guardrail.core.verdict import Enforcement, Finding, Verdict
from guardrail.services import approvals, audit
from guardrail.services.approvals import GateResult
from tests.unit.factories import change

ACTORS = 8
ROUNDS = 3
NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
SOFT = Verdict.of([Finding("stateful", Enforcement.SOFT, "aws_db_instance.main", "deletes a database")])


def plan(round_: int) -> ChangeSet:
    fingerprint = f"sha256:{round_:064x}"
    return ChangeSet("plan.json", fingerprint, "1.2", changes=(change("aws_db_instance.main", ["delete"], {}, None),))


def test_one_author_for_a_plan_checked_by_eight_at_once(store_url: str, tmp_path: Path) -> None:
    stores: list[SqlStore] = [open_store(store_url, cwd=tmp_path) for _ in range(ACTORS)]
    try:
        for round_ in range(ROUNDS):  # a fresh plan each round: each round is a new race for authorship
            checked = plan(round_)
            start = threading.Barrier(ACTORS)

            def check_as(n: int, checked: ChangeSet = checked, start: threading.Barrier = start) -> GateResult:
                start.wait()
                return approvals.gate(stores[n], ApprovalPolicy(), checked, SOFT, f"dev{n}@example.com", now=NOW)

            with ThreadPoolExecutor(ACTORS) as pool:
                results = list(pool.map(check_as, range(ACTORS)))
            told = {result.author for result in results}
            assert len(told) == 1, f"round {round_}: {ACTORS} actors were told {sorted(told)}"
            (author,) = told
            assert stores[0].plan_author(checked.fingerprint) == author
            recorded = [e for e in audit.list_events(stores[0]) if e.fingerprint == checked.fingerprint]
            assert len(recorded) == ACTORS
            assert {e.payload["author"] for e in recorded} == {author}
            assert recorded[0].actor == author  # the first check recorded is the author's
        assert audit.verify(stores[0]).ok
    finally:
        for store in stores:
            store.close()

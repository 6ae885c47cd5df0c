"""Tampering with stored events, straight in SQL, is detected by verify, which names the first broken event."""

from __future__ import annotations

import random
import string

import pytest
import sqlalchemy as sa

from guardrail.adapters.store import SqlStore
from guardrail.adapters.store.rows import event_row
from guardrail.core.audit import EventDraft, seal
from guardrail.services import audit
from tests.store.conftest import FakeClock

EVENTS = 12
TEXT_COLUMNS = ["time", "actor", "kind", "fingerprint", "payload", "prev_hash", "hash"]


def _fill(store: SqlStore) -> list[str]:
    hashes = []
    for i in range(EVENTS):
        payload = {"addresses": [f"aws_instance.web[{i}]"], "decision": "allow", "count": i}
        hashes.append(store.append(EventDraft(f"dev{i % 4}@example.com", "note", payload, f"sha256:{i:064x}")).hash)
    assert audit.verify(store).ok
    return hashes


def _row(conn: sa.Connection, seq: int) -> dict[str, object]:
    return dict(conn.execute(sa.text("SELECT * FROM audit_events WHERE seq = :s"), {"s": seq}).mappings().one())


def _broken_seq(store: SqlStore, expect_head: str | None = None) -> int:
    report = audit.verify(store, expect_head)
    assert report.broken is not None, "tampering went unnoticed"
    assert str(report.broken).startswith(f"event {report.broken.seq}: ")
    return report.broken.seq


@pytest.mark.parametrize("seed", range(10))
def test_a_random_single_byte_edit_is_named(store: SqlStore, seed: int) -> None:
    _fill(store)
    rng = random.Random(seed)
    seq = rng.randint(1, EVENTS)
    column = rng.choice(TEXT_COLUMNS)
    with store.engine.begin() as conn:
        value = str(_row(conn, seq)[column])
        at = rng.randrange(len(value))
        replacement = rng.choice([c for c in string.ascii_letters + string.digits + '{}[]":,. ' if c != value[at]])
        edited = value[:at] + replacement + value[at + 1 :]
        conn.execute(sa.text(f"UPDATE audit_events SET {column} = :v WHERE seq = :s"), {"v": edited, "s": seq})
    assert _broken_seq(store) == seq, f"edit of {column}[{at}] in event {seq}"


@pytest.mark.parametrize("seed", range(4))
def test_a_renumbered_event_is_named(store: SqlStore, seed: int) -> None:
    _fill(store)
    seq = random.Random(seed).randint(1, EVENTS - 1)
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET seq = seq + 1000 WHERE seq = :s"), {"s": seq})
    assert _broken_seq(store) == seq


@pytest.mark.parametrize("seed", range(4))
def test_a_deleted_event_is_named(store: SqlStore, seed: int) -> None:
    _fill(store)
    seq = random.Random(seed).randint(1, EVENTS - 1)
    with store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_events WHERE seq = :s"), {"s": seq})
    assert _broken_seq(store) == seq


def test_deleting_the_last_events_is_caught_by_the_stores_verified_point_and_the_pinned_head(store: SqlStore) -> None:
    hashes = _fill(store)
    with store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_events WHERE seq > :s"), {"s": EVENTS - 2})
    # Nothing inside the log is wrong, but the store verified it further than it now goes...
    assert _broken_seq(store) == EVENTS - 1
    with store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM chain_checkpoint"))
    # ...and with that point deleted too, the head pinned elsewhere still catches it.
    assert audit.verify(store).ok
    assert _broken_seq(store, expect_head=hashes[-1]) == EVENTS - 1


def _shift_up_from(conn: sa.Connection, seq: int) -> None:
    # Two steps: a single `seq = seq + 1` may collide with the primary key mid-statement.
    conn.execute(sa.text("UPDATE audit_events SET seq = seq + 100000 WHERE seq >= :s"), {"s": seq})
    conn.execute(sa.text("UPDATE audit_events SET seq = seq - 99999 WHERE seq >= 100000"))


@pytest.mark.parametrize("seed", range(4))
def test_an_inserted_event_is_named(store: SqlStore, seed: int) -> None:
    _fill(store)
    rng = random.Random(seed)
    seq = rng.randint(1, EVENTS)
    with store.engine.begin() as conn:
        before = _row(conn, seq)
        _shift_up_from(conn, seq)
        forged = {**before, "seq": seq, "actor": "mallory@example.com", "hash": f"{rng.getrandbits(256):064x}"}
        conn.execute(
            sa.text(
                "INSERT INTO audit_events (seq, time, actor, kind, fingerprint, payload, prev_hash, hash) "
                "VALUES (:seq, :time, :actor, :kind, :fingerprint, :payload, :prev_hash, :hash)"
            ),
            forged,
        )
    assert _broken_seq(store) == seq


def test_an_inserted_event_with_a_recomputed_hash_breaks_the_next_one(store: SqlStore, clock: FakeClock) -> None:
    _fill(store)
    seq = 5
    previous = store.event(seq - 1)
    assert previous is not None
    forged = seal(EventDraft("mallory@example.com", "approval", {"comment": "trust me"}), seq, clock.now, previous.hash)
    with store.engine.begin() as conn:
        _shift_up_from(conn, seq)
        conn.execute(
            sa.text(
                "INSERT INTO audit_events (seq, time, actor, kind, fingerprint, payload, prev_hash, hash) "
                "VALUES (:seq, :time, :actor, :kind, :fingerprint, :payload, :prev_hash, :hash)"
            ),
            event_row(forged),
        )
    # The forger can seal a valid event, but the one it displaced no longer matches its own position.
    assert _broken_seq(store) == seq + 1


@pytest.mark.parametrize("seed", range(4))
def test_reordered_events_are_named_at_the_first_moved_one(store: SqlStore, seed: int) -> None:
    _fill(store)
    first, second = sorted(random.Random(seed).sample(range(1, EVENTS + 1), 2))
    with store.engine.begin() as conn:
        swap = "UPDATE audit_events SET seq = :to WHERE seq = :from"
        conn.execute(sa.text(swap), {"from": first, "to": -1})
        conn.execute(sa.text(swap), {"from": second, "to": first})
        conn.execute(sa.text(swap), {"from": -1, "to": second})
    assert _broken_seq(store) == first

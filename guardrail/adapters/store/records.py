"""Reading the records that decide a plan's fate, each with its claims on the chain (see ledger.py), and
checking them: a plan's standing, or every record at once for `audit verify`."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from guardrail.adapters.store import rows
from guardrail.adapters.store.ledger import LOCK_KINDS, PLAN_KINDS, ChainCheck, tampered
from guardrail.adapters.store.schema import apply_locks, approvals, audit_events, break_glass, locks, plans
from guardrail.core.approvals import Approval, BreakGlass
from guardrail.core.audit import ChainBreak, ChainPoint, EventKind
from guardrail.core.ledger import (
    Claim,
    apply_lock_claim,
    approval_claim,
    author_claim,
    break_glass_claims,
    lock_claims,
)
from guardrail.core.locks import ApplyLockHolder, Lock
from guardrail.core.store_ports import Standing


def read_locks(conn: Connection, lock_id: str | None = None) -> tuple[list[Lock], list[Claim]]:
    """Every lock (or the one with `lock_id`), oldest first, with their claims."""
    query = sa.select(locks).order_by(locks.c.created_at, locks.c.id)
    if lock_id is not None:
        query = query.where(locks.c.id == lock_id)
    found, claims = [], []
    for row in conn.execute(query):
        lock = rows.lock_of(row)
        found.append(lock)
        claims.extend(lock_claims(lock, row.event_seq, row.release_seq))
    return found, claims


def read_author(conn: Connection, fingerprint: str) -> tuple[str | None, list[Claim]]:
    row = conn.execute(sa.select(plans).where(plans.c.fingerprint == fingerprint)).first()
    if row is None:
        return None, []
    return str(row.author), [author_claim(fingerprint, str(row.author), row.event_seq)]


def read_approvals(conn: Connection, fingerprint: str) -> tuple[list[Approval], list[Claim]]:
    query = sa.select(approvals).where(approvals.c.fingerprint == fingerprint).order_by(approvals.c.time)
    found, claims = [], []
    for row in conn.execute(query):
        approval = rows.approval_of(row)
        found.append(approval)
        claims.append(approval_claim(approval, row.event_seq))
    return found, claims


def read_passes(conn: Connection, fingerprint: str) -> tuple[list[BreakGlass], list[Claim]]:
    query = (
        sa.select(break_glass)
        .where(break_glass.c.fingerprint == fingerprint)
        .order_by(break_glass.c.created_at, break_glass.c.id)
    )
    found, claims = [], []
    for row in conn.execute(query):
        grant = rows.break_glass_of(row)
        found.append(grant)
        claims.extend(break_glass_claims(grant, row.event_seq, row.used_seq))
    return found, claims


def read_apply_lock(conn: Connection, workspace: str) -> tuple[ApplyLockHolder | None, list[Claim]]:
    row = conn.execute(sa.select(apply_locks).where(apply_locks.c.workspace == workspace)).first()
    if row is None:
        return None, []
    holder = rows.apply_lock_of(row)
    return holder, [apply_lock_claim(holder, row.event_seq)]


def checked_locks(conn: Connection, where: str) -> list[Lock]:
    """Every lock, once the chain backs each of them and every lock and release event has its record."""
    check = ChainCheck(conn, where)
    head = check.verified_head()
    found, claims = read_locks(conn)
    check.require(claims, head)
    _require_none(where, check.unclaimed(claims, LOCK_KINDS))
    return found


def checked_author(conn: Connection, where: str, fingerprint: str, head: ChainPoint | None = None) -> str | None:
    """The plan's author, once the chain backs it: the actor of the plan's first check event."""
    check = ChainCheck(conn, where)
    head = head or check.verified_head()
    author, claims = read_author(conn, fingerprint)
    check.require(claims, head)
    first = check.first_check(fingerprint)
    if first is not None and (not claims or claims[0].seq != first):
        _require_none(where, _not_the_first_check(fingerprint, first))
    return author


def standing(conn: Connection, where: str, fingerprint: str) -> Standing:
    """The plan's standing (see the Store port), every record of it backed by the chain."""
    check = ChainCheck(conn, where)
    head = check.verified_head()
    found_locks, claims_of_locks = read_locks(conn)
    author = checked_author(conn, where, fingerprint, head)
    given, approval_claims = read_approvals(conn, fingerprint)
    passes, pass_claims = read_passes(conn, fingerprint)
    check.require([*claims_of_locks, *approval_claims, *pass_claims], head)
    _require_none(where, check.unclaimed(claims_of_locks, LOCK_KINDS))
    _require_none(where, check.unclaimed([*approval_claims, *pass_claims], PLAN_KINDS, fingerprint))
    return Standing(tuple(found_locks), author, tuple(given), tuple(passes))


def records_problem(conn: Connection, where: str) -> ChainBreak | None:
    """Where any record of the store and the chain disagree (see the Store port), or None."""
    check = ChainCheck(conn, where)
    claims = _every_claim(conn)
    problem = (
        check.claims_problem(claims, check.head_seq())
        or check.unclaimed(claims, (*LOCK_KINDS, *PLAN_KINDS))
        or _authors_problem(conn)
    )
    return None if problem is None else ChainBreak(0, problem)


def _every_claim(conn: Connection) -> list[Claim]:
    claims = read_locks(conn)[1]
    for row in conn.execute(sa.select(approvals)):
        claims.append(approval_claim(rows.approval_of(row), row.event_seq))
    for row in conn.execute(sa.select(break_glass)):
        claims.extend(break_glass_claims(rows.break_glass_of(row), row.event_seq, row.used_seq))
    for row in conn.execute(sa.select(plans)):
        claims.append(author_claim(row.fingerprint, str(row.author), row.event_seq))
    for row in conn.execute(sa.select(apply_locks)):
        claims.append(apply_lock_claim(rows.apply_lock_of(row), row.event_seq))
    return claims


def _authors_problem(conn: Connection) -> str | None:
    """A plan checked in the log whose author record is missing or is not its first check."""
    firsts = conn.execute(
        sa.select(audit_events.c.fingerprint, sa.func.min(audit_events.c.seq))
        .where(audit_events.c.kind == EventKind.CHECK, audit_events.c.fingerprint.is_not(None))
        .group_by(audit_events.c.fingerprint)
    ).all()
    authors = conn.execute(sa.select(plans.c.fingerprint, plans.c.event_seq))
    recorded = {row.fingerprint: row.event_seq for row in authors}
    for fingerprint, first in firsts:
        if recorded.get(fingerprint) != first:
            return _not_the_first_check(fingerprint, first)
    return None


def _not_the_first_check(fingerprint: str, first: int) -> str:
    return f"plan {fingerprint} was first checked at event {first}, but its author record is missing or names another"


def _require_none(where: str, problem: str | None) -> None:
    if problem is not None:
        raise tampered(where, problem)

#!/usr/bin/env python3
"""A check against a store with a long audit log costs what it costs against one with a short log.

The chain is the authority over locks, approvals and break-glass passes (core/ledger.py): a check reads
them only once the chain backs them. It must not re-read the log to know that. This builds two SQLite
stores holding the same records (200 locks, half released; 500 approved plans; 50 passes, spent), one
with no other events (about 1,400) and one with --events events (checks of those plans, the benchmarked
plan among them every fifth time, and every fiftieth event the successful apply of one of 20 workspaces,
the benchmarked apply's only at the start), then runs, alternating:
  - guardrail check PLAN --store SHORT        (the reference)
  - guardrail check PLAN --store LONG
and prints the median wall time of each and their ratio, the store's own CPU time measured in process
(open, read the plan's standing, record the check; also against a store without records), what an apply
reads from the log before it applies (the plan's last check and its workspace's last apply, through the
log's indexes; also by reading the whole log, as apply once did), and, once, what a full `audit verify`
of the long log takes (what every check would cost if it verified the whole chain). Targets: the check's
ratio within 1.10x; the apply's reads a small fraction of reading the whole log (they grow with the applies
of other workspaces since the workspace's last one, here all 2,000 of them, not with the log).

    python benchmarks/store_long_log.py [--events 100000] [--runs 7] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchlib import REPO

sys.path.insert(0, str(REPO))

from sqlalchemy.engine import Connection

from guardrail.adapters.store import engine as db
from guardrail.adapters.store import (
    initialise_store,
    open_store,
    rows,
)
from guardrail.adapters.store.schema import approvals, audit_events, break_glass, chain_checkpoint, locks, plans
from guardrail.core.approvals import Approval, BreakGlass
from guardrail.core.audit import GENESIS_HASH, AuditEvent, EventDraft, EventKind, iso_utc, seal
from guardrail.core.ledger import approval_facts, break_glass_facts, lock_facts, release_facts, use_facts
from guardrail.core.locks import new_lock

PLAN = REPO / "examples" / "needs-approval" / "plan.json"
CONFIG = REPO / "examples" / "guardrail.yaml"
START = datetime(2030, 1, 1, tzinfo=UTC)


def build_store(url: str, events: int, fingerprint: str) -> None:
    """A store with `events` events, in the store's own format (each record beside the event that records
    it, the record's facts in the payload, the verified point at the head), written in bulk: through the
    store's methods, one transaction each, it would take an hour."""
    initialise_store(url)
    store = open_store(url)
    try:
        with db.writing(store.engine) as conn:
            log = _Log(conn)
            _fill(log, events, fingerprint)
            log.flush()
            conn.execute(chain_checkpoint.insert().values(id=1, seq=log.seq, hash=log.prev))
    finally:
        store.close()


class _Log:
    """Seals events one after the other, as SqlStore._append does, and inserts them in batches."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.seq, self.prev = 0, GENESIS_HASH
        self.now = START
        self.pending: list[dict[str, object]] = []

    def event(self, draft: EventDraft, facts: dict[str, object] | None = None) -> AuditEvent:
        self.seq += 1
        self.now += timedelta(seconds=1)
        sealed = EventDraft(draft.actor, draft.kind, {**draft.payload, **(facts or {})}, draft.fingerprint)
        event = seal(sealed, self.seq, self.now, self.prev)
        self.prev = event.hash
        self.pending.append(rows.event_row(event))
        if len(self.pending) >= 5000:
            self.flush()
        return event

    def flush(self) -> None:
        if self.pending:
            self.conn.execute(audit_events.insert(), self.pending)
            self.pending = []


LOCKS, APPROVALS, PASSES = 200, 500, 50  # the records of both stores: only the length of their logs differs
WORKSPACES, APPLY_EVERY = 20, 50  # the long log's applies: one every APPLY_EVERY events, across the workspaces
WORKSPACE = "/bench/stack-0#default"  # the benchmarked apply's workspace, applied once, at the start
# What a check records outside a repository: every check of a real log holds a provenance.
PROVENANCE = {"repository": None, "note": "not in a git repository", "problem": None}


def _fill(log: _Log, events: int, fingerprint: str) -> None:
    """The records (LOCKS locks, half of them released; APPROVALS plans checked and approved; PASSES of them
    with a break-glass pass, spent), then checks until the log holds `events` events, every fifth one of
    the benchmarked plan."""
    conn, now = log.conn, START
    for n in range(LOCKS):
        lock = new_lock(f"lk-{n:08x}", "ops@example.com", "freeze", now, type_=f"type_{n}")
        event = log.event(EventDraft(lock.owner, EventKind.LOCK, {}), lock_facts(lock))
        conn.execute(locks.insert().values({**rows.lock_row(lock), "event_seq": event.seq}))
        if n % 2:
            release = log.event(EventDraft("ops", EventKind.RELEASE, {}), release_facts(lock.id, "thaw"))
            values = {"released_at": iso_utc(now), "released_by": "ops", "release_reason": "thaw"}
            conn.execute(locks.update().where(locks.c.id == lock.id).values(**values, release_seq=release.seq))
    for n in range(APPROVALS):
        plan = f"sha256:{n:064x}"
        _first_check(log, plan, f"dev{n % 50}@example.com")
        approval = Approval(plan, "reviewer@example.com", now, "looks right")
        recorded = log.event(EventDraft(approval.actor, EventKind.APPROVAL, {}, plan), approval_facts(approval))
        conn.execute(approvals.insert().values({**rows.approval_row(approval), "event_seq": recorded.seq}))
        if n < PASSES:
            grant = BreakGlass(f"bg-{n:08x}", plan, "oncall@example.com", "outage", now, now + timedelta(hours=1))
            recorded = log.event(EventDraft(grant.actor, EventKind.BREAK_GLASS, {}, plan), break_glass_facts(grant))
            used = log.event(EventDraft("ci", EventKind.BREAK_GLASS_USED, {}, plan), use_facts(grant.id))
            row = {**rows.break_glass_row(grant), "used_at": iso_utc(now), "event_seq": recorded.seq}
            conn.execute(break_glass.insert().values({**row, "used_seq": used.seq}))
    _first_check(log, fingerprint, "dev0@example.com")
    _applied(log, 0)
    n = 0
    while log.seq < events:
        n += 1
        if n % APPLY_EVERY == 0:
            _applied(log, 1 + n // APPLY_EVERY % (WORKSPACES - 1))
            continue
        plan = fingerprint if n % 5 == 0 else f"sha256:{n % APPROVALS:064x}"
        payload = {"decision": "needs-approval", "provenance": PROVENANCE}
        log.event(EventDraft(f"dev{n % 50}@example.com", EventKind.CHECK, payload, plan))


def _applied(log: _Log, workspace: int) -> None:
    """A successful apply of /bench/stack-N#default: its apply-end event, which the log is searched for."""
    payload = {
        "workspace": f"/bench/stack-{workspace}#default",
        "status": "succeeded",
        "provenance": {"repository": "/bench", "commit": f"{workspace:040x}"},
    }
    log.event(EventDraft("ci@example.com", EventKind.APPLY_END, payload))


def _first_check(log: _Log, plan: str, actor: str) -> None:
    payload = {"decision": "needs-approval", "provenance": PROVENANCE}
    event = log.event(EventDraft(actor, EventKind.CHECK, payload, plan))
    author = {"fingerprint": plan, "author": actor, "first_seen": event.time, "event_seq": event.seq}
    log.conn.execute(plans.insert().values(author))


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    if done.returncode not in (0, 1, 2):
        raise SystemExit(f"{' '.join(argv[:4])} exited {done.returncode}: {done.stderr.decode()}")
    return time.perf_counter() - start


def settle_time(url: str, runs: int) -> float:
    """Median CPU seconds of this process opening the store, reading the plan's standing and recording a
    check (SQLite runs in process): CPU time, unlike wall time, does not count other programs' turns."""
    from guardrail.config.discovery import settings_for
    from guardrail.services.check import CheckRequest, check
    from guardrail.services.review import settle

    settings = settings_for(CONFIG, start=CONFIG.parent)
    report = check(CheckRequest(plan=PLAN, settings=settings))
    times = []
    for _ in range(runs):
        start = time.process_time()
        store = open_store(url)
        try:
            settle(store, report, settings, "bench@example.com", datetime.now(UTC))
        finally:
            store.close()
        times.append(time.process_time() - start)
    return statistics.median(times)


def apply_reads_time(url: str, fingerprint: str, runs: int, *, whole_log: bool = False) -> float:
    """Median CPU seconds of what an apply reads from the log before applying: the provenance of the plan's
    last check and the commit of its workspace's last apply (`whole_log`: found by reading the whole log
    into memory and searching it, as apply once did)."""
    from guardrail.core.provenance import last_check_provenance, last_successful_apply
    from guardrail.services.provenance import last_applied_commit, plan_provenance

    store = open_store(url)
    times = []
    try:
        for _ in range(runs):
            start = time.process_time()
            if whole_log:
                newest_first = list(store.events())[::-1]
                found = last_check_provenance(newest_first, fingerprint) is not None
                applied = last_successful_apply(newest_first, WORKSPACE) is not None
            else:
                found = plan_provenance(store, fingerprint) is not None
                applied = last_applied_commit(store, WORKSPACE) is not None
            times.append(time.process_time() - start)
            if not (found and applied):
                raise SystemExit(f"{url}: the plan's check or the workspace's apply was not found")
    finally:
        store.close()
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return measure(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="guardrail-bench-") as work:
        return measure(args, Path(work))


def measure(args: argparse.Namespace, work: Path) -> int:
    short_url, long_url = f"sqlite:///{work / 'short.db'}", f"sqlite:///{work / 'long.db'}"
    probe = f"sqlite:///{work / 'probe.db'}"
    initialise_store(probe)
    gate = [sys.executable, "-m", "guardrail", "check", str(PLAN), "--config", str(CONFIG)]
    first = subprocess.run([*gate, "-f", "json", "--store", probe], capture_output=True, check=False)
    fingerprint = json.loads(first.stdout)["fingerprint"]
    build_store(short_url, 0, fingerprint)
    started = time.perf_counter()
    build_store(long_url, args.events, fingerprint)
    built = time.perf_counter() - started
    long_store = open_store(long_url)
    try:
        head = long_store.head()
        started = time.perf_counter()
        from guardrail.services import audit

        report = audit.verify(long_store)
        full_verify = time.perf_counter() - started
    finally:
        long_store.close()
    if not report.ok or head is None:
        print(f"the long store does not verify: {report.broken}", file=sys.stderr)
        return 1
    timed([*gate, "--store", long_url])  # warm the page cache
    short_runs, long_runs = [], []
    for _ in range(args.runs):
        short_runs.append(timed([*gate, "--store", short_url]))
        long_runs.append(timed([*gate, "--store", long_url]))
    short_wall, long_wall = statistics.median(short_runs), statistics.median(long_runs)
    empty_url = f"sqlite:///{work / 'empty.db'}"
    initialise_store(empty_url)
    empty_settle = settle_time(empty_url, args.runs)
    short_settle, long_settle = settle_time(short_url, args.runs), settle_time(long_url, args.runs)
    short_reads = apply_reads_time(short_url, fingerprint, args.runs)
    long_reads = apply_reads_time(long_url, fingerprint, args.runs)
    whole_reads = apply_reads_time(long_url, fingerprint, 3, whole_log=True)
    ratio = long_wall / short_wall
    print(f"long store: {head.seq} events (built in {built:.1f} s), {args.runs} runs each, plan {PLAN}")
    print(f"guardrail check, short log : {short_wall:6.3f} s")
    print(f"guardrail check, long log  : {long_wall:6.3f} s   ratio {ratio:5.2f}x")
    settled = f"short {short_settle * 1000:5.1f} ms, long {long_settle * 1000:5.1f} ms"
    print(f"  store CPU in process (open, standing, record): {settled} (no records: {empty_settle * 1000:5.1f} ms)")
    reads = f"short {short_reads * 1000:5.1f} ms, long {long_reads * 1000:5.1f} ms"
    print(f"  an apply's reads of the log (the plan's last check, its workspace's last apply): {reads}")
    print(f"    by reading the whole long log instead (as apply once did): {whole_reads * 1000:7.1f} ms")
    print(f"  a full audit verify of the long log: {full_verify:6.2f} s (what verifying it at every check would cost)")
    print(f"target (check: long within 1.10x of short): {'met' if ratio <= 1.10 else 'NOT met'}")
    share = long_reads / whole_reads
    print(f"target (apply's reads under 10% of reading the whole log): {'met' if share < 0.1 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

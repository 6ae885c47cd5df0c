#!/usr/bin/env python3
"""What `guardrail nodes plan` spends reading earlier cycles of a pool from the audit log, against reading
the whole log without looking at it, measured in the same run.

The log: the audit events of a 1,000-node rehearsal (about nine thousand: phases, decisions, the start
and the end), repeated for `--cycles` earlier cycles of the pool with fresh run ids, each followed by a
check of some plan (as many events of another kind), sealed into one chain and written to a SQLite store
in one transaction. Runs, alternating to share the machine's noise:
  - the history: pool_history over the node-cycle events the store hands over by kind (run_events, through
    the index on kind): the plan's whole cost of its history;
  - the reference: every event of the log read from the store and dropped (AuditStore.events);
and prints the median of each and the history as a share of the reference.

    python benchmarks/nodes_history.py [--cycles 10] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from nodes_rehearse import pool  # the benchmark's own pool: benchmarks/ is on the path when run as a script

from guardrail.adapters.store import open_store, rows
from guardrail.adapters.store.schema import audit_events
from guardrail.config.nodes import NodesSettings
from guardrail.core.audit import GENESIS_HASH, AuditEvent, EventDraft, EventKind, seal
from guardrail.core.nodes.history import HISTORY_KINDS, pool_history
from guardrail.services.nodes_rehearse import rehearse


def chain(cycles: int) -> Iterator[AuditEvent]:
    """`cycles` copies of a 1,000-node rehearsal's events (each its own run), every event followed by a check
    of some plan, sealed into one chain."""
    rehearsed = rehearse(pool(1000), NodesSettings())
    previous, seq = GENESIS_HASH, 0
    moment = rehearsed.record.created_at
    for cycle in range(cycles):
        for event in rehearsed.events:
            payload = dict(event.payload)
            payload["run"] = f"{payload.get('run')}-{cycle}"
            for draft in (
                EventDraft(event.actor, event.kind, payload),
                EventDraft("ci@example.com", EventKind.CHECK.value, {"verdict": "allow", "summary": {"create": 1}}),
            ):
                seq += 1
                sealed = seal(draft, seq, moment, previous)
                previous = sealed.hash
                yield sealed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'guardrail.db'}", create=True)
        try:
            events = list(chain(args.cycles))
            subject = next(e.payload["subject"] for e in events if e.kind == EventKind.NODE_CYCLE_START)
            with store.engine.begin() as conn:
                conn.execute(audit_events.insert(), [rows.event_row(e) for e in events])
            history_times, read_times = [], []
            for _ in range(args.runs):
                start = time.perf_counter()
                history = pool_history(store.run_events(HISTORY_KINDS), subject)
                history_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                for _event in store.events():
                    pass
                read_times.append(time.perf_counter() - start)
        finally:
            store.close()
    history_s, read_s = statistics.median(history_times), statistics.median(read_times)
    boots = sum(len(h.boot_seconds) for h in history.strata.values())
    print(f"audit log: {len(events):,} events, {args.cycles} earlier cycles of a 1,000-node pool")
    print(f"history:   {history_s:.3f} s  ({history.cycles} cycles, {len(history.strata)} strata, {boots:,} boots)")
    print(f"reference: {read_s:.3f} s  (reading the whole log)")
    print(f"ratio:     {history_s / read_s:.2f}x the whole log's reading")


if __name__ == "__main__":
    main()

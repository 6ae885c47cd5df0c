"""A separate guardrail process for the concurrency tests: `python -m tests.store.apply_worker MODE URL DIR [N]`.

Writes `DIR/ready-PID` once the store is open, waits for `DIR/go`, acts, and writes `DIR/result-PID.json`.
acquire: take the apply lock of workspace "prod"; the winner holds it until `DIR/release` exists.
hold: take it and never give it back (the test kills it).  append: append N audit events.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from guardrail.adapters.store import open_store
from guardrail.core.audit import EventDraft
from guardrail.core.locks import ApplyLockHeldError
from guardrail.services import apply_lock

_DEADLINE = 120.0


def _wait_for(path: Path) -> None:
    start = time.monotonic()
    while not path.exists():
        if time.monotonic() - start > _DEADLINE:
            raise SystemExit(f"timed out waiting for {path}")
        time.sleep(0.005)


def _result(folder: Path, data: dict[str, object]) -> None:
    tmp = folder / f".result-{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"pid": os.getpid(), **data}))
    tmp.rename(folder / f"result-{os.getpid()}.json")  # atomic: the parent never reads half a file


def main(mode: str, url: str, folder: Path, count: int) -> None:
    store = open_store(url)
    (folder / f"ready-{os.getpid()}").touch()
    _wait_for(folder / "go")
    if mode == "append":
        for i in range(count):
            store.append(EventDraft(f"writer-{os.getpid()}", "note", {"i": i}))
        _result(folder, {"appended": count})
        return
    try:
        holder = apply_lock.acquire(store, "prod", f"worker-{os.getpid()}", datetime.now(UTC))
    except ApplyLockHeldError as held:
        _result(folder, {"acquired": False, "error": str(held)})
        return
    _result(folder, {"acquired": True})
    if mode == "hold":
        time.sleep(_DEADLINE)
        return
    _wait_for(folder / "release")
    apply_lock.release(store, holder, {"status": "succeeded"})
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 0)

"""Run ids, one way for every kind of run: short enough to type (`rollout pause ID`, `nodes abort ID`), and
prefixed by kind so that an id says what it names."""

from __future__ import annotations

import secrets

from guardrail.core.runs import RunKind

_PREFIX = {RunKind.ROLLOUT: "ro", RunKind.NODE_CYCLE: "nc"}


def new_run_id(kind: RunKind) -> str:
    """A fresh id for a run of `kind` (a clash is refused by the store's start_run, never overwritten)."""
    return f"{_PREFIX[kind]}-{secrets.token_hex(4)}"

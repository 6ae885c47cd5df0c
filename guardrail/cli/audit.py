"""`guardrail audit ...`: read, export and verify the tamper-evident log."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import typer

from guardrail.cli.options import CONFIG, LIST_FORMAT, STORE, ListFormat, command_store, now, sub_app
from guardrail.cli.output import emit, inert, write_atomically
from guardrail.cli.tables import print_json, print_table
from guardrail.core.errors import BadInputError
from guardrail.core.queries import EVENT_KINDS

audit_app = sub_app("audit", "The audit log: every check, lock, approval, break-glass and apply, hash-chained.")

_DETAILS_WIDTH = 100


class ExportFormat(StrEnum):
    jsonl = "jsonl"


@audit_app.command("list")
def list_command(
    since: str | None = typer.Option(None, "--since", help="ISO date or time (UTC unless given), or an age like 2h."),
    actor: str | None = typer.Option(None, "--actor", help="Only this actor's events."),
    kind: str | None = typer.Option(None, "--kind", help=f"One of {', '.join(EVENT_KINDS)}."),
    address: str | None = typer.Option(None, "--address", help="Only events naming an address matching this glob."),
    output_format: ListFormat = LIST_FORMAT,
    config: Path | None = CONFIG,
    store: str | None = STORE,
) -> None:
    """Events matching every filter given, oldest first."""
    from guardrail.core.audit import EventFilter
    from guardrail.core.queries import event_kind
    from guardrail.services.audit import as_record, list_events

    if kind is not None:
        event_kind(kind, f"--kind {kind!r}")
    selection = EventFilter(since=_since(since) if since else None, actor=actor, kind=kind, address=address)
    with command_store(config, store) as opened:
        events = list(list_events(opened, selection))
    if output_format is ListFormat.json:
        print_json([as_record(event) for event in events])
        return
    rows = [(str(e.seq), e.time, e.actor, e.kind, _short(e.fingerprint), _details(e.payload_json)) for e in events]
    print_table("events", ("SEQ", "TIME", "ACTOR", "KIND", "PLAN", "DETAILS"), rows)


@audit_app.command("show")
def show_command(
    seq: int = typer.Argument(..., help="The event's sequence number.", show_default=False),
    config: Path | None = CONFIG,
    store: str | None = STORE,
) -> None:
    """One event in full, as stored."""
    from guardrail.services.audit import as_record, show

    with command_store(config, store) as opened:
        event = show(opened, seq)
    print_json(as_record(event))


@audit_app.command("export")
def export_command(
    export_format: ExportFormat = typer.Option(ExportFormat.jsonl, "--format", "-f", help="jsonl: one event a line."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to FILE (atomically) instead of stdout."),
    config: Path | None = CONFIG,
    store: str | None = STORE,
) -> None:
    """Every event, as stored, with its hashes: verifiable elsewhere."""
    from guardrail.services.audit import export_jsonl

    with command_store(config, store) as opened:
        text = "".join(export_jsonl(opened))
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_atomically(output, text)


@audit_app.command("verify")
def verify_command(
    expect_head: str | None = typer.Option(
        None, "--expect-head", help="A head hash recorded elsewhere earlier: the log must still contain it."
    ),
    exact: bool = typer.Option(False, "--exact", help="With --expect-head: it must be the head (no later events)."),
    config: Path | None = CONFIG,
    store: str | None = STORE,
) -> int:
    """Check the whole hash chain: exit 0 intact, 1 naming the first broken event (or a lost pinned head)."""
    from guardrail.core.queries import parse_head_hash
    from guardrail.services.audit import verify

    if expect_head is not None:
        expect_head = parse_head_hash(expect_head, f"--expect-head {expect_head!r}")
    elif exact:
        raise BadInputError("--exact needs --expect-head HASH: it says that the pinned head must be the last event")
    with command_store(config, store) as opened:
        report = verify(opened, expect_head, exact=exact)
    if report.broken is not None:
        emit(inert(f"audit log BROKEN at {report.broken} ({report.count} event(s) verified before it)"))
        return 1
    emit(f"audit log intact: {report.count} event(s), head {report.head}")
    for note in report.notes:
        emit(inert(f"note: {note}"))
    return 0


def _since(text: str) -> datetime:
    from guardrail.core.queries import parse_since

    try:
        return parse_since(text, now())
    except ValueError:
        raise BadInputError(f"--since {text!r}: expected an ISO date or time, or an age like 2h or 7d") from None


def _short(fingerprint: str | None) -> str:
    return fingerprint[:19] if fingerprint else "-"


def _details(payload_json: str) -> str:
    try:
        payload = json.loads(payload_json)
    except ValueError:
        return "(payload damaged)"
    if not isinstance(payload, dict):
        return str(payload)[:_DETAILS_WIDTH]
    shown = [f"{key}={value}" for key, value in payload.items() if isinstance(value, str | int | float) and value != ""]
    text = " ".join(shown)
    return text if len(text) <= _DETAILS_WIDTH else text[: _DETAILS_WIDTH - 3] + "..."

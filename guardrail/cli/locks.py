"""`guardrail lock ...`: freeze resources at runtime, list and release the freezes, recover a crashed apply."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from guardrail.cli.options import CONFIG, LIST_FORMAT, STORE, ListFormat, command_store, now, sub_app
from guardrail.cli.output import emit, inert
from guardrail.cli.tables import print_json, print_table

lock_app = sub_app(
    "lock", "Freeze resources against every change; list and release locks; recover a crashed apply's lock."
)

REASON = typer.Option(..., "--reason", "-r", help="Why: recorded in the audit log and shown in every finding.")


@lock_app.command("add")
def add_command(
    reason: str = REASON,
    address: str | None = typer.Option(None, "--address", help='Glob on resource addresses, e.g. "module.db.*".'),
    type_: str | None = typer.Option(None, "--type", help="Resource type, e.g. aws_db_instance."),
    tag: str | None = typer.Option(None, "--tag", help="k=v carried in tags, tags_all or labels."),
    kind: list[str] | None = typer.Option(None, "--kind", help="Kubernetes kind, e.g. Namespace (repeatable: any)."),
    kube_namespace: list[str] | None = typer.Option(
        None, "--kube-namespace", help="Kubernetes namespace glob; also the Namespace object itself (repeatable)."
    ),
    name: list[str] | None = typer.Option(None, "--name", help="Kubernetes object name glob (repeatable)."),
    label: list[str] | None = typer.Option(None, "--label", help="k=v in the object's metadata.labels (repeatable)."),
    cluster: list[str] | None = typer.Option(None, "--cluster", help="Target cluster (context) glob (repeatable)."),
    expires: str | None = typer.Option(
        None, "--expires", help="Lifetime, e.g. 2h, 1d, 1h30m (default: until released)."
    ),
    config: Path | None = CONFIG,
    store: str | None = STORE,
) -> None:
    """Lock what exactly one of --address, --type or --tag selects, or what every Kubernetes criterion given
    (--kind, --kube-namespace, --name, --label, --cluster) selects; prints the lock id."""
    from guardrail.core.locks import parse_duration, parse_tag
    from guardrail.core.matching import KubeCriteria
    from guardrail.services.locks import add_lock
    from guardrail.services.store import actor

    lifetime = parse_duration(expires) if expires is not None else None
    labels = dict(parse_tag(text) for text in label or ())
    kube = KubeCriteria.of(kind or (), kube_namespace or (), name or (), labels, cluster or ())
    with command_store(config, store) as opened:
        lock = add_lock(
            opened,
            actor(),
            now(),
            reason=reason,
            address=address,
            type_=type_,
            tag=tag,
            expires_in=lifetime,
            kube=kube,
        )
    emit(lock.id)


@lock_app.command("list")
def list_command(
    all_: bool = typer.Option(False, "--all", help="Include released and expired locks."),
    output_format: ListFormat = LIST_FORMAT,
    config: Path | None = CONFIG,
    store: str | None = STORE,
) -> None:
    """The locks in force (all of them with --all)."""
    from guardrail.services.locks import list_locks

    at = now()
    with command_store(config, store) as opened:
        locks = list_locks(opened, at, include_inactive=all_)
    if output_format is ListFormat.json:
        print_json(
            [
                {
                    "id": lock.id,
                    "target": lock.target.value,
                    "pattern": lock.pattern,
                    "owner": lock.owner,
                    "reason": lock.reason,
                    "created_at": lock.created_at.isoformat(),
                    "expires_at": lock.expires_at.isoformat() if lock.expires_at else None,
                    "released_at": lock.released_at.isoformat() if lock.released_at else None,
                    "released_by": lock.released_by,
                    "active": lock.is_active(at),
                }
                for lock in locks
            ]
        )
        return
    rows = [
        (
            lock.id,
            f"{lock.target.value} {lock.pattern}",
            lock.owner,
            _minutes(lock.created_at),
            _minutes(lock.expires_at) if lock.expires_at else "-",
            "active" if lock.is_active(at) else ("released" if lock.released_at else "expired"),
            lock.reason,
        )
        for lock in locks
    ]
    print_table("locks", ("ID", "TARGET", "OWNER", "SINCE", "EXPIRES", "STATE", "REASON"), rows)


@lock_app.command("release")
def release_command(
    lock_id: str = typer.Argument(..., metavar="ID", help="The id `lock add` printed.", show_default=False),
    reason: str = REASON,
    config: Path | None = CONFIG,
    store: str | None = STORE,
) -> None:
    """Release a lock, whoever owns it; who and why are recorded."""
    from guardrail.services.locks import release_lock
    from guardrail.services.store import actor

    with command_store(config, store) as opened:
        released = release_lock(opened, actor(), lock_id.strip(), reason, now())
    emit(inert(f"released {released.id} ({released.target.value} {released.pattern})"))


@lock_app.command("recover-apply")
def recover_apply_command(
    directory: Path = typer.Argument(..., help="The configuration directory the crashed apply ran in."),
    reason: str = REASON,
    config: Path | None = CONFIG,
    store: str | None = STORE,
) -> None:
    """Remove the apply lock of a crashed apply (dead process or expired lease); a live holder's lock stays."""
    from guardrail.services.apply import workspace_of
    from guardrail.services.apply_lock import recover
    from guardrail.services.store import actor

    workspace = workspace_of(directory)
    with command_store(config, store, plan=directory) as opened:  # the store of that configuration's applies
        holder = recover(opened, workspace, actor(), reason, now())
    emit(inert(f"recovered the apply lock of {workspace} held by {holder.describe()}"))


def _minutes(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")

"""`guardrail approve` and `guardrail break-glass`: people letting one exact plan through."""

from __future__ import annotations

from pathlib import Path

import typer

from guardrail.cli.main import app
from guardrail.cli.options import CONFIG, STORE, load_config, now
from guardrail.cli.output import emit, inert
from guardrail.core.errors import BadInputError

FINGERPRINT = typer.Argument(..., help="The plan's fingerprint, as guardrail check prints it.", show_default=False)


@app.command("approve")
def approve_command(
    fingerprint: str = FINGERPRINT,
    comment: str = typer.Option("", "--comment", "-m", help="Recorded with the approval."),
    signature: Path | None = typer.Option(
        None,
        "--signature",
        help="File holding `ssh-keygen -Y sign -n guardrail-approval` output over the fingerprint "
        "(required when approvals.allowed_signers is set).",
    ),
    config: Path | None = CONFIG,
    store: str | None = STORE,
) -> None:
    """Approve a checked plan as the current actor (GUARDRAIL_ACTOR, git user.email, or the OS user).

    Exit 0 recorded; 1 refused (the plan's author, not an allowed approver, a bad signature); 3 bad input.
    """
    from guardrail.core.fingerprint import parse_fingerprint
    from guardrail.services.approvals import approve
    from guardrail.services.store import actor, opened_store, signature_verifier

    wanted = parse_fingerprint(fingerprint)
    signed = _read_signature(signature) if signature is not None else None
    settings = load_config(config)
    who = actor()
    with opened_store(store, settings) as opened:
        approval = approve(
            opened,
            settings.approvals.policy(),
            wanted,
            who,
            now(),
            comment=comment,
            signature=signed,
            verifier=signature_verifier(settings),
        )
    emit(inert(f"approved {approval.fingerprint} by {approval.actor}{' (signed)' if approval.signature else ''}"))


@app.command("break-glass")
def break_glass_command(
    fingerprint: str = FINGERPRINT,
    reason: str = typer.Option(..., "--reason", "-r", help="Why the rules must be overridden: recorded loudly."),
    ttl: str = typer.Option("1h", "--ttl", help="How long the one-time pass stays usable, e.g. 30m."),
    signature: Path | None = typer.Option(
        None,
        "--signature",
        help="File holding `ssh-keygen -Y sign -n guardrail-break-glass` output over the fingerprint "
        "(required when approvals.allowed_signers is set).",
    ),
    config: Path | None = CONFIG,
    store: str | None = STORE,
) -> None:
    """Let one checked plan through once, denied or not, within --ttl (approvals.break_glass people only).

    Exit 0 granted; 1 refused (not allowed to break glass); 3 bad input (ttl, reason, plan never checked).
    """
    from guardrail.core.approvals import BREAK_GLASS_NAMESPACE
    from guardrail.core.fingerprint import parse_fingerprint
    from guardrail.core.locks import parse_duration
    from guardrail.services.approvals import break_glass
    from guardrail.services.store import actor, opened_store, signature_verifier

    wanted = parse_fingerprint(fingerprint)
    lifetime = parse_duration(ttl)
    signed = _read_signature(signature) if signature is not None else None
    settings = load_config(config)
    with opened_store(store, settings) as opened:
        grant = break_glass(
            opened,
            settings.approvals.policy(),
            wanted,
            actor(),
            reason=reason,
            now=now(),
            ttl=lifetime,
            signature=signed,
            verifier=signature_verifier(settings, BREAK_GLASS_NAMESPACE),
        )
    emit(
        inert(
            f"BREAK-GLASS {grant.id} for {grant.fingerprint} by {grant.actor}, "
            f"one use until {grant.expires_at.isoformat()}"
        )
    )


def _read_signature(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise BadInputError(f"{path}: signature file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: cannot read the signature: {exc}") from None

"""The words and tones the screens use, and the sentences that say what a confirmed action will do.

Pure: tested without an app. A confirmation says exactly what will be recorded, so nobody confirms
something they did not mean.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from guardrail.core.change import Action
from guardrail.core.locks import Lock, LockTarget
from guardrail.core.rollback.reversibility import Reversibility
from guardrail.core.verdict import Decision, Enforcement
from guardrail.tui.inert import Tone

VERDICT_TONES = {Decision.ALLOW: Tone.GOOD, Decision.DENY: Tone.BAD, Decision.NEEDS_APPROVAL: Tone.WARN}
ENFORCEMENT_TONES = {Enforcement.HARD: Tone.BAD, Enforcement.SOFT: Tone.WARN, Enforcement.ADVISORY: Tone.MUTED}
# One letter in the change list, so a narrow terminal still shows each change's weightiest finding.
ENFORCEMENT_LETTERS = {Enforcement.HARD: "H", Enforcement.SOFT: "S", Enforcement.ADVISORY: "a"}
REVERSIBILITY_TONES = {
    Reversibility.IRREVERSIBLE: Tone.BAD,
    Reversibility.LOSSY: Tone.WARN,
    Reversibility.REVERSIBLE: Tone.MUTED,
}
ACTION_TONES = {
    Action.DELETE: Tone.BAD,
    Action.REPLACE: Tone.BAD,
    Action.FORGET: Tone.WARN,
    Action.UPDATE: Tone.WARN,
    Action.CREATE: Tone.GOOD,
    Action.READ: Tone.ACCENT,
    Action.NO_OP: Tone.MUTED,
}


def short_fingerprint(fingerprint: str | None, length: int = 12) -> str:
    """`sha256:f412e7b76e36` : enough to tell plans apart at a glance."""
    if not fingerprint:
        return "-"
    algorithm, sep, digest = fingerprint.partition(":")
    return f"{algorithm}:{digest[:length]}" if sep else fingerprint[:length]


def duration_words(span: timedelta) -> str:
    """`2h`, `1d 4h`, `15m`, `45s`: the two largest units."""
    seconds = int(span.total_seconds())
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts[:2]) or "0s"


def when(moment: datetime | None) -> str:
    """A UTC time to the minute, as the tables show it."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


_TARGET_WORDS = {
    LockTarget.ADDRESS: "resources matching address {pattern}",
    LockTarget.TYPE: "resources of type {pattern}",
    LockTarget.TAG: "resources tagged {pattern}",
}


def lock_request_words(target: LockTarget, pattern: str, reason: str, expires_in: timedelta | None) -> str:
    """What adding this lock will do, in one sentence."""
    what = _TARGET_WORDS[target].format(pattern=pattern.strip())
    until = f"for {duration_words(expires_in)}" if expires_in is not None else "until it is released"
    return f"Lock every change to {what} {until}, reason: {reason.strip()}"


def lock_release_words(lock: Lock) -> str:
    """What releasing this lock will do."""
    what = _TARGET_WORDS[lock.target].format(pattern=lock.pattern)
    return f"Release lock {lock.id} (by {lock.owner}) on {what}: changes to them are no longer blocked by it"


def lock_state(lock: Lock, now: datetime) -> str:
    """`active`, `active, 1h 30m left`, `expired`, `released by bob`."""
    if lock.released_at is not None:
        return f"released by {lock.released_by or '?'}"
    if lock.expires_at is None:
        return "active"
    if now >= lock.expires_at:
        return "expired"
    return f"active, {duration_words(lock.expires_at - now)} left"


def approve_words(fingerprint: str, actor: str, counted: int, required: int) -> str:
    return (
        f"Approve plan {fingerprint} as {actor}. "
        f"It has {counted} of {required} required approval(s); an approval counts only for this exact plan."
    )


def break_glass_words(fingerprint: str, actor: str, ttl: str) -> str:
    return (
        f"BREAK GLASS for plan {fingerprint} as {actor}: one apply of this exact plan goes ahead despite "
        f"its findings, within {ttl or '?'}. This is recorded loudly in the audit log."
    )


def cycle_request_words(action: str, run_id: str, subject: str, in_hand: int) -> str:
    """What asking a node cycle to pause, resume or abort will do, in a sentence or two."""
    if action == "pause":
        return (
            f"Pause node cycle {run_id} of {subject}: no node starts any more; the {in_hand} node(s) in hand "
            "finish their phases (their budgets still run)."
        )
    if action == "resume":
        return (
            f"Resume node cycle {run_id} of {subject}: the process driving it starts nodes again "
            f"(if none drives it any more, `guardrail nodes resume {run_id}` does)."
        )
    return (
        f"ABORT node cycle {run_id} of {subject}: nodes not yet replaced are handed back uncordoned, nodes past "
        f"their replace are left as they are for a person ({in_hand} in hand). With nothing in hand it ends at "
        "once and frees the pool."
    )

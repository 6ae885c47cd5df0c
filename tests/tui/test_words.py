"""Inert text and the sentences confirmations show: pure, no app needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from guardrail.core.locks import Lock, LockTarget
from guardrail.tui.inert import Tone, inert, style_for
from guardrail.tui.wording import lock_release_words, lock_request_words, lock_state, short_fingerprint


def test_markup_and_escape_sequences_stay_inert() -> None:
    assert inert("aws_s3_bucket.[bold red]x[/]").plain == "aws_s3_bucket.[bold red]x[/]"
    assert inert("aws_s3_bucket.[bold red]x[/]").spans == []
    assert inert("\x1b[2Jboom\x9b1m").plain == "\\x1b[2Jboom\\x9b1m"
    assert inert("a\nb\u202ec\x00").plain == "a\\nb\\u202ec\\x00"


def test_tones_take_the_theme_colour_and_stay_bold_without_it() -> None:
    theme = {"text-error": "#7A273C", "text-muted": "auto 60%"}
    assert style_for(Tone.BAD, theme).color.name == "#7a273c"  # type: ignore[union-attr]
    assert style_for(Tone.BAD, None).bold  # readable without colour
    assert style_for(Tone.MUTED, theme).dim


def test_confirmations_say_exactly_what_will_happen() -> None:
    assert lock_request_words(LockTarget.ADDRESS, "module.db.*", " freeze ", timedelta(hours=2)) == (
        "Lock every change to resources matching address module.db.* for 2h, reason: freeze"
    )
    assert lock_request_words(LockTarget.TAG, "env=prod", "audit", None) == (
        "Lock every change to resources tagged env=prod until it is released, reason: audit"
    )
    now = datetime(2025, 3, 1, tzinfo=UTC)
    lock = Lock("lk-1", LockTarget.TYPE, "aws_db_instance", "bob", "why", now, now + timedelta(minutes=90))
    assert lock_release_words(lock).startswith("Release lock lk-1 (by bob) on resources of type aws_db_instance")
    assert lock_state(lock, now) == "active, 1h 30m left"
    assert lock_state(lock, now + timedelta(hours=2)) == "expired"
    assert short_fingerprint("sha256:f412e7b76e36215d3e79") == "sha256:f412e7b76e36"

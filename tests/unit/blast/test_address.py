"""Splitting addresses: the quick split of a key closing the address agrees with the careful one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from guardrail.core.blast.address import Step, _steps_slow, steps

# Dots, brackets, quotes and escapes, where a quick split could go wrong.
texts = st.text('ab.[]"\\0', max_size=14)


@settings(max_examples=500, deadline=None)
@given(texts)
def test_every_text_splits_as_the_careful_split_does(text: str) -> None:
    if "[" in text:
        assert steps(text) == _steps_slow(text)


@given(st.from_regex(r'\A(module\.[a-z]{1,3}\.)?[a-z_]{1,5}\.[a-z]{1,3}\[("[a-z. -]{0,6}"|[0-9]{1,3})\]\Z'))
def test_a_key_closing_the_address_splits_as_the_careful_split_does(text: str) -> None:
    assert steps(text) == _steps_slow(text)


def test_a_for_each_key_with_a_dot_stays_whole() -> None:
    assert steps('google_compute_instance.web["web-1.eu"]') == (
        Step("google_compute_instance"),
        Step("web", '"web-1.eu"'),
    )

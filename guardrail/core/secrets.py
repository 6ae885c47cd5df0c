"""Last line of defence for secrets: scrub text that guardrail did not compose itself."""

from __future__ import annotations

import re
from collections.abc import Iterable

from guardrail.core.values import SENSITIVE_PLACEHOLDER

# Shorter values ("1", "on", "abc") collide with ordinary words in messages; values Terraform
# marks sensitive are masked at intake anyway, scrubbing only guards free text such as Rego messages.
MIN_SCRUB_LENGTH = 4


def literal_secrets(values: Iterable[object]) -> frozenset[str]:
    """The string forms of sensitive scalars that are long enough to scrub safely."""
    found: set[str] = set()
    for value in values:
        if isinstance(value, bool) or value is None:
            continue
        text = str(value)
        if len(text) >= MIN_SCRUB_LENGTH:
            found.add(text)
    return frozenset(found)


class Scrubber:
    """Replaces every occurrence of known secret literals in text with a placeholder."""

    def __init__(self, secrets: Iterable[str]) -> None:
        ordered = sorted(set(secrets), key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(SENSITIVE_PLACEHOLDER, text)

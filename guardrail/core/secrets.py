"""Last line of defence for secrets: scrub text that guardrail did not compose itself."""

from __future__ import annotations

import functools
import json
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
    """Replaces every occurrence of known secret literals in text with a placeholder.

    Also the spellings a secret takes inside JSON or Rego text, where `"`, `\\`, control and (optionally)
    non-ASCII characters are escaped: a policy's `sprintf("%v", [input.variables])` quotes a password with
    a quote in it as `p\\"w`, which the plain literal would not match.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        spellings = {spelling for secret in secrets for spelling in _spellings(secret)}
        ordered = sorted(spellings, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(SENSITIVE_PLACEHOLDER, text)


def _spellings(secret: str) -> set[str]:
    """The secret as written, and as JSON writes it (with and without escaping non-ASCII characters)."""
    found = {secret}
    for ascii_only in (True, False):
        escaped = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
        found.add(escaped)
        # Escaped twice: a JSON string holding a JSON document (a Rego message quoting serialised input).
        found.add(json.dumps(escaped, ensure_ascii=ascii_only)[1:-1])
    return found


@functools.lru_cache(maxsize=16)
def scrubber_for(literals: frozenset[str]) -> Scrubber:
    """The Scrubber of one plan's secret literals, built once: the check, the store, the approvals and
    every renderer of a report scrub with the same set, and each build compiles a regular expression."""
    return Scrubber(literals)

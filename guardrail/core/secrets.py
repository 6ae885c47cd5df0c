"""Last line of defence for secrets: scrub free text that guardrail did not compose itself.

Only messages are scrubbed (a policy's message, terraform's output quoted in an error, a note): resource
addresses, rule ids and file paths are names, never secrets, and are shown as they are everywhere.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable

from guardrail.core.change import ChangeSet
from guardrail.core.values import SENSITIVE_PLACEHOLDER

# A secret at least this long is scrubbed wherever it appears, even inside a longer word. A shorter one
# ("7", "on", "abc") is scrubbed wherever it stands alone, that is not next to a letter, digit or `_`:
# scrubbing it inside words would garble every message (an "e" in "delete") while a word that merely
# contains it does not tell a reader which part is the secret.
SUBSTRING_SCRUB_LENGTH = 4


def literal_secrets(values: Iterable[object]) -> frozenset[str]:
    """The spellings of sensitive scalars to scrub, whatever their length.

    Booleans and nulls are left out: hiding `true` would not hide anything while `false` stays readable,
    and scrubbing both would blank every yes/no in every message. Empty and blank strings are left out
    because they cannot be told apart from layout.
    """
    found: set[str] = set()
    for value in values:
        if isinstance(value, bool) or value is None:
            continue
        text = str(value)
        if text.strip():
            found.add(text)
    return frozenset(found)


class Scrubber:
    """Replaces every occurrence of known secret literals in text with a placeholder, leaving `keep` whole.

    Also the spellings a secret takes inside JSON or Rego text, where `"`, `\\`, control and (optionally)
    non-ASCII characters are escaped: a policy's `sprintf("%v", [input.variables])` quotes a password with
    a quote in it as `p\\"w`, which the plain literal would not match.

    `keep` are names (resource addresses) that a message may quote: a secret "prod" inside
    `aws_s3_bucket.prod_logs` stays, since the address is no secret and a half-masked address would point
    at the secret. A longer secret still wins over a kept name it contains. Scrubbing twice changes
    nothing: the placeholder itself is kept too, even when a secret is a part of it ("value").
    """

    def __init__(self, secrets: Iterable[str], keep: Iterable[str] = ()) -> None:
        self._secrets = frozenset(s for s in secrets if s)
        lengths: dict[str, int] = {}
        for secret in self._secrets:
            for spelling in _spellings(secret):
                lengths[spelling] = max(lengths.get(spelling, 0), len(secret))
        # A name that is itself a spelling of a secret is not kept: when in doubt, scrub.
        self._kept = frozenset(name for name in (*keep, SENSITIVE_PLACEHOLDER) if name and name not in lengths)
        # Longest first, secrets before names of the same length: at one position the regular expression
        # takes the first alternative that matches.
        ordered = sorted(
            [(spelling, _pattern(spelling, length), 0) for spelling, length in lengths.items()]
            + [(name, re.escape(name), 1) for name in self._kept],
            key=lambda item: (-len(item[0]), item[2]),
        )
        self._pattern = re.compile("|".join(p for _, p, _ in ordered)) if lengths else None

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(self._replace, text)

    def _replace(self, found: re.Match[str]) -> str:
        return found.group() if found.group() in self._kept else SENSITIVE_PLACEHOLDER

    def keeping(self, names: Iterable[str]) -> Scrubber:
        """This scrubber, also keeping `names` whole where they hold a secret (itself when none does)."""
        if not self._secrets:
            return self
        holding = frozenset(name for name in names if any(secret in name for secret in self._secrets))
        wanted = holding - self._kept
        return scrubber_for(self._secrets, frozenset(self._kept | wanted)) if wanted else self

    def line_by_line(self) -> Scrubber:
        """This scrubber for text seen one line at a time (a command's output as it comes): a secret of
        several lines never appears whole in one line, so each of its lines is a secret too."""
        pieces = {piece for secret in self._secrets if "\n" in secret for piece in secret.splitlines() if piece.strip()}
        return scrubber_for(self._secrets | pieces, self._kept) if pieces - self._secrets else self


def _pattern(spelling: str, secret_length: int) -> str:
    escaped = re.escape(spelling)
    return escaped if secret_length >= SUBSTRING_SCRUB_LENGTH else rf"(?<!\w){escaped}(?!\w)"


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
def scrubber_for(literals: frozenset[str], keep: frozenset[str] = frozenset()) -> Scrubber:
    """The Scrubber of one plan's secret literals, built once: the check, the store, the approvals and
    every renderer of a report scrub with the same set, and each build compiles a regular expression."""
    return Scrubber(literals, keep)


def plan_scrubber(changeset: ChangeSet) -> Scrubber:
    """The Scrubber of a plan's messages: its sensitive literals go, its resource addresses stay whole."""
    return scrubber_for(changeset.sensitive_literals).keeping(
        address for change in changeset.changes for address in change.addresses
    )

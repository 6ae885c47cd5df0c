"""A plan's identity: what approvals are bound to and what apply re-checks."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from guardrail.core.errors import BadInputError

# Bump when the canonical form changes, so old approvals can never match a differently computed hash.
FINGERPRINT_SCHEME = b"guardrail-plan-fingerprint-v1"
_PREFIX = "sha256:"
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def fingerprint(sections: Iterable[tuple[str, bytes]]) -> str:
    """SHA-256 over named, length-prefixed canonical sections (resource changes, outputs, variables).

    Length prefixes keep two different splits of the same bytes from colliding.
    """
    digest = hashlib.sha256(FINGERPRINT_SCHEME)
    for name, data in sections:
        label = name.encode()
        digest.update(len(label).to_bytes(4, "big") + label)
        digest.update(len(data).to_bytes(8, "big") + data)
    return _PREFIX + digest.hexdigest()


def parse_fingerprint(text: str) -> str:
    """A fingerprint as typed by a person (`sha256:` prefix optional, any case) in its canonical form.

    Raises BadInputError naming the text when it is not a SHA-256 fingerprint.
    """
    digest = text.strip().lower().removeprefix(_PREFIX)
    if not _HEX_DIGEST.fullmatch(digest):
        raise BadInputError(f"fingerprint {text!r}: expected sha256: and 64 hex digits, as guardrail check prints it")
    return _PREFIX + digest

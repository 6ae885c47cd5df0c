"""A plan's identity: what approvals are bound to and what apply re-checks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

# Bump when the canonical form changes, so old approvals can never match a differently computed hash.
FINGERPRINT_SCHEME = b"guardrail-plan-fingerprint-v1"


def fingerprint(sections: Iterable[tuple[str, bytes]]) -> str:
    """SHA-256 over named, length-prefixed canonical sections (resource changes, outputs, variables).

    Length prefixes keep two different splits of the same bytes from colliding.
    """
    digest = hashlib.sha256(FINGERPRINT_SCHEME)
    for name, data in sections:
        label = name.encode()
        digest.update(len(label).to_bytes(4, "big") + label)
        digest.update(len(data).to_bytes(8, "big") + data)
    return "sha256:" + digest.hexdigest()

"""Kubernetes label selectors as the API server reads them: `a=b,c!=d,e in (f,g),h notin (i),j,!k`.

Parsed once, matched against many label sets (nodes of a pool, the pods of a validator).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from guardrail.core.errors import BadInputError

# A label key: an optional DNS prefix and a name (Kubernetes' qualified name, loosely); a label value.
_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_EQUALITY = re.compile(rf"^(?P<key>{_KEY})\s*(?P<op>==|!=|=)\s*(?P<value>{_VALUE})$")
_SET = re.compile(rf"^(?P<key>{_KEY})\s+(?P<op>in|notin)\s+\((?P<values>[^()]*)\)$")
_EXISTS = re.compile(rf"^(?P<neg>!?)\s*(?P<key>{_KEY})$")


@dataclass(frozen=True, slots=True)
class Requirement:
    """One term of a selector: `key op values` (op: =, !=, in, notin, exists, !exists)."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def holds(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.key)
        if self.operator in ("=", "in"):
            return value is not None and value in self.values
        if self.operator in ("!=", "notin"):
            return value is None or value not in self.values
        if self.operator == "exists":
            return value is not None
        return value is None  # !exists


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A parsed selector: every requirement must hold. The empty selector matches everything."""

    text: str
    requirements: tuple[Requirement, ...]

    @classmethod
    def parse(cls, text: str) -> LabelSelector:
        """Raises BadInputError naming the term it cannot read."""
        stripped = text.strip()
        if not stripped:
            return cls("", ())
        return cls(stripped, tuple(_requirement(term) for term in _terms(stripped)))

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(requirement.holds(labels) for requirement in self.requirements)


def _terms(text: str) -> list[str]:
    """Split on commas outside parentheses (`a in (b,c),d` is two terms)."""
    terms, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            terms.append(text[start:index].strip())
            start = index + 1
    terms.append(text[start:].strip())
    return terms


def _requirement(term: str) -> Requirement:
    if match := _SET.match(term):
        values = tuple(v.strip() for v in match["values"].split(",") if v.strip())
        if not values:
            raise BadInputError(f"label selector term {term!r}: {match['op']} needs at least one value")
        return Requirement(match["key"], match["op"], values)
    if match := _EQUALITY.match(term):
        operator = "=" if match["op"] in ("=", "==") else "!="
        return Requirement(match["key"], operator, (match["value"],))
    if match := _EXISTS.match(term):
        return Requirement(match["key"], "!exists" if match["neg"] else "exists")
    raise BadInputError(
        f"label selector term {term!r}: expected key=value, key!=value, key in (a,b), key notin (a,b), key or !key"
    )

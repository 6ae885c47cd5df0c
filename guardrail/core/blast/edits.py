"""How alike two names are: the edits between them, how many still read as a slip, and an index that
finds the look-alikes of a name among thousands without comparing every pair."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from itertools import repeat

_TWO_EDITS = 10  # the shortest name in which two edits still read as a slip


def normalise(text: str) -> str:
    return text.lower().replace("-", "_")


def allowed_edits(length: int) -> int:
    """How many edits still read as "the same name" at this length: none below 3, one below 10, else two.

    Two edits in a short name already make a different name (`stack_12`, `stack_37`).
    """
    if length < _ONE_EDIT:
        return 0
    return 1 if length < _TWO_EDITS else 2


def distance(a: str, b: str, bound: int) -> int:
    """Optimal string alignment distance (a transposition is one edit), or bound + 1 once it exceeds bound."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    if a == b:
        return 0
    # Common ends never take part in an optimal alignment: trimming them leaves a tiny table.
    start, shortest = 0, min(len(a), len(b))
    while start < shortest and a[start] == b[start]:
        start += 1
    end = 0
    while end < shortest - start and a[-1 - end] == b[-1 - end]:
        end += 1
    a, b = a[start : len(a) - end], b[start : len(b) - end]
    if not a or not b:
        return min(max(len(a), len(b)), bound + 1)
    if len(a) == 1 or len(b) == 1:  # numbered names mostly end here; ends differ, so no transposition helps
        single, other = (a, b) if len(a) == 1 else (b, a)
        return min(len(other) - (single in other), bound + 1)
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i, *([0] * len(b))]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                best = min(best, previous2[j - 2] + 1)
            current[j] = best
        if min(current) > bound:
            return bound + 1
        previous2, previous = previous, current
    return min(previous[-1], bound + 1)


def confusable(a: str, b: str) -> int | None:
    """The distance between two names when they are confusably close, else None (identical is not confusable)."""
    if a == b:
        return None
    left, right = normalise(a), normalise(b)
    bound = allowed_edits(min(len(left), len(right)))
    found = distance(left, right, bound)
    return found if found <= bound else None


EDIT_LEVELS = (0, 1, 2)  # the edits a look-alike can be from a name: none (case, `-`, `_`), one, two
ByEdits = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]  # the names at each level


class NameIndex:
    """Every name of a fixed set that is confusable with a given one, without comparing all pairs.

    Names within one edit are looked up, not compared. Each name is filed under the forms one edit makes
    of it, by position: less the character there (the form of that character replaced), and the adjacent
    pair there in either order. Two names of the same length share a replaced or a swapped form exactly
    when one edit or none separates them; a name one character shorter than another is one of its forms
    less a character, found in the tables of every position.

    Names that both have ten characters or more may also be two edits apart. Those are found by symmetric
    deletion: two such names within two edits of each other (a swapped pair counting as one) both turn into
    one same string once at most two characters are deleted from each, so only the long names filed under
    one of the query's own deletions are compared.
    """

    def __init__(self, names: Iterable[str]) -> None:
        # The tables hold the names themselves: a query's answer is then the names found, as they are.
        self._normal = {name: normalise(name) for name in names}
        self._forms: dict[str, _Forms] = {}
        self._as_is: dict[str, list[str]] = defaultdict(list)
        # One table per position (of the character replaced, of the pair swapped), so that a form is a plain
        # string: its hash is kept with it, where a (position, form) key would be built and hashed each time.
        # A name less the character at a position is also the form of a name one character longer.
        self._replaced: list[dict[str, list[str]]] = []
        self._swapped: list[dict[str, list[str]]] = []
        self._two_deletions: dict[str, list[str]] = defaultdict(list)
        for name, normal in self._normal.items():
            self._as_is[normal].append(name)
            if len(normal) < _ONE_EDIT:
                continue  # a pair with a name this short must be the same name
            shorter, swapped = self._forms.get(normal) or self._forms.setdefault(normal, _one_edit_forms(normal))
            while len(self._replaced) < len(normal):
                self._replaced.append(defaultdict(list))
                self._swapped.append(defaultdict(list))
            # The tables may be longer than this name: the name's forms fill the first positions.
            for form, replaced in zip(shorter, self._replaced, strict=False):
                replaced[form].append(name)
            for form, swaps in zip(swapped, self._swapped, strict=False):
                swaps[form].append(name)
            if len(normal) >= _TWO_EDITS:
                for variant in _deletions(normal, 2):
                    self._two_deletions[variant].append(name)
        self._memo: dict[str, ByEdits] = {}

    def by_edits(self, name: str) -> ByEdits:
        """The names of the set confusable with `name`, by the edits between them (see EDIT_LEVELS)."""
        found = self._memo.get(name)
        if found is None:
            found = self._memo[name] = self._find(name)
        return found

    def _find(self, name: str) -> ByEdits:
        mine = normalise(name)
        as_is = self._as_is
        same = set(as_is.get(mine, ()))
        one: set[str] = set()
        two: set[str] = set()
        if len(mine) >= _ONE_EDIT:
            shorter, swapped = self._forms.get(mine) or _one_edit_forms(mine)
            one.update(
                *map(dict.get, self._replaced[: len(mine) + 1], repeat(mine), repeat(())),  # one character longer
                *map(as_is.get, shorter, repeat(())),  # names one character shorter
                *map(dict.get, self._replaced, shorter, repeat(())),  # one character replaced
                *map(dict.get, self._swapped, swapped, repeat(())),  # an adjacent pair swapped
            )
            one -= same
            if len(mine) == _ONE_EDIT:  # a name one shorter is too short for an edit to be a slip
                one = {other for other in one if len(self._normal[other]) >= _ONE_EDIT}
            if len(mine) >= _TWO_EDITS:
                variants = _deletions(mine, 2)
                candidates = {other for variant in variants for other in self._two_deletions.get(variant, ())}
                candidates -= same
                candidates -= one
                # Both long (only long names are filed so): two edits are allowed.
                two = {other for other in candidates if distance(mine, self._normal[other], 2) == 2}
        return tuple(other for other in same if other != name), tuple(one), tuple(two)


_ONE_EDIT = 3  # the shortest name in which one edit still reads as a slip

# A name's one-edit forms, by position: itself less each character (filed by position, that is the form of
# the character replaced; not by position, of a name one shorter), and itself with each adjacent pair in
# sorted order (the form of a swap there).
_Forms = tuple[list[str], list[str]]


def _one_edit_forms(text: str) -> _Forms:
    shorter = [text[:i] + text[i + 1 :] for i in range(len(text))]
    swapped = []
    for i in range(len(text) - 1):
        first, second = text[i], text[i + 1]
        # A pair of equal characters gives the name itself, which only the same name shares: harmless.
        pair = first + second if first <= second else second + first
        swapped.append(text[:i] + pair + text[i + 2 :])
    return shorter, swapped


def _deletions(text: str, times: int) -> set[str]:
    """`text` and every string `times` deletions or fewer make of it."""
    found = {text}
    for _ in range(times):
        found.update(once[:i] + once[i + 1 :] for once in list(found) for i in range(len(once)))
    return found

"""Names too alike: a destructive change whose address or name is one slip away from another resource's."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from guardrail.core.blast.impact import known_resources
from guardrail.core.blast.names import ConfusableName, collector_paused, find_confusable
from guardrail.core.change import ChangeSet
from guardrail.core.policy import register_rule
from guardrail.core.verdict import Enforcement, Finding

SIMILAR_NAMES = register_rule("similar-names", "A destructive change on a name one slip away from another resource's.")


@dataclass(frozen=True)
class SimilarNamesSettings:
    """`similar_names:` of guardrail.yaml.

    enforcement: advisory by default: a reminder to check the right resource was picked, not a gate.
    attributes: the attributes compared besides the address (values marked sensitive are never compared).
    names_shown: how many look-alikes a finding names before "and N more".
    """

    enforcement: Enforcement = Enforcement.ADVISORY
    attributes: tuple[str, ...] = ("name",)
    names_shown: int = 3


@dataclass(frozen=True)
class SimilarNamesRule:
    """One finding per destructive change that has look-alikes, naming both sides of each pair."""

    settings: SimilarNamesSettings = field(default_factory=SimilarNamesSettings)
    id: str = SIMILAR_NAMES

    def evaluate(self, changeset: ChangeSet) -> Iterable[Finding]:
        # Built at once, with the collector paused: ten thousand findings made from the pairs just returned
        # would otherwise set it walking all of them, several times over.
        with collector_paused():
            return list(self._findings(changeset))

    def _findings(self, changeset: ChangeSet) -> Iterator[Finding]:
        shown_max = self.settings.names_shown
        found = find_confusable(changeset, known_resources(changeset), self.settings.attributes, limit=shown_max)
        actions = {c.address: c.action.value for c in changeset.changes if c.deposed is None}
        for lookalikes in sorted(found, key=lambda item: item.address):
            shown = [_describe(p) for p in _one_per_other(lookalikes.closest)]
            more = lookalikes.total - len(shown)
            tail = f" and {more} more" if more > 0 else ""
            count = lookalikes.total
            yield Finding(
                self.id,
                self.settings.enforcement,
                lookalikes.address,
                f"{actions.get(lookalikes.address, 'change')} of a resource whose name is close to {count} other"
                f"{'' if count == 1 else 's'}: {'; '.join(shown)}{tail}; check this is the one you meant",
            )


def _one_per_other(pairs: Iterable[ConfusableName]) -> list[ConfusableName]:
    seen: set[str] = set()
    result = []
    for pair in pairs:
        if pair.other not in seen:
            seen.add(pair.other)
            result.append(pair)
    return result


def _describe(pair: ConfusableName) -> str:
    what = "differs only in case, '-' or '_'" if pair.distance == 0 else f"{pair.distance} edit"
    what += "s" if pair.distance > 1 else ""
    field_name = f"{pair.attribute} " if pair.attribute else ""
    return f"{pair.other} ({field_name}{pair.mine!r} vs {pair.theirs!r}: {what})"

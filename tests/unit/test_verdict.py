from __future__ import annotations

import pytest

from guardrail.core.change import Action, ReplaceOrder, UnknownActionError, classify_actions
from guardrail.core.policy import evaluate
from guardrail.core.verdict import Decision, Enforcement, Finding, Verdict, decide
from tests.unit.factories import change, changeset


@pytest.mark.parametrize(
    ("actions", "action", "order"),
    [
        (["create"], Action.CREATE, None),
        (["delete", "create"], Action.REPLACE, ReplaceOrder.DELETE_BEFORE_CREATE),
        (["create", "delete"], Action.REPLACE, ReplaceOrder.CREATE_BEFORE_DESTROY),
        (["forget"], Action.FORGET, None),
        (["create", "forget"], Action.FORGET, None),
        (["no-op"], Action.NO_OP, None),
        (["read"], Action.READ, None),
    ],
)
def test_action_lists_fold_into_one_action(actions: list[str], action: Action, order: ReplaceOrder | None) -> None:
    assert classify_actions(actions) == (action, order)


@pytest.mark.parametrize("actions", [[], ["destroy"], ["delete", "delete"], ["update", "create"], ["forget", "create"]])
def test_unknown_action_lists_are_refused(actions: list[str]) -> None:
    with pytest.raises(UnknownActionError):
        classify_actions(actions)


def _finding(enforcement: Enforcement, unknown: bool = False) -> Finding:
    return Finding("r", enforcement, "a.b", "m", unknown=unknown)


def test_decision_is_the_strongest_finding() -> None:
    assert decide([]) is Decision.ALLOW
    assert decide([_finding(Enforcement.ADVISORY)]) is Decision.ALLOW
    assert decide([_finding(Enforcement.ADVISORY), _finding(Enforcement.SOFT)]) is Decision.NEEDS_APPROVAL
    assert decide([_finding(Enforcement.SOFT), _finding(Enforcement.HARD)]) is Decision.DENY


def test_unknown_outcome_never_allows() -> None:
    class AdvisoryButUnknown:
        id = "x"

        def evaluate(self, _cs: object) -> list[Finding]:
            return [_finding(Enforcement.ADVISORY, unknown=True)]

    findings = evaluate(changeset(change("a.b", ["create"])), [AdvisoryButUnknown()])
    assert findings[0].enforcement is Enforcement.SOFT
    assert Verdict.of(findings).decision is Decision.NEEDS_APPROVAL


def test_findings_are_ordered_hard_first() -> None:
    verdict = Verdict.of([_finding(Enforcement.ADVISORY), _finding(Enforcement.HARD), _finding(Enforcement.SOFT)])
    assert [f.enforcement for f in verdict.findings] == [Enforcement.HARD, Enforcement.SOFT, Enforcement.ADVISORY]


def test_summary_counts_each_change_once_deletions_first() -> None:
    cs = changeset(
        change("a.x", ["delete", "create"]),
        change("a.y", ["create", "delete"]),
        change("a.z", ["create"]),
        change("a.w", ["forget"]),
    )
    assert cs.summary() == {
        "delete": 0,
        "replace": 2,
        "forget": 1,
        "update": 0,
        "create": 1,
        "read": 0,
        "no-op": 0,
    }
    assert [action for action, _ in cs.by_action()] == [Action.REPLACE, Action.FORGET, Action.CREATE]

"""Tables that exist once, in the core: rule ids and descriptions, why Terraform plans a change, the verdict
words, the enforcement order, and the splitting of addresses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from guardrail.adapters.terraform.parse import parse_plan
from guardrail.core.blast.address import parse_instance
from guardrail.core.change import ReplaceOrder, ResourceChange
from guardrail.core.locks import split_workspace_lock_name, workspace_lock_name
from guardrail.core.policy import register_rule, registered_rules, rule_info
from guardrail.core.reasons import planned_because
from guardrail.core.rules.blast_radius import BlastRadiusRule
from guardrail.core.rules.drift import DriftRule
from guardrail.core.rules.k8s_upgrade import KubernetesUpgradeRule
from guardrail.core.rules.locks import ActiveLocksRule
from guardrail.core.rules.protection import ProtectionRule
from guardrail.core.rules.similar_names import SimilarNamesRule
from guardrail.core.rules.stateful import StatefulRule
from guardrail.core.verdict import ENFORCEMENT_RANK, Enforcement, Finding, sort_findings, strongest
from tests.unit.factories import change

# -- the rule registry ------------------------------------------------------------------------------------

BUILT_IN_IDS = {
    "protect": ProtectionRule(()).id,
    "lock": ActiveLocksRule((), now=datetime(2025, 1, 1, tzinfo=UTC)).id,
    "k8s-upgrade": KubernetesUpgradeRule().id,
    "stateful-data": StatefulRule().id,
    "blast-radius": BlastRadiusRule().id,
    "drift-revert": DriftRule().id,
    "similar-names": SimilarNamesRule().id,
}


@pytest.mark.parametrize("expected", sorted(BUILT_IN_IDS))
def test_every_built_in_rule_declares_its_id_and_a_description(expected: str) -> None:
    rule_id = BUILT_IN_IDS[expected]
    assert rule_id == expected
    info = rule_info(rule_id)
    assert info is not None
    assert info.description.endswith(".")
    assert "Custom policy" not in info.description


def test_the_lock_rule_is_described_as_a_lock() -> None:
    info = rule_info("lock")
    assert info is not None
    assert "lock" in info.description


def test_a_rule_from_elsewhere_registers_without_touching_any_list() -> None:
    rule_id = register_rule("test-kube-rule", "A Kubernetes object does something a test cares about.")
    assert rule_id == "test-kube-rule"
    assert rule_info(rule_id) in registered_rules()
    # Declaring it again (a module imported twice) is harmless; another meaning for the id is refused.
    assert register_rule("test-kube-rule", "A Kubernetes object does something a test cares about.") == rule_id
    with pytest.raises(ValueError, match="already declared"):
        register_rule("test-kube-rule", "Something else entirely.")


def test_custom_policies_are_not_in_the_registry() -> None:
    assert rule_info("rego:main.deny") is None


# -- why Terraform plans a change -----------------------------------------------------------------------


def test_why_a_replace_is_planned_in_one_sentence() -> None:
    replaced = _replace(ReplaceOrder.DELETE_BEFORE_CREATE, "replace_because_cannot_update", (("tags", "Name"),))
    why = planned_because(replaced)
    assert why.order == "delete before create: the object is gone until its successor exists"
    assert why.reason == "because an attribute that cannot be updated in place changed"
    assert why.forced_by == "forced by: tags.Name"
    assert why.sentence() == "; ".join((why.order, why.reason, why.forced_by))


def test_why_says_nothing_when_the_plan_says_nothing() -> None:
    why = planned_because(change("aws_instance.a", ["update"]))
    assert why.phrases() == ()
    assert why.sentence() == ""


def _replace(order: ReplaceOrder, reason: str, paths: tuple[tuple[str | int, ...], ...]) -> ResourceChange:
    actions = ["delete", "create"] if order is ReplaceOrder.DELETE_BEFORE_CREATE else ["create", "delete"]
    return replace(change("aws_instance.a", actions, {}, {}, action_reason=reason), replace_paths=paths)


# -- the enforcement order ------------------------------------------------------------------------------


def test_enforcement_rank_is_most_severe_first() -> None:
    assert sorted(Enforcement, key=ENFORCEMENT_RANK.__getitem__) == [
        Enforcement.HARD,
        Enforcement.SOFT,
        Enforcement.ADVISORY,
    ]


def test_strongest_and_the_sort_agree() -> None:
    findings = [
        Finding("r", Enforcement.ADVISORY, "a", "m"),
        Finding("r", Enforcement.SOFT, "b", "m"),
        Finding("r", Enforcement.HARD, "c", "m"),
    ]
    assert strongest(findings) is Enforcement.HARD
    assert sort_findings(findings)[0].enforcement is strongest(findings)
    assert strongest([]) is None


# -- addresses ------------------------------------------------------------------------------------------

DOTTED_KEY = 'module.net["eu.west"].aws_subnet.private["10.0.0.0/24"]'


def test_instance_keys_with_dots_do_not_split_an_address() -> None:
    parsed = parse_instance(DOTTED_KEY)
    assert parsed is not None
    assert parsed.type == "aws_subnet"
    assert parsed.name == "private"
    assert parsed.module_names == ("net",)
    assert not parsed.is_data
    data = parse_instance('module.a["x.data.y"].data.aws_ami.latest')
    assert data is not None
    assert (data.type, data.is_data) == ("aws_ami", True)


def test_intake_reads_the_type_from_an_address_with_a_dotted_key() -> None:
    # A plan that leaves `type` out: the type comes from the address, past a key holding dots.
    plan = (
        b'{"format_version": "1.2", "resource_changes": [{"address": "module.net[\\"eu.west\\"].aws_subnet.a",'
        b' "change": {"actions": ["delete"], "before": {}, "after": null}}]}'
    )
    (parsed,) = parse_plan(plan, "plan.json").changeset.changes
    assert parsed.type == "aws_subnet"


# -- the workspace apply lock's name ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("directory", "workspace"), [("/src/infra", "default"), ("/src/a#b", "prod-eu"), ("/srv/x y", "w")]
)
def test_a_workspace_lock_name_gives_back_its_directory_and_workspace(directory: str, workspace: str) -> None:
    name = workspace_lock_name(directory, workspace)
    assert name == f"{directory}#{workspace}"  # the form the audit log has always recorded
    assert split_workspace_lock_name(name) == (directory, workspace)


@pytest.mark.parametrize("name", ["", "no-mark", "#default", "/src/infra#"])
def test_what_is_no_workspace_lock_name_is_refused(name: str) -> None:
    assert split_workspace_lock_name(name) is None

from __future__ import annotations

from pathlib import Path

import pytest

from guardrail.config import load_settings
from guardrail.core.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "guardrail.yaml"
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None)
    assert settings.protect == []
    assert settings.stateful.enforcement == "soft"


def test_unknown_key_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "protect:\n  - types: [aws_eks_cluster]\n    reasn: typo\n")
    with pytest.raises(ConfigError, match=r"guardrail.yaml:3: protect\[0\]\.reasn: unknown key"):
        load_settings(path)


def test_misspelt_section_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r":1: protcet: unknown key"):
        load_settings(write(tmp_path, "protcet:\n  - types: [x]\n"))


def test_bad_value_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "stateful:\n  enabled: true\n  enforcement: maybe\n")
    with pytest.raises(ConfigError, match=r":3: stateful\.enforcement: Input should be"):
        load_settings(path)


def test_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"guardrail.yaml:3: invalid YAML"):
        load_settings(write(tmp_path, "protect:\n  - types: [a\n  b: c: d\n"))


def test_entry_without_selector_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs at least one of types, addresses or tags"):
        load_settings(write(tmp_path, "protect:\n  - reason: everything?\n"))


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.yaml")


def test_protect_entries_and_relative_policy_paths(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "protect:\n  - addresses: ['module.prod_*.*']\n    tags: {env: prod, critical: true}\n"
        "    actions: [delete]\n    enforcement: soft\npolicies: [rego/]\n",
    )
    settings = load_settings(path)
    protection = settings.protect[0].to_protection()
    assert dict(protection.selector.tags) == {"env": "prod", "critical": "true"}
    assert settings.policy_paths() == [tmp_path.resolve() / "rego/"]


def test_blast_radius_critical_and_checks_configure_the_rules(tmp_path: Path) -> None:
    from guardrail.core.rules.blast_radius import BlastRadiusRule
    from guardrail.core.rules.drift import DriftRule
    from guardrail.core.rules.similar_names import SimilarNamesRule
    from guardrail.core.verdict import Enforcement
    from guardrail.services.rules import blast_radius_rule, builtin_rules

    settings = load_settings(
        write(
            tmp_path,
            "critical:\n  - types: [aws_db_instance]\n  - tags: {tier: 1}\n"
            "blast_radius:\n  max_impacted: 25\n  enforcement: hard\n  downtime_enforcement: advisory\n"
            "similar_names:\n  enabled: false\n"
            "drift:\n  enforcement: soft\n",
        )
    )
    rules = {type(rule): rule for rule in builtin_rules(settings)}
    blast = blast_radius_rule(settings)
    assert isinstance(blast, BlastRadiusRule)
    assert blast.settings.max_impacted == 25
    assert blast.settings.enforcement is Enforcement.HARD
    assert blast.settings.downtime_enforcement is Enforcement.ADVISORY
    assert blast.settings.critical_enforcement is Enforcement.SOFT  # the default
    assert [(set(s.types), dict(s.tags)) for s in blast.settings.critical] == [
        ({"aws_db_instance"}, {}),
        (set(), {"tier": "1"}),
    ]
    assert SimilarNamesRule not in rules
    drift = rules[DriftRule]
    assert isinstance(drift, DriftRule)
    assert drift.settings.enforcement is Enforcement.SOFT


def test_blast_radius_can_be_turned_off(tmp_path: Path) -> None:
    from guardrail.core.rules.blast_radius import BlastRadiusRule
    from guardrail.services.rules import blast_radius_rule, builtin_rules

    settings = load_settings(write(tmp_path, "blast_radius:\n  enabled: false\n"))
    assert blast_radius_rule(settings) is None
    assert not any(isinstance(rule, BlastRadiusRule) for rule in builtin_rules(settings))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("critical:\n  - {}\n", r":2: critical\[0\]: Value error, needs at least one of types, addresses or tags"),
        ("blast_radius:\n  max_impacted: -1\n", r":2: blast_radius\.max_impacted: Input should be greater"),
        ("blast_radius:\n  max_impactd: 3\n", r":2: blast_radius\.max_impactd: unknown key"),
        ("approvals:\n  required: 0\n", r":2: approvals\.required: Input should be greater"),
        ("approvals:\n  max_break_glass_ttl: soon\n", r":2: approvals\.max_break_glass_ttl: Value error, duration"),
    ],
)
def test_bad_blast_and_approval_settings_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(write(tmp_path, text))


def test_approvals_and_store_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GUARDRAIL_STORE", raising=False)
    settings = load_settings(
        write(
            tmp_path,
            "store: sqlite:///state/guardrail.db\n"
            "approvals:\n  required: 2\n  approvers: [a@x, b@x]\n  break_glass: [oncall@x]\n"
            "  allowed_signers: keys/allowed_signers\n  max_break_glass_ttl: 8h\n",
        )
    )
    policy = settings.approvals.policy()
    assert policy.required == 2
    assert policy.approvers == frozenset({"a@x", "b@x"})
    assert policy.break_glass == frozenset({"oncall@x"})
    assert policy.signatures_required
    assert policy.max_break_glass_ttl.total_seconds() == 8 * 3600
    assert settings.allowed_signers_path() == tmp_path.resolve() / "keys" / "allowed_signers"
    from guardrail.services.store import store_location

    # A relative SQLite path in guardrail.yaml is relative to the file, not to where guardrail runs.
    assert store_location(None, settings).url == f"sqlite:///{tmp_path.resolve() / 'state' / 'guardrail.db'}"


def test_rollback_section_marks_irreversible_resources_with_selectors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rollback:\n  enforcement: hard\n  lossy_enforcement: advisory\n  irreversible:\n"
        "    - types: [aws_route53_zone]\n      actions: [delete]\n      reason: delegation\n",
    )
    rollback = load_settings(path).rollback
    settings = rollback.rule_settings({"my_store": "database"})
    assert settings.irreversible.value == "hard"
    assert settings.lossy is not None
    assert settings.lossy.value == "advisory"
    (mark,) = settings.policy.marks
    assert mark.reason == "delegation"
    assert mark.selector.types == frozenset({"aws_route53_zone"})
    assert dict(settings.policy.extra_stateful) == {"my_store": "database"}


def test_rollback_section_refuses_unknown_keys_and_empty_selectors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"guardrail.yaml:3: rollback.irreversible\[0\].reasn: unknown key"):
        load_settings(write(tmp_path, "rollback:\n  irreversible:\n    - reasn: x\n      types: [a]\n"))
    with pytest.raises(ConfigError, match=r"rollback.irreversible\[0\]: Value error, needs at least one"):
        load_settings(write(tmp_path, "rollback:\n  irreversible:\n    - reason: nothing selected\n"))

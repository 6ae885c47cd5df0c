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

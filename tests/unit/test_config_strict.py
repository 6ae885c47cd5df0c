"""guardrail.yaml is read strictly: a key given twice, or nesting past any sensible depth, is refused with
the file and the line, never silently resolved and never an internal error."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardrail.config import load_settings
from guardrail.config.files import MAX_NESTING
from guardrail.core.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "guardrail.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "where", "key"),
    [
        # The second `protect:` would silently drop every protection of the first.
        (
            "protect:\n  - types: [aws_db_instance]\nstateful:\n  enabled: true\nprotect:\n  - types: [x]\n",
            5,
            "protect",
        ),
        ("protect:\n  - types: [aws_db_instance]\n    reason: data\n    types: [aws_s3_bucket]\n", 4, "types"),
        ("protect:\n  - addresses: [a.b]\n    tags: {env: prod, env: dev}\n", 3, "env"),
        ("stateful:\n  enforcement: hard\n  enabled: true\n  enforcement: advisory\n", 4, "enforcement"),
        ("critical: [{types: [a], types: [b]}]\n", 1, "types"),
    ],
)
def test_a_key_given_twice_is_refused_where_it_repeats(tmp_path: Path, text: str, where: int, key: str) -> None:
    with pytest.raises(ConfigError, match=rf"guardrail\.yaml:{where}: .*duplicate key '{key}'"):
        load_settings(write(tmp_path, text))


def test_a_merged_key_may_still_be_overridden(tmp_path: Path) -> None:
    text = "critical:\n  - &base {types: [aws_db_instance]}\nprotect:\n  - <<: *base\n    types: [aws_s3_bucket]\n"
    settings = load_settings(write(tmp_path, text))
    assert settings.protect[0].types == ["aws_s3_bucket"]


def test_the_same_key_in_two_entries_is_no_duplicate(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "protect:\n  - types: [a]\n  - types: [b]\n"))
    assert [entry.types for entry in settings.protect] == [["a"], ["b"]]


@pytest.mark.parametrize(
    "text",
    [
        "protect: " + "[" * 3000 + "]" * 3000 + "\n",
        "stateful:\n" + "".join("  " * level + f"k{level}:\n" for level in range(1, 200)) + "  " * 200 + "v: 1\n",
    ],
    ids=["flow lists", "block mappings"],
)
def test_deep_nesting_is_refused_with_its_line(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match=rf"guardrail\.yaml:\d+: invalid YAML: nested deeper than {MAX_NESTING}"):
        load_settings(write(tmp_path, text))


def test_aliases_nesting_deeper_than_the_text_are_refused(tmp_path: Path) -> None:
    anchors = "\n".join(f"  - &a{i} [{'*a' + str(i - 1) if i else 'v'}]" for i in range(3000))
    text = f"policies:\n{anchors}\ncritical:\n  - types: [a]\n    tags: {{k: *a2999}}\n"
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_settings(write(tmp_path, text))


def test_nesting_up_to_the_limit_is_read(tmp_path: Path) -> None:
    # Settings never nest this deep, but a legitimate deep value is not an error by itself.
    text = "stateful:\n  extra_types: {a: " + "[" * (MAX_NESTING - 3) + "]" * (MAX_NESTING - 3) + "}\n"
    with pytest.raises(ConfigError, match=r"extra_types\.a: Input should be a valid string"):
        load_settings(write(tmp_path, text))

"""Which guardrail.yaml governs a plan: its own directory's, up to its repository's root, never an
unrelated parent's."""

from __future__ import annotations

from pathlib import Path

from guardrail.config.discovery import configuration_home, find_config, settings_for


def layout(root: Path, *files: str) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("protect: []\n" if name.endswith(".yaml") else "")


def test_a_repository_guardrail_yaml_governs_its_subfolders(tmp_path: Path) -> None:
    layout(tmp_path, "repo/.git/HEAD", "repo/guardrail.yaml", "repo/infra/prod/main.tf")
    assert find_config(tmp_path / "repo" / "infra" / "prod") == (tmp_path / "repo" / "guardrail.yaml").resolve()


def test_the_nearest_guardrail_yaml_wins(tmp_path: Path) -> None:
    layout(tmp_path, "repo/.git/HEAD", "repo/guardrail.yaml", "repo/infra/guardrail.yaml", "repo/infra/prod/main.tf")
    assert find_config(tmp_path / "repo" / "infra" / "prod") == (tmp_path / "repo" / "infra" / "guardrail.yaml")


def test_nothing_above_the_repository_root_or_outside_a_repository_applies(tmp_path: Path) -> None:
    layout(tmp_path, "guardrail.yaml", "repo/.git/HEAD", "repo/infra/main.tf", "loose/infra/main.tf")
    assert find_config(tmp_path / "repo" / "infra") is None  # tmp_path/guardrail.yaml is outside the repository
    assert find_config(tmp_path / "loose" / "infra") is None  # no repository: the folder itself only
    layout(tmp_path, "loose/infra/guardrail.yaml")
    assert find_config(tmp_path / "loose" / "infra") == (tmp_path / "loose" / "infra" / "guardrail.yaml")


def test_a_plan_belongs_to_its_folder_and_a_directory_to_itself(tmp_path: Path) -> None:
    layout(tmp_path, "infra/main.tf", "infra/plan.tfplan")
    assert configuration_home(tmp_path / "infra" / "plan.tfplan") == (tmp_path / "infra").resolve()
    assert configuration_home(tmp_path / "infra") == (tmp_path / "infra").resolve()


def test_settings_fall_back_to_the_working_directory_then_to_defaults_rooted_at_the_plan(tmp_path: Path) -> None:
    layout(tmp_path, "work/guardrail.yaml", "plans/plan.json")
    from_work = settings_for(None, start=tmp_path / "plans", fallback=tmp_path / "work")
    assert from_work.source == (tmp_path / "work" / "guardrail.yaml").resolve()
    assert from_work.base_dir == (tmp_path / "work").resolve()
    defaults = settings_for(None, start=tmp_path / "plans", fallback=tmp_path / "elsewhere")
    assert (defaults.source, defaults.base_dir) == (None, (tmp_path / "plans").resolve())

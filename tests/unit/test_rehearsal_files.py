"""`tui --rehearse FILE`: a file is a fleet or a pool rehearsal by its top level, and what is neither (or
two fleets for one Rollouts screen) is refused with the file named before the app starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardrail.config.rehearsal_files import RehearsalFiles, RehearsalKind, rehearsal_kind, sort_rehearsal_files
from guardrail.core.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FLEET = EXAMPLES / "rollout" / "december.yaml"
OUTAGE = EXAMPLES / "nodes" / "outage.yaml"
HEALTHY = EXAMPLES / "nodes" / "healthy.yaml"


def test_the_bundled_examples_are_told_apart_by_their_top_level() -> None:
    assert rehearsal_kind(FLEET) is RehearsalKind.FLEET
    assert rehearsal_kind(OUTAGE) is RehearsalKind.POOL
    assert sort_rehearsal_files([OUTAGE, FLEET, HEALTHY]) == RehearsalFiles(FLEET, (OUTAGE, HEALTHY))
    assert sort_rehearsal_files([]) == RehearsalFiles()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("seed: 1\n", "not neither"),
        ("pool: gpu\nclusters: []\n", "not both"),
        ("- pool\n", "expected a mapping with clusters: or pool:"),
        ("pool: [\n", "invalid YAML"),
    ],
)
def test_a_file_that_is_neither_kind_is_refused_naming_it(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=problem) as refused:
        sort_rehearsal_files([OUTAGE, path])
    assert str(path) in str(refused.value)


def test_one_fleet_at_most(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--rehearse takes one fleet file, got 2"):
        sort_rehearsal_files([FLEET, EXAMPLES / "rollout" / "december-node-scoped.yaml"])
    with pytest.raises(ConfigError, match="not found"):
        rehearsal_kind(tmp_path / "missing.yaml")

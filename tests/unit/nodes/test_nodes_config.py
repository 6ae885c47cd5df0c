"""guardrail.yaml's nodes: section and the rehearsal's pool file: every key documented, unknown keys refused
with the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardrail.config import load_settings
from guardrail.config.pool_file import load_pool_file
from guardrail.core.errors import ConfigError
from guardrail.core.nodes.strata import StratumKey

ISSUE_POOL = """\
pool: gpu-a100
boot_timeout: 15m
capacity_floor: 0.9
groups:
  - {count: 40, instance_type: Standard_ND96asr_v4, zone: eastus-1, gpus: 8, boot: 6m, gpu_diag: 3m}
  - {count: 40, instance_type: Standard_ND96asr_v4, zone: westus2-1, gpus: 8, boot: 6m, gpu_diag: 12m}
  - {count: 20, instance_type: Standard_NC24ads_A100_v4, zone: westus2-1, gpus: 1, boot: 5m, gpu_diag: 2m,
     visible_gpus: 1}
seed: 1
"""


def test_the_nodes_section_gives_budgets_per_stratum(tmp_path: Path) -> None:
    config = tmp_path / "guardrail.yaml"
    config.write_text(
        "nodes:\n"
        "  capacity_floor: 0.8\n"
        "  boot_budget: 20m\n"
        "  strata:\n"
        "    - {instance_type: 'Standard_ND96*', region: westus2, boot_budget: 25m, drain_timeout: 1h}\n"
        "  validation: {command: [nvidia-smi]}\n"
    )
    cycle = load_settings(config).nodes.to_cycle_settings()
    assert cycle.capacity_floor == 0.8
    west = StratumKey("Standard_ND96asr_v4", "westus2", "westus2-1", "", "", "")
    east = StratumKey("Standard_ND96asr_v4", "eastus", "eastus-1", "", "", "")
    assert (cycle.budgets_for(west).boot, cycle.budgets_for(west).drain) == (1500, 3600)
    assert (cycle.budgets_for(east).boot, cycle.budgets_for(east).drain) == (1200, 1800)
    assert cycle.validation.command == ("nvidia-smi",)


def test_the_defaults_are_the_issues() -> None:
    cycle = load_settings(None).nodes.to_cycle_settings()
    assert cycle.capacity_floor == 0.9
    assert cycle.warn_ratio == 0.7
    assert cycle.validation.command == ("sh", "-c", "nvidia-smi && dcgmi diag -r 1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nodes:\n  capacity_flor: 0.9\n", r"guardrail.yaml:2: nodes.capacity_flor: unknown key"),
        ("nodes:\n  boot_budget: soon\n", r"guardrail.yaml:2: nodes.boot_budget: .*expected a number and a unit"),
        ("nodes:\n  capacity_floor: 1.5\n", r"guardrail.yaml:2: nodes.capacity_floor: "),
        ("nodes:\n  gpu_operator: {validator_selector: 'a in ()'}\n", r"guardrail.yaml:2: nodes.gpu_operator"),
        ("nodes:\n  strata:\n    - {zone: a, boot: 5m}\n", r"guardrail.yaml:3: nodes.strata\[0\].boot: unknown key"),
    ],
)
def test_a_bad_nodes_section_names_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "guardrail.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(config)


def test_the_issues_pool_file_is_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / "pool.yaml"
    path.write_text(ISSUE_POOL)
    pool = load_pool_file(path)
    assert (pool.pool, pool.boot_timeout, pool.capacity_floor, pool.seed) == ("gpu-a100", "15m", 0.9, 1)
    assert [g.count for g in pool.groups] == [40, 40, 20]
    assert pool.groups[1].gpu_diag == "12m"
    assert pool.groups[2].visible_gpus == 1
    assert pool.replace == "delete-node"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ISSUE_POOL.replace("seed: 1", "sede: 1"), r"pool.yaml:9: sede: unknown key"),
        (
            ISSUE_POOL.replace("gpus: 8, boot: 6m, gpu_diag: 12m", "gpus: 8, boot: 6m, diag: 12m"),
            r"pool.yaml:6: groups\[1\].diag",
        ),
        (
            ISSUE_POOL.replace("visible_gpus: 1", "visible_gpus: 2"),
            r"pool.yaml:7: groups\[2\]: .*visible_gpus \(2\) is more",
        ),
        (ISSUE_POOL.replace("boot_timeout: 15m", "boot_timeout: 15"), r"pool.yaml:2: boot_timeout: "),
        (ISSUE_POOL.replace("groups:", "groupz:"), r"pool.yaml:.*: groups: Field required|unknown key"),
        ("- just a list\n", r"pool.yaml:1: expected a mapping with pool:, boot_timeout: and groups: at the top level"),
        ("pool: [unclosed\n", r"pool.yaml:2: invalid YAML"),
    ],
)
def test_a_bad_pool_file_names_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pool.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_pool_file(path)


def test_a_missing_pool_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="pool file not found"):
        load_pool_file(tmp_path / "nope.yaml")

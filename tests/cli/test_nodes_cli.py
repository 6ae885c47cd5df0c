"""`guardrail nodes rehearse`: the JSON contract, the text for people, and the exit codes (completed 0,
halted 1, a bad pool file or guardrail.yaml 3)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Result

Cli = Callable[..., Result]


def test_a_healthy_pool_completes_with_exit_0_and_the_json_of_the_contract(cli: Cli, examples: Path) -> None:
    result = cli("nodes", "rehearse", examples / "nodes" / "healthy.yaml", "--format", "json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"outcome", "reason", "nodes_cycled", "nodes_lost", "min_capacity", "strata"}
    assert (report["outcome"], report["nodes_cycled"], report["nodes_lost"]) == ("completed", 100, 0)
    assert report["min_capacity"] >= 0.9
    assert [(s["instance_type"], s["zone"], s["cycled"], s["failed"], s["state"]) for s in report["strata"]] == [
        ("Standard_NC24ads_A100_v4", "westus2-1", 20, 0, "completed"),
        ("Standard_ND96asr_v4", "eastus-1", 40, 0, "completed"),
        ("Standard_ND96asr_v4", "westus2-1", 40, 0, "completed"),
    ]


def test_the_outage_pool_halts_with_exit_1_naming_the_stratum(cli: Cli, examples: Path) -> None:
    result = cli("nodes", "rehearse", examples / "nodes" / "outage.yaml", "--format", "json")
    assert result.code == 1
    report = json.loads(result.stdout)
    assert report["outcome"] == "halted"
    assert "stratum Standard_ND96asr_v4 westus2-1" in report["reason"]
    assert report["nodes_lost"] <= 1
    assert report["min_capacity"] >= 0.9


def test_the_text_shows_each_stratum_its_timings_against_budgets_and_why_it_halted(cli: Cli, examples: Path) -> None:
    result = cli("nodes", "rehearse", examples / "nodes" / "outage.yaml")
    assert result.code == 1
    text = result.stdout
    assert text.startswith("Node-pool cycle of gpu-a100: HALTED\n")
    assert "failed in phase register after 15m0s, boot budget 15m0s" in text
    assert (
        "Standard_ND96asr_v4 westus2-1 (Ubuntu 22.04.4 LTS, 5.15.0-1071-azure, NVIDIA-A100-SXM4-80GB): failed" in text
    )
    boot_of_the_failed_canary = next(
        line for line in text.splitlines() if line.strip().startswith("boot") and "100%" in line
    )
    assert "WARNING: p95 past 70% of the budget" in boot_of_the_failed_canary
    assert "never-passed: this stratum has never passed a cycle" in text
    assert "\x1b[" not in text  # no colour in a pipe


def test_the_settings_of_guardrail_yaml_hold_the_rehearsal(cli: Cli, examples: Path, tmp_path: Path) -> None:
    config = tmp_path / "guardrail.yaml"
    config.write_text("nodes:\n  strata:\n    - {zone: westus2-1, instance_type: 'Standard_ND96*', boot_budget: 10m}\n")
    result = cli("nodes", "rehearse", examples / "nodes" / "outage.yaml", "--config", config)
    assert result.code == 1
    assert "failed in phase register after 10m0s, boot budget 10m0s" in result.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pool: p\nboot_timeout: 15m\ngroups: []\n", "pool.yaml:3: groups: List should have at least 1 item"),
        (
            "pool: p\nboot_timeout: 15m\nbogus: 1\n"
            "groups:\n  - {count: 1, instance_type: a, zone: z-1, gpus: 1, boot: 5m}\n",
            "pool.yaml:3: bogus: unknown key",
        ),
        ("pool: p\nboot_timeout: 15m\ngroups: [{count: 1}]\n", "pool.yaml:3: groups[0].instance_type: Field required"),
        ("pool: p\n  boot_timeout: 15m\n", "pool.yaml:2: invalid YAML"),
    ],
)
def test_a_bad_pool_file_is_one_line_and_exit_3(cli: Cli, tmp_path: Path, text: str, message: str) -> None:
    pool = tmp_path / "pool.yaml"
    pool.write_text(text)
    result = cli("nodes", "rehearse", pool)
    assert result.code == 3
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_a_missing_pool_file_is_exit_3(cli: Cli, tmp_path: Path) -> None:
    result = cli("nodes", "rehearse", tmp_path / "nope.yaml")
    assert result.code == 3
    assert "nope.yaml: pool file not found" in result.stderr

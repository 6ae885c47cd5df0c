"""`guardrail rollout rehearse`: the December outage and its fix rehearsed, the JSON contract, exit codes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from guardrail.core.rollout.rehearsal import RehearsalReport, Strategy, halted_where
from guardrail.services.rollout_rehearse import rehearse
from tests.cli.conftest import EXAMPLES, Result

DECEMBER = EXAMPLES / "rollout" / "december.yaml"
FIXED = EXAMPLES / "rollout" / "december-node-scoped.yaml"


@pytest.fixture(scope="module")
def december_guarded() -> RehearsalReport:
    return rehearse(DECEMBER, Strategy.GUARDED)


def test_the_december_rollout_halts_after_the_first_canary_before_any_cluster_passes_1(
    december_guarded: RehearsalReport,
) -> None:
    report = december_guarded
    assert report.outcome == "halted"
    where = halted_where(report.steps)
    assert where is not None
    assert (where["decision"], where["cluster"], where["step"]) == ("halt", "dev-1", "canary")
    assert report.reason.startswith("load gate: the full fleet would pass 0.60 on prod-eu-1: prod-eu-1: ")
    assert report.reason.endswith("; rollback verified")
    projected = {p["cluster"]: p for p in where["fleet"]}
    assert projected["prod-eu-1"]["utilisation"] > 1  # what would have happened, seen in advance
    assert not projected["dev-1"]["over"]
    assert all(c.peak_utilisation < 1 for c in report.clusters)
    assert all(c.dns_failures == 0 for c in report.clusters)
    assert [(c.name, c.coverage, c.state.value) for c in report.clusters] == [
        ("dev-1", 0.0, "rolled-back"),
        ("staging-1", 0.0, "rolled-back"),
        ("prod-eu-1", 0.0, "rolled-back"),
    ]


def test_the_naive_rollout_takes_the_largest_cluster_down() -> None:
    report = rehearse(DECEMBER, Strategy.NAIVE)
    clusters = {c.name: c for c in report.clusters}
    prod = clusters["prod-eu-1"]
    assert prod.peak_utilisation > 1
    assert prod.dns_failures > 0
    assert prod.state.value == "down"
    assert prod.coverage == 1.0
    assert clusters["dev-1"].state.value == "completed"
    assert "prod-eu-1 down" in report.reason
    assert "5,000 nodes NotReady" in report.reason
    assert not report.succeeded


def test_node_scoped_lists_complete_everywhere() -> None:
    report = rehearse(FIXED, Strategy.GUARDED)
    assert report.outcome == "completed"
    assert [(c.coverage, c.state.value) for c in report.clusters] == [(1.0, "completed")] * 3
    assert all(c.peak_utilisation < 0.6 for c in report.clusters)
    assert report.succeeded
    widened = [s.payload for s in report.steps if s.kind == "step" and s.payload.get("action") == "label-nodes"]
    assert len(widened) == 4 + 5 + 5


def test_same_seed_same_rehearsal(december_guarded: RehearsalReport) -> None:
    assert rehearse(DECEMBER, Strategy.GUARDED).to_json() == december_guarded.to_json()


def test_json_output_is_the_contract(cli: Callable[..., Result]) -> None:
    result = cli("rollout", "rehearse", DECEMBER, "--format", "json")
    assert result.code == 1
    data = json.loads(result.stdout)
    assert set(data) == {"outcome", "reason", "clusters", "steps"}
    assert data["outcome"] == "halted"
    assert [set(c) for c in data["clusters"]] == [
        {"name", "nodes", "coverage", "peak_utilisation", "dns_failures", "state"}
    ] * 3
    assert [c["nodes"] for c in data["clusters"]] == [50, 500, 5000]
    assert {s["kind"] for s in data["steps"]} == {"start", "step", "measurement", "decision"}
    assert all("at" in s for s in data["steps"])


def test_text_output_shows_clusters_the_arithmetic_and_the_reason(cli: Callable[..., Result]) -> None:
    result = cli("rollout", "rehearse", DECEMBER)
    assert result.code == 1
    lines = result.stdout.splitlines()
    assert lines[1] == "outcome: halted"
    assert any(line.startswith("prod-eu-1") and line.endswith("rolled-back") for line in lines)
    assert any(line.strip().startswith("full fleet prod-eu-1: 0.") and "> 0.60" in line for line in lines)
    assert any("halt at dev-1 canary: load gate" in line for line in lines)


def test_exit_codes(cli: Callable[..., Result]) -> None:
    assert cli("rollout", "rehearse", FIXED, "--format", "json").code == 0
    assert cli("rollout", "rehearse", DECEMBER, "--strategy", "naive", "--format", "json").code == 1


def test_a_bad_fleet_file_is_exit_3_with_file_and_line(cli: Callable[..., Result], tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "clusters:\n  - name: a\n    nodes: 5\n    seats: 10\n    baseline: 0.2\n    colour: blue\n"
        "workload:\n  calls: [{verb: list, resource: pods, scope: cluster, every: 30s}]\n"
        "cost: {request_ms: 1, per_object_ms: 0.1}\n"
    )
    result = cli("rollout", "rehearse", fleet)
    assert result.code == 3
    assert result.stderr == f"guardrail: {fleet}:6: clusters[0].colour: unknown key\n"
    fleet.write_text(fleet.read_text().replace("    colour: blue\n", "").replace("every: 30s", "every: often"))
    result = cli("rollout", "rehearse", fleet)
    assert result.code == 3
    assert f"{fleet}:7: workload.calls[0].every" in result.stderr
    assert cli("rollout", "rehearse", tmp_path / "missing.yaml").code == 3
    fleet.write_text(fleet.read_text().replace("every: often", "every: 30s").replace("scope: cluster", "scope: zone"))
    assert cli("rollout", "rehearse", fleet).code == 3


def test_a_key_given_twice_in_a_fleet_file_is_exit_3(cli: Callable[..., Result], tmp_path: Path) -> None:
    # The second `seats:` would otherwise silently replace the first.
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "clusters:\n  - name: a\n    nodes: 5\n    seats: 10\n    seats: 1000\n    baseline: 0.2\n"
        "workload:\n  calls: [{verb: list, resource: pods, scope: cluster, every: 30s}]\n"
        "cost: {request_ms: 1, per_object_ms: 0.1}\n"
    )
    result = cli("rollout", "rehearse", fleet)
    assert result.code == 3
    assert result.stderr == f"guardrail: {fleet}:5: invalid YAML: duplicate key 'seats' (first given on line 4)\n"


def test_an_undefined_template_value_is_exit_3_naming_template_and_cluster(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    shutil.copytree(EXAMPLES.parent / "templates", tmp_path / "templates")
    (tmp_path / "examples" / "rollout").mkdir(parents=True)
    fleet = tmp_path / "examples" / "rollout" / "fleet.yaml"
    fleet.write_text(DECEMBER.read_text().replace("environment: staging", "tier: staging"))
    result = cli("rollout", "rehearse", fleet)
    assert result.code == 3
    assert "10-configmap.yaml.j2: template for cluster staging-1: 'environment' is undefined" in result.stderr
    assert "Traceback" not in result.stderr

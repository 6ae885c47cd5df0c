"""The fleet file as a contract: what a real rollout reads (contexts, kubeconfigs, Prometheus, values),
what a rehearsal requires besides (simulated sizes, workload, cost), errors with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardrail.config.fleet import FleetFile, RehearsalFile, load_fleet
from guardrail.core.errors import ConfigError

REAL = """kubeconfig: configs/fleet.yaml
values: {image: agent:2}
clusters:
  - name: dev-1
  - name: prod-eu-1
    context: admin@prod-eu-1
    kubeconfig: ~/prod.yaml
    prometheus_url: https://prometheus.prod-eu-1.example
    values: {image: agent:2-prod, region: eu}
"""
SIMULATED = """
    nodes: 50
    seats: 200
    baseline: 0.2
workload: {calls: [{verb: list, resource: pods, scope: node, every: 30s}]}
cost: {request_ms: 2, per_object_ms: 0.05}
"""


def test_a_real_fleet_names_contexts_kubeconfigs_prometheus_and_values(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(REAL)
    fleet = load_fleet(path, FleetFile)
    dev, prod = fleet.clusters
    assert (dev.context_name, prod.context_name) == ("dev-1", "admin@prod-eu-1")
    assert fleet.kubeconfig_of(dev) == str(tmp_path / "configs" / "fleet.yaml")
    assert fleet.kubeconfig_of(prod) == str(Path("~/prod.yaml").expanduser())
    assert fleet.values_of(dev) == {"image": "agent:2"}
    assert fleet.values_of(prod) == {"image": "agent:2-prod", "region": "eu"}
    assert prod.prometheus_url == "https://prometheus.prod-eu-1.example"
    assert (fleet.workload, fleet.cost, dev.nodes) == (None, None, None)


def test_a_rehearsal_needs_the_simulated_sizes_workload_and_cost(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(REAL)
    with pytest.raises(ConfigError) as refused:
        load_fleet(path, RehearsalFile)
    assert str(refused.value) == f"{path}:4: clusters[0].nodes: Field required"
    path.write_text(REAL.replace("  - name: dev-1\n", "  - name: dev-1" + SIMULATED.split("workload", maxsplit=1)[0]))
    with pytest.raises(ConfigError, match=r"fleet.yaml:\d+: clusters\[1\].nodes: Field required"):
        load_fleet(path, RehearsalFile)
    one_cluster = "clusters:\n  - name: dev-1\n    context: admin@dev-1" + SIMULATED
    path.write_text(one_cluster)
    rehearsal = load_fleet(path, RehearsalFile)  # one file serves both: the context is read, not used
    assert (rehearsal.clusters[0].nodes, rehearsal.clusters[0].context_name) == (50, "admin@dev-1")
    assert load_fleet(path, FleetFile).clusters[0].context_name == "admin@dev-1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clusters:\n  - name: a\n    contxt: b\n", ":3: clusters[0].contxt: unknown key"),
        ("clusters:\n  - name: a\n    prometheus_url: prom:9090\n", ":3: clusters[0].prometheus_url: String should"),
        ("clusters:\n  - name: a\n  - name: a\n", ":1: settings: Value error, cluster names must be unique: a"),
        ("clusters: []\n", ":1: clusters: List should have at least 1 item"),
        ("kubeconfg: x\nclusters:\n  - name: a\n", ":1: kubeconfg: unknown key"),
    ],
)
def test_mistakes_are_refused_with_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_fleet(path, FleetFile)
    assert str(refused.value).startswith(f"{path}{message}")


def test_the_example_real_fleet_loads() -> None:
    path = Path(__file__).resolve().parents[3] / "examples" / "rollout" / "fleet.yaml"
    fleet = load_fleet(path, FleetFile)
    assert [c.context_name for c in fleet.clusters] == ["dev-1-admin", "staging-1-admin", "prod-eu-1-admin"]
    assert fleet.rollout.approve_after_canary
    assert [g.name for g in fleet.rollout.promql_gates] == ["agent-errors"]

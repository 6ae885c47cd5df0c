"""The `rollout:` section of guardrail.yaml: the engine's policy, and typos refused with their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardrail.config import load_settings
from guardrail.core.errors import ConfigError


def test_rollout_settings_become_the_engines_policy(tmp_path: Path) -> None:
    config = tmp_path / "guardrail.yaml"
    config.write_text(
        "rollout:\n  canary_nodes: 2\n  batches: [0.05, 1.0]\n  soak: 15m\n  dns_cache_ttl: 30m\n"
        "  max_apiserver_utilisation: 0.5\n  gates: {max_request_latency: 2s, max_restarts: 1}\n"
    )
    policy = load_settings(config).rollout.policy()
    assert (policy.canary_nodes, policy.batches) == (2, (0.05, 1.0))
    assert (policy.soak_seconds, policy.dns_cache_ttl_seconds, policy.observe_every_seconds) == (900, 1800, 60)
    assert policy.max_apiserver_utilisation == 0.5
    assert (policy.gates.max_request_latency_seconds, policy.gates.max_restarts) == (2.0, 1)
    assert load_settings(None).rollout.policy().max_apiserver_utilisation == 0.6


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rollout:\n  soak: 10m\n  batchs: [1.0]\n", ":3: rollout.batchs: unknown key"),
        ("rollout:\n  batches: [0.5, 0.1, 1.0]\n", ":2: rollout.batches: Value error, shares must increase"),
        ("rollout:\n  gates:\n    pod_ready_timeout: soon\n", ":3: rollout.gates.pod_ready_timeout: Value error"),
        (
            "rollout:\n  promql_gates:\n    - {name: e, query: up, threshold: 1, comparison: '=='}\n",
            ":3: rollout.promql_gates[0].comparison: Input should be '<', '<=', '>' or '>='",
        ),
        (
            "rollout:\n  promql_gates:\n    - {name: e, query: up, threshold: 1, op: <}\n",
            ":3: rollout.promql_gates[0].op",
        ),
        (
            "rollout:\n  promql_gates:\n    - {name: e, query: up, threshold: 1}\n"
            "    - {name: e, query: x, threshold: 2}\n",
            ":1: rollout: Value error, promql_gates: names must be unique: e",
        ),
        ("rollout:\n  prometheus_url: prometheus:9090\n", ":2: rollout.prometheus_url: String should match pattern"),
    ],
)
def test_bad_rollout_settings_are_refused_with_their_line(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "guardrail.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_settings(config)
    assert message in str(refused.value)


def test_promql_gates_join_the_health_gates(tmp_path: Path) -> None:
    config = tmp_path / "guardrail.yaml"
    config.write_text(
        "rollout:\n  prometheus_url: http://prometheus.monitoring:9090\n  prometheus_timeout: 3s\n"
        "  promql_gates:\n    - {name: error-rate, query: 'sum(rate(e[5m]))', threshold: 0.05}\n"
        "    - {name: up, query: 'avg(up)', threshold: 0.99, comparison: '>='}\n"
    )
    rollout = load_settings(config).rollout
    gates = rollout.policy().gates.promql
    assert [(g.gate, g.query, g.threshold, g.comparison) for g in gates] == [
        ("promql:error-rate", "sum(rate(e[5m]))", 0.05, "<"),
        ("promql:up", "avg(up)", 0.99, ">="),
    ]
    assert (rollout.prometheus_url, rollout.prometheus_timeout_seconds()) == ("http://prometheus.monitoring:9090", 3.0)
    assert gates[1].passes(0.995)
    assert not gates[1].passes(0.98)

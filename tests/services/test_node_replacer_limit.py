"""The replace command's own time limit leaves every stratum its replace budget: the budget a stratum is
held to (guardrail.yaml's `nodes.strata[].replace_timeout`) is judged when the command returns, so the
command must not be killed at a shorter, pool-wide limit first."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardrail.config import Settings
from guardrail.core.kube.cluster import Cluster
from guardrail.core.nodes.ports import NodeReplacer
from guardrail.services import wiring
from guardrail.services.nodes_plan import PoolTarget, replacer_for


def _limit(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> float:
    given: list[float] = []
    real = wiring.node_replacer

    def node_replacer(cluster: Cluster, replace_command: str | None, *, timeout: float) -> NodeReplacer:
        given.append(timeout)
        return real(cluster, replace_command, timeout=timeout)

    monkeypatch.setattr(wiring, "node_replacer", node_replacer)
    replacer_for(object(), PoolTarget("gpu", replace_command="true {{ name }}"), settings)  # type: ignore[arg-type]
    (timeout,) = given
    return timeout


def test_the_replace_command_may_run_as_long_as_the_longest_stratum_replace_budget(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    nodes = {
        "replace_timeout": "20m",
        "strata": [
            {"instance_type": "Standard_ND96*", "replace_timeout": "40m"},
            {"zone": "westus2-*", "boot_budget": "20m"},
        ],
    }
    settings = Settings.model_validate({"nodes": nodes, "base_dir": tmp_path})
    assert _limit(monkeypatch, settings) == 40 * 60


def test_without_overrides_the_limit_is_the_pool_wide_replace_budget(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = Settings.model_validate({"nodes": {"replace_timeout": "25m"}, "base_dir": tmp_path})
    assert _limit(monkeypatch, settings) == 25 * 60

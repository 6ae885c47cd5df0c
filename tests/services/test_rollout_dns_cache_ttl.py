"""A cluster-wide step soaks at least the DNS cache lifetime: the cluster's own when the fleet file gives
one, else `rollout.dns_cache_ttl` (guardrail.yaml's, or the fleet file's `rollout:`), never a fixed 20m."""

from __future__ import annotations

from pathlib import Path

from guardrail.config import Settings
from guardrail.core.rollout.rehearsal import Strategy
from guardrail.services import rollout_fleet
from guardrail.services.rollout_rehearse import rehearse
from tests.cli.conftest import EXAMPLES

FIXED = EXAMPLES / "rollout" / "december-node-scoped.yaml"


def test_a_real_fleet_takes_the_rollout_settings_dns_cache_lifetime_where_a_cluster_gives_none(
    tmp_path: Path,
) -> None:
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text("clusters:\n  - name: dev-1\n  - name: prod-eu-1\n    dns_cache_ttl: 30m\n")
    manifest = tmp_path / "agent.yaml"
    manifest.write_text("")
    settings = Settings.model_validate({"rollout": {"dns_cache_ttl": "45m"}})
    fleet = rollout_fleet.load([manifest], fleet_file, settings)
    assert {c.name: c.dns_cache_ttl_seconds for c in fleet.clusters} == {"dev-1": 2700.0, "prod-eu-1": 1800.0}
    fleet_file.write_text(fleet_file.read_text() + "rollout: {dns_cache_ttl: 5m}\n")
    fleet = rollout_fleet.load([manifest], fleet_file, settings)
    assert {c.name: c.dns_cache_ttl_seconds for c in fleet.clusters} == {"dev-1": 300.0, "prod-eu-1": 1800.0}


def test_a_rehearsal_soaks_a_cluster_wide_step_for_the_rollout_settings_dns_cache_lifetime(tmp_path: Path) -> None:
    text = FIXED.read_text().replace("../../templates", str(EXAMPLES.parent / "templates"))
    text = text.replace("    dns_cache_ttl: 20m\n", "").replace("rollout: {}", "rollout: {dns_cache_ttl: 45m}")
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(text)
    report = rehearse(fleet, Strategy.GUARDED)
    assert report.outcome == "completed"
    (start,) = [s.payload for s in report.steps if s.kind == "start"]
    soaks = {c["name"]: c["steps"][-1]["soak_seconds"] for c in start["plan"]}
    assert soaks == {"dev-1": 2700.0, "staging-1": 2700.0, "prod-eu-1": 2700.0}

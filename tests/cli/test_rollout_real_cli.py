"""`guardrail rollout plan | start | status | pause | resume | abort` against two emulated clusters (the
real adapter over HTTP), with the store of the test, a test clock that advances the clusters when the
rollout sleeps, and "another terminal" played by the clock's hook between actions."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kmock
import pytest
import sqlalchemy as sa
import yaml

from guardrail.adapters.store import open_store
from guardrail.config import Settings
from guardrail.core.approvals import ApprovalPolicy
from guardrail.core.runs import RunConflictError, RunKind, RunRequest
from guardrail.services import wiring
from guardrail.services.approvals import approve
from guardrail.services.rollout_runs import FleetRequest, request_rollout, start_rollout
from tests.adapters.kubernetes.fleet_emulator import (
    AGENT,
    LABEL,
    EmulatedCluster,
    FleetClock,
    Load,
    emulated,
    rollout_files,
)
from tests.cli.conftest import Result

RBAC = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: agent}
rules: [{apiGroups: [""], resources: [pods], verbs: [list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: agent}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: agent}
subjects: [{kind: ServiceAccount, name: agent, namespace: telemetry}]
"""


class Fleet:
    """Two healthy emulated clusters, the files of a rollout, and the clock."""

    def __init__(self, tmp_path: Path, clusters: list[EmulatedCluster], store: str) -> None:
        self.small, self.large = clusters
        self.clock = FleetClock(clusters)
        self.manifests, self.file = rollout_files(tmp_path, clusters, AGENT)
        self.store = store
        self.tmp_path = tmp_path

    def runs(self) -> list[Any]:
        opened = open_store(self.store)
        try:
            return opened.runs(RunKind.ROLLOUT)
        finally:
            opened.close()

    def events(self) -> list[dict[str, Any]]:
        opened = open_store(self.store)
        try:
            return [{"kind": e.kind, "fingerprint": e.fingerprint, **e.payload} for e in opened.events()]
        finally:
            opened.close()

    def widened(self) -> list[tuple[str, str]]:
        return [(e["cluster"], e["step"]) for e in self.events() if e.get("action") == "label-nodes" and "ok" in e]

    def config(self, text: str) -> Path:
        path = self.tmp_path / "guardrail.yaml"
        path.write_text(text)
        return path


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_store: str) -> Iterator[Fleet]:
    with emulated(EmulatedCluster("small", 3, Load(baseline=0.2)), EmulatedCluster("large", 6, Load())) as clusters:
        made = Fleet(tmp_path, clusters, isolated_store)
        monkeypatch.setattr(wiring, "clock", lambda: made.clock)
        yield made


def _once(fleet: Fleet, when: Callable[[Fleet], bool], then: Callable[[Fleet], None]) -> None:
    """Between two actions of the rollout, once `when` holds: `then` (another terminal acting)."""

    def hook(_: FleetClock) -> None:
        if when(fleet):
            fleet.clock.on_sleep.remove(hook)
            then(fleet)

    fleet.clock.on_sleep.append(hook)


def _released(cluster: EmulatedCluster) -> int:
    labels = cluster.node_labels().values()
    return sum(1 for node in labels if LABEL in node and node[LABEL] != "hold") + sum(
        1 for node in labels if LABEL not in node
    )


def test_plan_reads_the_clusters_and_changes_nothing(cli: Callable[..., Result], fleet: Fleet) -> None:
    result = cli("rollout", "plan", fleet.manifests, "--fleet", fleet.file)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "new rollout of daemonset.apps/telemetry/agent, clusters smallest first (nodes held with label "
        f"{LABEL} until their batch)",
        "",
        "small: reaches 3 of 3 nodes",
        "   canary       1 nodes  soak 2m",
        "      50%       2 nodes  soak 2m",
        "     100%       3 nodes  soak 3m, cluster-wide",
        "large: reaches 6 of 6 nodes",
        "   canary       1 nodes  soak 2m",
        "      50%       3 nodes  soak 2m",
        "     100%       6 nodes  soak 3m, cluster-wide",
    ]
    for cluster in (fleet.small, fleet.large):
        assert list(cluster.emulator[kmock.method.PATCH]) == []
        assert list(cluster.emulator[kmock.method.POST]) == []
    assert fleet.runs() == []


def test_start_waits_for_approval_after_the_canary_refuses_a_second_rollout_and_completes(
    cli: Callable[..., Result], fleet: Fleet
) -> None:
    config = fleet.config("rollout:\n  approve_after_canary: true\n")
    conflicts: list[str] = []

    def second_terminal(f: Fleet) -> None:
        opened = open_store(f.store)
        try:
            with pytest.raises(RunConflictError) as refused:
                start_rollout(FleetRequest([f.manifests], f.file, Settings()), opened)
        finally:
            opened.close()
        conflicts.append(str(refused.value))
        asked = next(e for e in f.events() if e.get("decision") == "await-approval")
        opened = open_store(f.store)
        try:
            approve(opened, ApprovalPolicy(), asked["fingerprint"], "bob@example.com", f.clock.now())
        finally:
            opened.close()

    _once(fleet, lambda f: any(e.get("decision") == "await-approval" for e in f.events()), second_terminal)
    result = cli("rollout", "start", fleet.manifests, "--fleet", fleet.file, "--config", config)
    assert result.code == 0, result.stderr
    (run,) = fleet.runs()
    assert result.stdout.startswith(f"rollout {run.id} completed: every cluster at 100%")
    assert conflicts == [f"daemonset.apps/telemetry/agent is held by run {run.id} (awaiting-approval)"]
    assert fleet.widened() == [
        ("small", "canary"),
        ("small", "50%"),
        ("small", "100%"),
        ("large", "canary"),
        ("large", "50%"),
        ("large", "100%"),
    ]
    decisions = [e["decision"] for e in fleet.events() if e["kind"] == "rollout-decision" and "decision" in e]
    assert decisions[decisions.index("await-approval") + 1] == "approved"
    assert len(fleet.small.agent_pods()) == 3
    assert len(fleet.large.agent_pods()) == 6
    assert all(LABEL not in labels for c in (fleet.small, fleet.large) for labels in c.node_labels().values())

    status = cli("rollout", "status", run.id)
    assert status.code == 0
    lines = status.stdout.splitlines()
    assert lines[0] == f"rollout {run.id}: completed (finished), new daemonset.apps/telemetry/agent"
    assert any(line.startswith("small ") and "done" in line and "100.0%" in line for line in lines)
    assert any(line.startswith("large ") and "done" in line and "100.0%" in line for line in lines)
    assert "  full fleet small: " in status.stdout
    listed = cli("rollout", "status")
    assert listed.stdout.splitlines()[1].startswith(f"{run.id:<12} completed")
    data = json.loads(cli("rollout", "status", run.id, "--format", "json").stdout)
    assert (data["status"], [c["coverage"] for c in data["clusters"]]) == ("completed", [1.0, 1.0])
    assert all(len(c["utilisation"]) > 3 for c in data["clusters"])


def test_pause_and_resume_from_another_terminal(cli: Callable[..., Result], fleet: Fleet) -> None:
    def pause(f: Fleet) -> None:
        opened = open_store(f.store)
        try:
            request_rollout(opened, f.runs()[0].id, RunRequest.PAUSE)
        finally:
            opened.close()

    _once(fleet, lambda f: _released(f.small) == 1, pause)  # once the canary is out
    paused = cli("rollout", "start", fleet.manifests, "--fleet", fleet.file)
    (run,) = fleet.runs()
    assert paused.code == 0, paused.stderr
    assert paused.stdout == f"rollout {run.id} paused at small canary: guardrail rollout resume {run.id}\n"
    assert fleet.widened() == [("small", "canary")]
    resumed = cli("rollout", "resume", run.id)
    assert resumed.code == 0, resumed.stderr
    assert resumed.stdout.startswith(f"rollout {run.id} completed")
    assert fleet.widened()[:2] == [("small", "canary"), ("small", "50%")]  # nothing repeated
    assert len(fleet.widened()) == 6


def test_a_killed_start_is_resumed_without_repeating_a_step_and_a_crashed_run_can_be_aborted(
    cli: Callable[..., Result], fleet: Fleet
) -> None:
    def kill(_: Fleet) -> None:
        raise KeyboardInterrupt  # kill -9: nothing after this point runs

    _once(fleet, lambda f: _released(f.small) == 2, kill)
    killed = cli("rollout", "start", fleet.manifests, "--fleet", fleet.file)
    assert killed.code == 130
    (run,) = fleet.runs()
    assert run.status.value == "running"
    assert fleet.widened() == [("small", "canary"), ("small", "50%")]
    again = cli("rollout", "start", fleet.manifests, "--fleet", fleet.file)
    assert again.code == 1
    assert again.stderr == f"guardrail: daemonset.apps/telemetry/agent is held by run {run.id} (running)\n"
    pause = cli("rollout", "pause", run.id)
    assert (pause.code, pause.stdout) == (0, f"pause of {run.id} requested: it pauses after its current action\n")
    assert cli("rollout", "resume", run.id).code == 0  # honours the pause at once
    assert fleet.runs()[0].status.value == "paused"
    aborted = cli("rollout", "abort", run.id)
    assert aborted.code == 0, aborted.stderr
    assert aborted.stdout.splitlines() == [f"rollout {run.id} aborted: aborted by request", "rollback verified"]
    assert fleet.widened() == [("small", "canary"), ("small", "50%")]
    for cluster in (fleet.small, fleet.large):
        assert cluster.live("daemonsets") == {}
        assert all(LABEL not in labels for labels in cluster.node_labels().values())
    assert cli("rollout", "resume", run.id).code == 3  # ended


def test_resume_refuses_a_run_another_live_process_drives(cli: Callable[..., Result], fleet: Fleet) -> None:
    _once(fleet, lambda f: _released(f.small) == 1, lambda _: (_ for _ in ()).throw(KeyboardInterrupt))
    assert cli("rollout", "start", fleet.manifests, "--fleet", fleet.file).code == 130
    (run,) = fleet.runs()
    state = dict(run.state)
    state["driver"] = {**state["driver"], "pid": os.getppid()}  # pytest's parent: alive, on this host
    engine = sa.create_engine(fleet.store.replace("sqlite:///", "sqlite+pysqlite:///"))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE runs SET state = :state"), {"state": json.dumps(state)})
    engine.dispose()
    refused = cli("rollout", "resume", run.id)
    assert refused.code == 1
    assert f"rollout {run.id} is driven by pid {os.getppid()} on this host" in refused.stderr
    requested = cli("rollout", "abort", run.id)  # handed to the live driver, not rolled back here
    assert (requested.code, fleet.runs()[0].requested) == (0, RunRequest.ABORT)
    assert "the process driving it rolls it back" in requested.stdout


def test_the_gate_needs_approval_for_cluster_wide_lists_and_a_lock_denies(
    cli: Callable[..., Result], fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    (fleet.manifests / "30-rbac.yaml").write_text(RBAC)
    held = cli("rollout", "start", fleet.manifests, "--fleet", fleet.file)
    assert held.code == 2
    assert "kube-control-plane-cost" in held.stdout
    fingerprint = next(e["fingerprint"] for e in fleet.events() if e["kind"] == "check")
    assert f"guardrail approve {fingerprint}" in held.stdout
    assert fleet.runs() == []
    assert all(list(c.emulator[kmock.method.PATCH]) == [] for c in (fleet.small, fleet.large))  # nothing changed
    locked = cli("lock", "add", "--address", "*daemonset.apps/telemetry/agent", "--reason", "freeze")
    assert locked.code == 0
    monkeypatch.setenv("GUARDRAIL_ACTOR", "bob@example.com")
    assert cli("approve", fingerprint).code == 0
    denied = cli("rollout", "start", fleet.manifests, "--fleet", fleet.file)
    assert denied.code == 1
    assert "freeze" in denied.stdout
    # Break-glass lets the denied rollout through once: the pass is spent by the start that uses it.
    config = fleet.config("approvals:\n  break_glass: [carol@example.com]\n")
    monkeypatch.setenv("GUARDRAIL_ACTOR", "carol@example.com")
    assert cli("break-glass", fingerprint, "--reason", "telemetry for the incident", "--config", config).code == 0
    assert cli("rollout", "start", fleet.manifests, "--fleet", fleet.file, "--config", config).code == 0
    assert [e["kind"] for e in fleet.events() if e["fingerprint"] == fingerprint].count("break-glass-used") == 1


def test_bad_input_is_exit_3_with_what_and_where(cli: Callable[..., Result], fleet: Fleet) -> None:
    text = fleet.file.read_text()
    fleet.file.write_text(text.replace("context: ctx-large", "context: ctx-large\n  colour: blue"))
    result = cli("rollout", "plan", fleet.manifests, "--fleet", fleet.file)
    assert result.code == 3
    assert result.stderr.startswith(f"guardrail: {fleet.file}:")
    assert "clusters[1].colour: unknown key" in result.stderr
    fleet.file.write_text(text.replace("ctx-large", "ctx-missing"))
    result = cli("rollout", "plan", fleet.manifests, "--fleet", fleet.file)
    assert result.code == 3
    assert "ctx-missing" in result.stderr
    fleet.file.write_text(text)
    assert cli("rollout", "plan", fleet.tmp_path / "nothing", "--fleet", fleet.file).code == 3
    assert cli("rollout", "resume", "ro-nope").code == 3
    assert cli("rollout", "status", "ro-nope").code == 3
    data = yaml.safe_load(text)
    data["rollout"]["promql_gates"] = [{"name": "errors", "query": "up", "threshold": 1}]
    fleet.file.write_text(yaml.safe_dump(data))
    result = cli("rollout", "plan", fleet.manifests, "--fleet", fleet.file)
    assert result.code == 3
    assert "rollout.promql_gates need a Prometheus" in result.stderr


def test_the_gate_is_the_kubernetes_gate_with_the_configs_custom_policies(
    cli: Callable[..., Result], fleet: Fleet
) -> None:
    """A rollout passes the same gate as kube check: the config's Rego policies judge each cluster's rendering
    (one document per object) and their deny stops the rollout before anything changes."""
    policies = fleet.tmp_path / "policies"
    policies.mkdir()
    (policies / "agents.rego").write_text(
        'package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tinput.kind == "DaemonSet"\n'
        '\tmsg := sprintf("no new agents this week: %s", [input.metadata.name])\n}\n'
    )
    config = fleet.config("policies: [policies/]\n")
    denied = cli("rollout", "start", fleet.manifests, "--fleet", fleet.file, "--config", config)
    assert denied.code == 1, denied.stderr
    assert "no new agents this week: agent" in denied.stdout
    assert fleet.runs() == []
    assert all(list(c.emulator[kmock.method.PATCH]) == [] for c in (fleet.small, fleet.large))  # nothing changed

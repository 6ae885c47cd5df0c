"""`guardrail nodes plan | cycle | status | pause | resume | abort` against the emulated API server, as an
operator runs them: what they print, their exit codes, and that a plan or a refused cycle changes nothing.

A cycle that would wait runs in tests of the services with a clock of their own (test_node_cycles.py);
here a capacity floor of 1.0 halts a cycle at its first step (no node fits), so the command runs end to
end without waiting for anything."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import kmock
import pytest

from guardrail.cli.main import run
from tests.adapters.kubernetes.conftest import CONTEXT, kubeconfig_text
from tests.adapters.kubernetes.emulator import ApiServer
from tests.adapters.kubernetes.pool_world import Machine

ND96, NC96 = "Standard_ND96asr_v4", "Standard_ND96amsr_A100_v4"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


Cli = Callable[..., Result]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "store" / "guardrail.db"  # not there until a test creates it (store init)
    monkeypatch.setenv("GUARDRAIL_STORE", f"sqlite:///{path}")
    monkeypatch.setenv("GUARDRAIL_ACTOR", "alice@example.com")
    return path


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], store: Path, kubeconfig: Path) -> Cli:
    """guardrail in-process; `nodes plan` and `nodes cycle` aim at the emulated cluster."""

    def invoke(*args: str | Path, config: Path | None = None) -> Result:
        argv = [str(a) for a in args]
        if argv[:2] in (["nodes", "plan"], ["nodes", "cycle"]):
            argv += ["--context", CONTEXT, "--kubeconfig", str(kubeconfig)]
        if config is not None:
            argv += ["--config", str(config)]
        with pytest.raises(SystemExit) as exited:
            run(argv)
        out, err = capsys.readouterr()
        return Result(int(exited.value.code or 0), out, err)

    return invoke


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "guardrail.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def pool(emulator: ApiServer) -> dict[str, Machine]:
    machines = [
        Machine("gpu-a-0", ND96, "eastus-1"),
        Machine("gpu-a-1", ND96, "eastus-1"),
        Machine("gpu-b-0", NC96, "westus2-1"),
        Machine("gpu-b-1", NC96, "westus2-1"),
    ]
    for machine in machines:
        emulator.objects["v1/nodes", None, machine.name] = machine.manifest()
    return {m.name: m for m in machines}


def _untouched(emulator: ApiServer) -> bool:
    return not any(list(emulator[method]) for method in (kmock.method.PATCH, kmock.method.DELETE, kmock.method.POST))


def test_a_clean_plan_shows_strata_batches_budgets_and_its_fingerprint_and_changes_nothing(
    cli: Cli, emulator: ApiServer, pool: dict[str, Machine], tmp_path: Path, store: Path
) -> None:
    config = _config(tmp_path, "nodes: {capacity_floor: 0.5, boot_budget: 20m}\n")
    result = cli("nodes", "plan", "agentpool=gpu", config=config)
    assert result.code == 0, result.stderr
    text = result.stdout
    assert text.startswith(
        f"Node-pool cycle plan of agentpool=gpu on {CONTEXT}: 4 node(s) in 2 strata, 32 GPUs; nothing was changed\n"
    )
    assert "  capacity: 32 GPUs serve now; the floor 0.5 keeps 16; headroom 16 GPUs\n" in text
    assert "  first: the canaries gpu-b-0, gpu-a-0 (one per stratum, as the headroom allows)\n" in text
    assert f"up to 2 node(s) at once ({NC96} westus2-1: 1, {ND96} eastus-1: 1)" in text
    assert "  machines replaced by: deleting each Node (the managed pool re-creates its machine)\n" in text
    assert f"  1. {NC96} westus2-1 (Ubuntu 22.04.4 LTS, 5.15.0-1071-azure, NVIDIA-A100-SXM4-80GB): 2 node(s)" in text
    assert "     budgets: drain 30m0s, replace 20m0s, boot 20m0s, gpu 5m0s, validation 10m0s" in text
    assert "     replace gpu-b-0: delete Node gpu-b-0 (the pool re-creates its machine)\n" in text
    assert "Pre-flight (no store: earlier cycles not read)\n  clean\n" in text
    assert "Gate: ALLOW" in text
    assert _untouched(emulator)
    assert not store.exists()  # a plan creates no store either
    as_json = json.loads(cli("nodes", "plan", "agentpool=gpu", "--format", "json", config=config).stdout)
    assert as_json["fingerprint"] in text
    assert (as_json["headroom_gpus"], as_json["minimum_gpus"], as_json["nodes"]) == (16, 16, 4)
    assert as_json["batches"] == {"canaries": ["gpu-b-0", "gpu-a-0"], "widened": [1, 1], "widest": 2}
    assert [s["nodes"] for s in as_json["strata"]] == [["gpu-b-0", "gpu-b-1"], ["gpu-a-0", "gpu-a-1"]]
    assert as_json["strata"][0]["budgets"]["boot"] == 1200.0
    assert as_json["gate"] == {"decision": "allow", "findings": []}
    assert as_json["history"] == {"store": None, "cycles": None}


def test_inconsistencies_and_strata_that_never_passed_are_warnings_exit_2(
    cli: Cli, emulator: ApiServer, pool: dict[str, Machine], tmp_path: Path
) -> None:
    config = _config(tmp_path, "nodes: {capacity_floor: 0.5}\n")
    odd = pool["gpu-a-1"].manifest()
    odd["status"]["nodeInfo"]["kubeletVersion"] = "v1.28.9"
    emulator.objects["v1/nodes", None, "gpu-a-1"] = odd
    assert cli("store", "init").code == 0  # earlier cycles can now be read (none)
    result = cli("nodes", "plan", "agentpool=gpu", config=config)
    assert result.code == 2
    assert f"  - {ND96} eastus-1 (" in result.stdout
    assert (
        "kubelet: kubelet differs inside the stratum: most have v1.29.7; 1 node(s) v1.28.9 (gpu-a-1)" in result.stdout
    )
    assert "never-passed: this stratum has never passed a cycle" in result.stdout
    assert "earlier cycles read from sqlite:///" in result.stdout
    assert result.stdout.endswith("\nGate: ALLOW\n")  # a person should see them; the cycle would not wait


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["agentpool=cpu"], "pool agentpool=cpu: no node matches it"),
        (["agentpool in (gpu"], "agentpool in (gpu"),
        (["agentpool=gpu", "--replace-command", "az vmss reimage {{ name"], "--replace-command"),
        (
            ["agentpool=gpu", "--replace-command", "az vmss reimage --ids {{ resource_group }}"],
            "'resource_group' is undefined",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_3(
    cli: Cli, emulator: ApiServer, pool: dict[str, Machine], args: list[str], message: str
) -> None:
    result = cli("nodes", "plan", *args)
    assert result.code == 3
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert _untouched(emulator)


def test_an_unreachable_cluster_is_exit_3(capsys: pytest.CaptureFixture[str], tmp_path: Path, store: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(kubeconfig_text("http://127.0.0.1:9"))  # nothing listens on the discard port
    with pytest.raises(SystemExit) as exited:
        run(["nodes", "plan", "agentpool=gpu", "--context", CONTEXT, "--kubeconfig", str(config)])
    assert exited.value.code == 3
    assert "127.0.0.1:9" in capsys.readouterr().err


def test_a_lock_on_the_pools_nodes_refuses_the_cycle_and_nothing_changes(
    cli: Cli, emulator: ApiServer, pool: dict[str, Machine], tmp_path: Path
) -> None:
    config = _config(tmp_path, "nodes: {capacity_floor: 0.5}\n")
    assert cli("store", "init").code == 0
    added = cli("lock", "add", "--kind", "Node", "--label", "agentpool=gpu", "--reason", "quarter-end training run")
    assert added.code == 0
    planned = cli("nodes", "plan", "agentpool=gpu", config=config)
    assert planned.code == 1
    assert "Gate: DENY" in planned.stdout
    assert "quarter-end training run" in planned.stdout
    refused = cli("nodes", "cycle", "agentpool=gpu", config=config)
    assert refused.code == 1
    assert "Gate: DENY\n  hard: replace of a locked resource: lock " in refused.stdout
    assert "started" not in refused.stdout
    assert _untouched(emulator)
    other_cluster = cli("lock", "add", "--cluster", "prod-*", "--reason", "not this one")
    assert other_cluster.code == 0
    assert cli("lock", "release", added.stdout.strip(), "--reason", "done").code == 0
    assert cli("nodes", "plan", "agentpool=gpu", config=config).code == 2  # never passed; no lock holds it


def test_an_approved_cycle_starts_and_a_halted_one_is_shown_resumed_and_aborted(
    cli: Cli, emulator: ApiServer, pool: dict[str, Machine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A floor of 1.0 leaves no headroom: the pre-flight says no node can ever start, which needs approval
    # too, and the cycle halts at its first step once it may go.
    config = _config(tmp_path, "nodes: {capacity_floor: 1.0, approve_before_cycle: true}\n")
    assert cli("store", "init").code == 0
    waiting = cli("nodes", "cycle", "agentpool=gpu", config=config)
    assert waiting.code == 2
    assert "Gate: NEEDS APPROVAL" in waiting.stdout
    assert "nodes.approve_before_cycle" in waiting.stdout
    fingerprint = json.loads(cli("nodes", "plan", "agentpool=gpu", "--format", "json", config=config).stdout)[
        "fingerprint"
    ]
    assert f"approve with: guardrail approve {fingerprint}" in waiting.stdout
    assert cli("approve", fingerprint).code == 1  # the author cannot approve their own cycle
    monkeypatch.setenv("GUARDRAIL_ACTOR", "bob@example.com")
    assert cli("approve", fingerprint, "--comment", "go").code == 0
    monkeypatch.setenv("GUARDRAIL_ACTOR", "alice@example.com")

    halted = cli("nodes", "cycle", "agentpool=gpu", config=config)
    assert halted.code == 1, halted.stderr
    assert halted.stdout.startswith("started run ")
    run_id = halted.stdout.split()[2]
    assert "Node-pool cycle of agentpool=gpu: HALTED\n  capacity: 32 of 32 GPUs serve" in halted.stdout
    assert f"run {run_id} of node-pool/{CONTEXT}/agentpool=gpu: halted" in halted.stdout
    assert _untouched(emulator)

    again = cli("nodes", "cycle", "agentpool=gpu", config=config)
    assert again.code == 1
    assert f"is held by run {run_id} (halted)" in again.stderr

    listed = cli("nodes", "status")
    assert listed.code == 0
    assert run_id in listed.stdout
    assert "halted" in listed.stdout
    shown = json.loads(cli("nodes", "status", run_id, "--format", "json").stdout)
    assert (shown["status"], shown["report"]["outcome"], shown["actor"]) == ("halted", "halted", "alice@example.com")
    assert cli("nodes", "resume", run_id).code == 1  # a halted cycle waits for a person

    aborted = cli("nodes", "abort", run_id)
    assert aborted.code == 0
    assert f"run {run_id} of node-pool/{CONTEXT}/agentpool=gpu: aborted" in aborted.stdout
    ended = cli("nodes", "pause", run_id)
    assert ended.code == 3
    assert f"run {run_id} has ended (aborted)" in ended.stderr
    assert cli("nodes", "status", "nope").code == 3
    assert cli("nodes", "cycle", "agentpool=gpu", config=config).code == 1  # the pool is free: a new run halts

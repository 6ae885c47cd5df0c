"""The run store kept in memory (rehearsals) and the real ways to replace a node's machine."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from guardrail.adapters.memory_runs import MemoryRunStore
from guardrail.adapters.node_replacers import CommandReplacer
from guardrail.core.audit import EventDraft, verify_chain
from guardrail.core.errors import BadInputError, CommandError
from guardrail.core.kube.cluster import NodeInfo
from guardrail.core.runs import RunConflictError, RunKind, RunRecord, RunRequest, RunStatus

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


class Ticking:
    """A clock one second further on at every reading."""

    def __init__(self) -> None:
        self.moment = T0

    def now(self) -> datetime:
        self.moment += timedelta(seconds=1)
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


def _record(run_id: str, subject: str = "node-pool/c/gpu") -> RunRecord:
    return RunRecord(run_id, RunKind.NODE_CYCLE, subject, RunStatus.RUNNING, 0, {"n": 0}, "alice", T0, T0)


def _event(kind: str = "node-decision") -> EventDraft:
    return EventDraft("alice", kind, {"step": kind})


def test_the_memory_store_keeps_runs_steps_and_a_verifiable_chain_of_events() -> None:
    store = MemoryRunStore(Ticking())
    store.start_run(_record("r1"), _event("node-cycle-start"))
    saved = store.save_step(
        "r1",
        expected_step=0,
        step=1,
        status=RunStatus.RUNNING,
        state={"n": 1},
        event=_event("node-phase"),
        more_events=[_event("node-decision"), _event("node-failure")],
    )
    assert (saved.step, dict(saved.state)) == (1, {"n": 1})
    assert [e.kind for e in store.events()] == ["node-cycle-start", "node-phase", "node-decision", "node-failure"]
    assert [e.seq for e in store.events(after_seq=2)] == [3, 4]
    assert verify_chain(store.events()).ok
    times = [e.time for e in store.events()]
    assert times[0] == "2025-01-06T09:00:01.000000Z"  # the store's clock stamps its events
    assert times == sorted(times)
    assert [r.id for r in store.runs(RunKind.NODE_CYCLE)] == ["r1"]
    assert store.runs(RunKind.ROLLOUT) == []


def test_the_memory_store_refuses_a_second_active_run_and_a_stale_step() -> None:
    store = MemoryRunStore(Ticking())
    store.start_run(_record("r1"), _event())
    with pytest.raises(RunConflictError, match="held by run r1"):
        store.start_run(_record("r2"), _event())
    with pytest.raises(RunConflictError, match="another process moved it"):
        store.save_step("r1", expected_step=5, step=6, status=RunStatus.RUNNING, state={}, event=_event())
    store.save_step("r1", expected_step=0, step=1, status=RunStatus.COMPLETED, state={}, event=_event())
    store.start_run(_record("r2"), _event())  # the first ended: the pool is free again


def test_requests_are_kept_until_acted_on_and_refused_for_ended_or_unknown_runs() -> None:
    store = MemoryRunStore(Ticking())
    store.start_run(_record("r1"), _event())
    assert store.request("r1", RunRequest.PAUSE, _event()).requested is RunRequest.PAUSE
    cleared = store.save_step(
        "r1", expected_step=0, step=1, status=RunStatus.PAUSED, state={}, event=_event(), clear_request=True
    )
    assert cleared.requested is None
    store.save_step("r1", expected_step=1, step=2, status=RunStatus.ABORTED, state={}, event=_event())
    with pytest.raises(BadInputError, match="has ended"):
        store.request("r1", RunRequest.RESUME, _event())
    with pytest.raises(BadInputError, match="no run"):
        store.request("nope", RunRequest.PAUSE, _event())


def _node() -> NodeInfo:
    labels = {"topology.kubernetes.io/zone": "westus2-1", "team": "ml research", "quote": "it's"}
    return NodeInfo("aks-gpu-0-vmss000003", labels, provider_id="azure:///subscriptions/s/vmss/gpu/virtualMachines/3")


def test_a_replace_command_renders_each_argument_on_its_own_and_runs_without_a_shell(tmp_path: Path) -> None:
    out = tmp_path / "argv.json"
    script = "import json, sys; open(sys.argv[1], 'w').write(json.dumps(sys.argv[2:]))"
    template = (
        f"{sys.executable} -c \"{script}\" {out} --instance-ids {{{{ provider_id.split('/')[-1] }}}} "
        "--name {{ name }} --zone {{ zone }} --team {{ labels['team'] }} {{ labels.quote }}"
    )
    replacer = CommandReplacer(template, timeout=30)
    replacer.replace(_node())
    assert json.loads(out.read_text()) == [
        "--instance-ids",
        "3",
        "--name",
        "aks-gpu-0-vmss000003",
        "--zone",
        "westus2-1",
        "--team",
        "ml research",  # a label with a space stays one argument
        "it's",
    ]


def test_a_failing_replace_command_is_a_command_error() -> None:
    replacer = CommandReplacer(f"{sys.executable} -c 'import sys; sys.exit(4)' {{{{ name }}}}", timeout=30)
    with pytest.raises(CommandError, match="exited 4"):
        replacer.replace(_node())


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("", "empty"),
        ("az vmss reimage 'unclosed", "No closing quotation"),
        ("az {{ name", "--replace-command"),
    ],
)
def test_a_replace_command_that_does_not_parse_is_refused_at_once(template: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        CommandReplacer(template, timeout=30)


def test_a_template_that_asks_for_what_it_is_not_given_is_refused_for_that_node() -> None:
    replacer = CommandReplacer("az vmss reimage --ids {{ resource_group }}", timeout=30)
    with pytest.raises(BadInputError, match="for node aks-gpu-0-vmss000003: 'resource_group' is undefined"):
        replacer.argv(_node())

"""The rehearsal report tells what the clusters were left with, and its text reads as prose."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from guardrail.core.rollout.rehearsal import Strategy
from guardrail.services.rollout_rehearse import rehearse
from tests.cli.conftest import EXAMPLES, Result

FIXED = EXAMPLES / "rollout" / "december-node-scoped.yaml"


def _fleet(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    text = FIXED.read_text().replace("../../templates", str(EXAMPLES.parent / "templates"))
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    return path


def test_a_rehearsal_that_runs_out_of_time_reports_the_nodes_left_running_not_a_rollback(tmp_path: Path) -> None:
    # 30 simulated minutes end while dev-1 soaks its 50% step: nothing was rolled back.
    report = rehearse(_fleet(tmp_path, ("duration: 6h", "duration: 30m")), Strategy.GUARDED)
    assert report.outcome == "halted"
    assert report.reason == "simulated time limit 0:30:00 reached while rolling"
    assert [(c.name, c.coverage, c.state.value) for c in report.clusters] == [
        ("dev-1", 0.5, "partial"),
        ("staging-1", 0.0, "not-started"),
        ("prod-eu-1", 0.0, "not-started"),
    ]


def test_waiting_for_approval_reads_as_a_sentence_not_a_dump_of_the_decision(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    fleet = _fleet(tmp_path, ("rollout: {}", "rollout: {approve_after_canary: true}"))
    result = cli("rollout", "rehearse", fleet)
    assert result.code == 0
    decisions = [line.split("decision", 1)[1].strip() for line in result.stdout.splitlines() if " decision " in line]
    assert "await approval to widen dev-1 to 10% (5 nodes): projected 0.202 <= 0.60" in decisions
    assert "approved by rehearsal" in decisions
    assert not [d for d in decisions if re.search(r"\w=", d)]  # no key=value dump of the payload


def test_counts_in_the_step_list_agree_with_their_nouns(cli: Callable[..., Result]) -> None:
    result = cli("rollout", "rehearse", EXAMPLES / "rollout" / "december.yaml")
    assert result.code == 1
    assert "dev-1 canary: 1 new pod cost 0.002572 seats each at 2,823 objects (flow)" in result.stdout
    assert "widen dev-1 to canary (1 node)" in result.stdout
    assert "1 new pods" not in result.stdout

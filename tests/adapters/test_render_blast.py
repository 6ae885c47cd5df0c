"""The blast-radius section of every output: the json records, the text and markdown trees, kept inert."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from markdown_it import MarkdownIt

from guardrail.adapters.render import renderer_for
from guardrail.adapters.render.markdown import MarkdownRenderer, md, utf16_length
from guardrail.core.blast.impact import analyse
from guardrail.core.matching import Selector
from guardrail.core.report import CheckReport
from guardrail.core.verdict import Verdict
from tests.unit.blast.helpers import plan, ref, resource

HOSTILE_KEY = "[bold red]x[/] <script>@team \x1b[2J"
HOSTILE = f'aws_subnet.each["{HOSTILE_KEY.replace(chr(34), "")}"]'


def network_report(*, critical: tuple[Selector, ...] = (), secrets: frozenset[str] = frozenset()) -> CheckReport:
    """vpc (replaced, delete-then-create) <- subnet <- instance; vpc <- each[hostile key]; db deleted alone."""
    root = {
        "resources": [
            resource("aws_vpc.main"),
            resource("aws_subnet.a", vpc_id=ref("aws_vpc.main.id", "aws_vpc.main")),
            resource("aws_instance.web", subnet_id=ref("aws_subnet.a.id", "aws_subnet.a")),
            resource("aws_subnet.each", vpc_id=ref("aws_vpc.main.id", "aws_vpc.main")),
            resource("aws_db_instance.lonely"),
        ]
    }
    changeset = plan(
        root,
        {
            "aws_vpc.main": ["delete", "create"],
            "aws_subnet.a": ["no-op"],
            "aws_instance.web": ["update"],
            HOSTILE: ["no-op"],
            "aws_db_instance.lonely": ["delete"],
        },
    )
    changeset = replace(changeset, sensitive_literals=secrets)
    return CheckReport(changeset, Verdict.of([]), blast=analyse(changeset, critical))


def test_json_lists_every_destructive_change_with_its_transitive_sorted_impact() -> None:
    records = json.loads(renderer_for("json").render(network_report()))["blast_radius"]
    by_address = {r["address"]: r for r in records}
    assert set(by_address) == {"aws_vpc.main", "aws_db_instance.lonely"}
    vpc = by_address["aws_vpc.main"]
    assert vpc["impacted"] == sorted(["aws_subnet.a", "aws_instance.web", HOSTILE])
    assert (vpc["action"], vpc["downtime"], vpc["replace_order"]) == ("replace", True, "delete-before-create")
    assert by_address["aws_db_instance.lonely"] == {
        "address": "aws_db_instance.lonely",
        "action": "delete",
        "impacted": [],
        "downtime": False,
        "deposed": None,
        "replace_order": None,
        "critical": False,
        "critical_impacted": [],
        "cluster": None,
        "effect": None,
        "pods": None,
        "unknown": None,
    }


def test_text_draws_the_tree_critical_branch_first_and_counts_the_rest() -> None:
    report = network_report(critical=(Selector(addresses=("aws_instance.*",)),))
    out = renderer_for("text").render(report)
    section = out[out.index("Blast radius") : out.index("\nReplace (")]
    assert section.splitlines()[0] == (
        "Blast radius: 2 destructive changes, 1 with dependents, 3 resources impacted (1 critical), 1 causes downtime"
    )
    lines = section.splitlines()[1:]
    assert lines[0] == "  aws_vpc.main (replace, downtime): 3 impacted, 1 critical"
    # The branch leading to the critical instance comes before the plain one.
    assert lines[1].strip().startswith("├─ aws_subnet.a  [1 below, 1 critical]")
    assert lines[2].strip() == "│  └─ aws_instance.web  [CRITICAL; also updated]"
    assert "1 destructive change nothing depends on (not drawn)" in section


@pytest.mark.parametrize("color", [False, True])
def test_text_tree_shows_hostile_addresses_inert(color: bool) -> None:
    out = renderer_for("text", color=color).render(network_report())
    assert "[bold red]x[/]" in out  # as typed
    assert "\x1b[2J" not in out
    assert "\\x1b[2J" in out


def test_markdown_tree_is_collapsible_and_inert() -> None:
    out = renderer_for("markdown").render(network_report())
    assert "### Blast radius" in out
    assert "<details open><summary>aws\\_vpc.main (replace, downtime): 3 impacted</summary>" in out
    html = MarkdownIt("gfm-like").render(out)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "@team" not in out  # no mention
    assert "\x1b" not in out


def test_addresses_stay_whole_in_every_tree_and_record_when_a_secret_is_part_of_them() -> None:
    # Addresses are names, never secrets: a sensitive value that happens to be "lonely" must not turn
    # `aws_db_instance.lonely` into `aws_db_instance.(sensitive value)`.
    report = network_report(secrets=frozenset({"lonely", "main"}))
    records = json.loads(renderer_for("json").render(report))["blast_radius"]
    assert {r["address"] for r in records} == {"aws_vpc.main", "aws_db_instance.lonely"}
    for fmt in ("text", "markdown"):
        out = renderer_for(fmt).render(report)
        assert "sensitive value" not in out, fmt
        for address in ("aws_db_instance.lonely", "aws_vpc.main"):
            assert (str(md(address)) if fmt == "markdown" else address) in out, fmt


def test_markdown_keeps_the_blast_section_within_a_quarter_of_the_comment() -> None:
    # A hundred destructive changes, each with dependents: the trees are cut, never the comment limit.
    resources = []
    changes: dict[str, list[str]] = {}
    for i in range(100):
        resources.append(resource(f"aws_vpc.v{i}"))
        changes[f"aws_vpc.v{i}"] = ["delete"]
        for j in range(30):
            resources.append(resource(f"aws_subnet.s{i}_{j}", vpc_id=ref(f"aws_vpc.v{i}.id")))
            changes[f"aws_subnet.s{i}_{j}"] = ["no-op"]
    changeset = plan({"resources": resources}, changes)
    report = CheckReport(changeset, Verdict.of([]), blast=analyse(changeset))
    out = MarkdownRenderer(limit=20_000).render(report)
    assert utf16_length(out) < 20_000  # far below GitHub's 65,536 for a comment
    section = out[out.index("### Blast radius") : out.index("### Changes")]
    assert len(section) < 20_000 // 4 + 500
    assert re.search(r"… and \d+ more destructive changes with dependents", section)

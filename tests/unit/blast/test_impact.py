"""Impact of destructive changes, downtime, criticality, thresholds, the json records and the tree."""

from __future__ import annotations

from dataclasses import replace

from guardrail.core.blast.impact import analyse
from guardrail.core.blast.tree import build_tree, tree_lines
from guardrail.core.change import Action
from guardrail.core.matching import Selector
from guardrail.core.rules.blast_radius import BlastRadiusRule, BlastRadiusSettings
from guardrail.core.verdict import Enforcement
from tests.unit.blast.helpers import module, plan, ref, resource

# vpc <- subnet <- (data.ami <- instance), subnet <- db ; cluster reads subnet too
ROOT = module(
    [
        resource("aws_vpc.main"),
        resource("aws_subnet.a", vpc=ref("aws_vpc.main.id", "aws_vpc.main")),
        resource("data.aws_ami.img", subnet=ref("aws_subnet.a")),
        resource("aws_instance.web", ami=ref("data.aws_ami.img.id", "data.aws_ami.img")),
        resource("aws_db_instance.db", subnet=ref("aws_subnet.a.id", "aws_subnet.a")),
        resource("aws_eks_cluster.prod", subnet=ref("aws_subnet.a.id", "aws_subnet.a")),
        resource("aws_s3_bucket.lonely"),
    ]
)
DOWNSTREAM = {"aws_instance.web", "aws_db_instance.db", "aws_eks_cluster.prod"}


def changes(**overrides: list[str]) -> dict[str, list[str]]:
    base = {address: ["no-op"] for address in ("aws_vpc.main", "aws_subnet.a", "data.aws_ami.img", *DOWNSTREAM)}
    base["aws_s3_bucket.lonely"] = ["no-op"]
    base["data.aws_ami.img"] = ["read"]
    base.update({k.replace("__", "."): v for k, v in overrides.items()})
    return base


def test_transitive_impact_with_shortest_paths_skips_data_sources_in_the_list() -> None:
    report = analyse(plan(ROOT, changes(aws_vpc__main=["delete", "create"], aws_instance__web=["update"])))
    (impact,) = report.impacts
    assert impact.address == "aws_vpc.main"
    assert [r.address for r in impact.impacted] == sorted({"aws_subnet.a", *DOWNSTREAM})
    paths = {r.address: r.path for r in impact.impacted}
    assert paths["aws_instance.web"] == ("aws_vpc.main", "aws_subnet.a", "data.aws_ami.img", "aws_instance.web")
    assert paths["aws_subnet.a"] == ("aws_vpc.main", "aws_subnet.a")
    changed = {r.address for r in impact.impacted if r.changes}
    assert changed == {"aws_instance.web"}
    assert impact.downtime
    assert report.as_records() == [
        {
            "address": "aws_vpc.main",
            "action": "replace",
            "impacted": sorted({"aws_subnet.a", *DOWNSTREAM}),
            "downtime": True,
        }
    ]


def test_create_before_destroy_and_leaf_replaces_are_not_downtime() -> None:
    cbd = analyse(plan(ROOT, changes(aws_subnet__a=["create", "delete"]))).impacts[0]
    assert not cbd.downtime
    assert cbd.lower_risk_replace
    leaf = analyse(plan(ROOT, changes(aws_s3_bucket__lonely=["delete", "create"]))).impacts[0]
    assert leaf.impacted == ()
    assert not leaf.downtime


def test_every_destructive_action_gets_a_record_and_deposed_objects_impact_nothing() -> None:
    cs = plan(ROOT, changes(aws_vpc__main=["forget"], aws_db_instance__db=["delete"], aws_subnet__a=["delete"]))
    deposed = replace(cs.changes[0], address="aws_subnet.a", action=Action.DELETE, deposed="abcd1234")
    cs = replace(cs, changes=(*cs.changes, deposed))
    report = analyse(cs)
    by_key = {(i.address, i.deposed): i for i in report.impacts}
    assert set(by_key) == {("aws_vpc.main", None), ("aws_db_instance.db", None), ("aws_subnet.a", None),
                           ("aws_subnet.a", "abcd1234")}  # fmt: skip
    assert by_key[("aws_subnet.a", "abcd1234")].impacted == ()
    assert {r.address for r in by_key[("aws_subnet.a", None)].impacted} == DOWNSTREAM
    assert by_key[("aws_db_instance.db", None)].impacted == ()
    assert [r["address"] for r in report.as_records()] == ["aws_db_instance.db", "aws_subnet.a", "aws_subnet.a",
                                                            "aws_vpc.main"]  # fmt: skip


def test_critical_resources_come_first_and_raise_findings() -> None:
    critical = (Selector(types=frozenset({"aws_eks_cluster"})),)
    cs = plan(ROOT, changes(aws_vpc__main=["create", "delete"], aws_db_instance__db=["delete"]))
    report = analyse(cs, critical)
    assert [i.address for i in report.impacts] == ["aws_vpc.main", "aws_db_instance.db"]
    assert [r.address for r in report.impacts[0].critical_impacted] == ["aws_eks_cluster.prod"]
    rule = BlastRadiusRule(BlastRadiusSettings(critical=critical))
    findings = list(rule.evaluate(cs))
    assert [(f.address, f.enforcement) for f in findings] == [("aws_vpc.main", Enforcement.SOFT)]
    assert "aws_eks_cluster.prod" in findings[0].message
    assert list(rule.findings(rule.analyse(cs))) == findings  # analysed apart, the same findings


def test_thresholds_and_downtime_turn_into_findings_with_configured_weights() -> None:
    cs = plan(ROOT, changes(aws_vpc__main=["delete", "create"], aws_subnet__a=["delete"]))
    settings = BlastRadiusSettings(
        max_impacted=3, enforcement=Enforcement.HARD, downtime_enforcement=Enforcement.ADVISORY
    )
    findings = list(BlastRadiusRule(settings).evaluate(cs))
    kinds = sorted((f.address, f.enforcement.value, f.message.split(" ")[0]) for f in findings)
    # The replaced vpc impacts 4 (over 3) and leaves a gap; the deleted subnet impacts exactly 3: not over.
    assert kinds == [("aws_vpc.main", "advisory", "downtime:"), ("aws_vpc.main", "hard", "replace")]
    assert "impacts 4 resources (more than max_impacted 3)" in next(
        f.message for f in findings if f.enforcement.value == "hard"
    )
    assert list(BlastRadiusRule().evaluate(plan(ROOT, changes(aws_s3_bucket__lonely=["delete"])))) == []


def test_tree_puts_criticals_first_and_summarises_the_rest() -> None:
    many = [resource(f"aws_instance.n{i:02d}", vpc=ref("aws_vpc.main")) for i in range(30)]
    root = module([resource("aws_vpc.main"), *many, resource("aws_eks_cluster.z", vpc=ref("aws_vpc.main"))])
    actions = {"aws_vpc.main": ["delete"], "aws_eks_cluster.z": ["no-op"]}
    actions.update({f"aws_instance.n{i:02d}": ["no-op"] for i in range(30)})
    critical = (Selector(addresses=("aws_eks_cluster.*",)),)
    (impact,) = analyse(plan(root, actions), critical).impacts
    tree = build_tree(impact, max_children=5)
    assert tree.root.below == 31
    assert tree.root.critical_below == 1
    assert [c.address for c in tree.root.children] == [
        "aws_eks_cluster.z",
        "aws_instance.n00",
        "aws_instance.n01",
        "aws_instance.n02",
        "aws_instance.n03",
    ]
    assert tree.root.hidden == 26
    lines = tree_lines(tree)
    assert lines[0] == "aws_vpc.main (delete): 31 impacted, 1 critical"
    assert lines[1] == "├─ aws_eks_cluster.z  [CRITICAL]"
    assert lines[-1] == "└─ … 26 more"
    assert len(lines) == 7

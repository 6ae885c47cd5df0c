"""The graph on real plans nobody here wrote; expected edges were read off each plan's configuration by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guardrail.adapters.terraform.parse import parse_plan
from guardrail.core.blast.graph import DependencyGraph, build_graph
from guardrail.core.blast.impact import analyse
from guardrail.core.change import ChangeSet
from guardrail.core.errors import BadInputError
from tests.unit.blast.helpers import CORPUS, corpus_file, impacted


def load(relative: str) -> tuple[ChangeSet, DependencyGraph]:
    changeset = parse_plan(corpus_file(relative).read_bytes(), relative).changeset
    return changeset, build_graph(changeset.configuration, changeset.prior_state, changeset.changes)


def test_nested_child_modules_with_connections() -> None:
    _, graph = load("checkov/terraform__runner__resources__plan_nested_child_modules_with_connections__tfplan.json")
    assert impacted(graph, "aws_s3_bucket.root_bucket") == {"aws_s3_bucket_public_access_block.root"}
    # Inside the registry module every bucket sub-resource reads aws_s3_bucket.this[0]; two of them are planned.
    assert impacted(graph, "module.s3_bucket.aws_s3_bucket.this[0]") == {
        "module.s3_bucket.aws_s3_bucket_acl.this[0]",
        "module.s3_bucket.aws_s3_bucket_public_access_block.this[0]",
    }
    assert impacted(graph, "module.s3_module.aws_s3_bucket.module_bucket") == {
        "module.s3_module.aws_s3_bucket_public_access_block.module_bucket"
    }
    assert impacted(graph, "module.s3_module.module.s3_submodule.aws_s3_bucket.submodule_bucket") == {
        "module.s3_module.module.s3_submodule.aws_s3_bucket_public_access_block.submodule_bucket"
    }
    # The module's count and its `local` values are not in the configuration: recorded, not guessed.
    assert any(u.reference == "local.create_bucket" for u in graph.unresolved)


def test_module_with_connected_resources() -> None:
    _, graph = load("checkov/terraform__parser__resources__plan_module_with_connected_resources__tfplan.json")
    assert impacted(graph, "module.s3-bucket.aws_s3_bucket.this[0]") == {
        "module.s3-bucket.aws_s3_bucket_public_access_block.this[0]"
    }
    assert impacted(graph, "module.s3-bucket.aws_s3_bucket_public_access_block.this[0]") == set()


def test_for_each_module_instances_depend_on_the_data_source_passed_in() -> None:
    _, graph = load("checkov/common__runner_registry__plan_with_for_each_for_enrichment__tf_plan.json")
    # module "sg" { for_each = local.names, vpc_id = data.aws_vpc.sandbox.id }; the group reads var.vpc_id.
    # data.aws_subnet.private reads data.aws_vpc.sandbox.id too.
    assert impacted(graph, "data.aws_vpc.sandbox") == {
        'module.sg["awful_example"].aws_security_group.bad',
        'module.sg["bad_example"].aws_security_group.bad',
        'module.sg["terrible_example"].aws_security_group.bad',
        "data.aws_subnet.private",
    }
    assert impacted(graph, 'aws_route53_zone.example["example.com"]') == set()


def test_terragoat_vpc_dependents() -> None:
    _, graph = load("checkov/terraform__runner__resources__plan__tfplan.json")
    assert set(graph.dependents_of("aws_vpc.web_vpc")) == {
        "aws_flow_log.vpcflowlogs",
        "aws_internet_gateway.web_igw",
        "aws_route_table.web_rtb",
        "aws_security_group.default",
        "aws_security_group.web-node",
        "aws_security_group_rule.ingress",
        "aws_subnet.web_subnet",
        "aws_subnet.web_subnet2",
    }
    assert set(graph.dependents_of("aws_subnet.web_subnet2")) == {
        "aws_db_subnet_group.default",
        "aws_route_table_association.rtbassoc2",
    }


@pytest.mark.parametrize(
    ("name", "nodes"),
    [
        ("opentofu/modules.json", 4),
        ("opentofu/nested-modules.json", 1),
        ("opentofu/module-depends-on.json", 1),
    ],
)
def test_opentofu_module_plans_without_edges(name: str, nodes: int) -> None:
    # Their module inputs are constants and module.foo (depends_on test_instance.test) holds no resource.
    _, graph = load(name)
    assert len(graph.addresses) == nodes
    assert graph.edge_count == 0


def test_opentofu_module_depends_on_reaches_resources_in_the_module(tmp_path: Path) -> None:
    # The same plan with a resource added inside module.foo: its module-level depends_on now has a target.
    document = json.loads(corpus_file("opentofu/module-depends-on.json").read_text())
    foo = document["configuration"]["root_module"]["module_calls"]["foo"]["module"]
    foo["resources"] = [
        {"address": "test_instance.inside", "mode": "managed", "type": "test_instance", "name": "inside"}
    ]
    added = dict(
        document["resource_changes"][0], address="module.foo.test_instance.inside", module_address="module.foo"
    )
    document["resource_changes"].append(added)
    changeset = parse_plan(json.dumps(document).encode(), "edited").changeset
    graph = build_graph(changeset.configuration, changeset.prior_state, changeset.changes)
    assert impacted(graph, "test_instance.test") == {"module.foo.test_instance.inside"}


def every_plan() -> list[Path]:
    return sorted(CORPUS.rglob("*.json")) if CORPUS.is_dir() else []


@pytest.mark.parametrize("path", every_plan(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_corpus_plan_analyses_without_crashing(path: Path) -> None:
    try:
        changeset = parse_plan(path.read_bytes(), path.name).changeset
    except BadInputError:
        pytest.skip("refused at intake (not a plan this test is about)")
    report = analyse(changeset)
    destructive = [c for c in changeset.changes if c.is_destructive]
    assert len(report.impacts) == len(destructive)
    assert len(report.graph.addresses) >= len({c.address for c in changeset.changes})

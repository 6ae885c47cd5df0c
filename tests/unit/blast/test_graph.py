"""The dependency graph against configurations written by hand, the way Terraform renders them."""

from __future__ import annotations

from typing import Any

from guardrail.core.blast.address import parse_instance, steps
from guardrail.core.blast.graph import build_graph
from tests.unit.blast.helpers import call, impacted, module, output, plan, ref, resource

CREATE = ["create"]


def graph_of(root: dict[str, Any], addresses: list[str], prior: list[dict[str, Any]] | None = None) -> Any:
    cs = plan(root, dict.fromkeys(addresses, CREATE), prior)
    return build_graph(cs.configuration, cs.prior_state, cs.changes)


def test_both_reference_forms_and_data_sources_make_edges() -> None:
    root = module(
        [
            resource("aws_vpc.main"),
            resource("aws_subnet.a", vpc_id=ref("aws_vpc.main.id", "aws_vpc.main")),
            resource("data.aws_ami.ubuntu", filter=[{"name": ref("aws_subnet.a")}]),
            resource("aws_instance.web", ami=ref("data.aws_ami.ubuntu.id", "data.aws_ami.ubuntu")),
            resource("aws_eip.ip", depends_on=["aws_instance.web"]),
        ]
    )
    graph = graph_of(root, ["aws_vpc.main", "aws_subnet.a", "data.aws_ami.ubuntu", "aws_instance.web", "aws_eip.ip"])
    assert impacted(graph, "aws_vpc.main") == {"aws_subnet.a", "data.aws_ami.ubuntu", "aws_instance.web", "aws_eip.ip"}
    assert impacted(graph, "aws_instance.web") == {"aws_eip.ip"}
    assert impacted(graph, "aws_eip.ip") == set()


def test_module_inputs_and_outputs_are_followed_through_nested_modules() -> None:
    inner = module(
        [resource("aws_db_instance.db", subnet=ref("var.subnet"))],
        outputs={"endpoint": output("aws_db_instance.db.endpoint", "aws_db_instance.db")},
    )
    middle = module(
        [resource("aws_subnet.s", vpc=ref("var.vpc_id"))],
        calls={"db": call(inner, subnet=ref("aws_subnet.s.id", "aws_subnet.s"))},
        outputs={"db_endpoint": output("module.db.endpoint", "module.db"), "unused": output("var.vpc_id")},
    )
    root = module(
        [
            resource("aws_vpc.main"),
            resource("aws_route53_record.r", records=ref("module.app.db_endpoint", "module.app")),
            resource("aws_sns_topic.t", name=ref("module.app.unused", "module.app")),
        ],
        calls={"app": call(middle, vpc_id=ref("aws_vpc.main.id", "aws_vpc.main"))},
    )
    nodes = [
        "aws_vpc.main",
        "aws_route53_record.r",
        "aws_sns_topic.t",
        "module.app.aws_subnet.s",
        "module.app.module.db.aws_db_instance.db",
    ]
    graph = graph_of(root, nodes)
    assert impacted(graph, "aws_vpc.main") == {
        "module.app.aws_subnet.s",
        "module.app.module.db.aws_db_instance.db",
        "aws_route53_record.r",
        "aws_sns_topic.t",  # through the output that passes var.vpc_id back out
    }
    # The route53 record reads only the db_endpoint output: the bare `module.app` listed with it adds nothing.
    assert impacted(graph, "module.app.aws_subnet.s") == {
        "module.app.module.db.aws_db_instance.db",
        "aws_route53_record.r",
    }
    assert impacted(graph, "module.app.module.db.aws_db_instance.db") == {"aws_route53_record.r"}


def test_a_module_used_as_a_whole_depends_on_all_its_outputs() -> None:
    child = module(
        [resource("aws_s3_bucket.a"), resource("aws_s3_bucket.b")],
        outputs={"a": output("aws_s3_bucket.a"), "b": output("aws_s3_bucket.b")},
    )
    root = module([resource("terraform_data.all", input=ref("module.c"))], calls={"c": call(child)})
    graph = graph_of(root, ["terraform_data.all", "module.c.aws_s3_bucket.a", "module.c.aws_s3_bucket.b"])
    assert impacted(graph, "module.c.aws_s3_bucket.a") == {"terraform_data.all"}
    assert impacted(graph, "module.c.aws_s3_bucket.b") == {"terraform_data.all"}


def test_references_stay_inside_their_module_instance() -> None:
    child = module(
        [resource("aws_vpc.v", cidr=ref("var.cidr")), resource("aws_subnet.s", vpc=ref("aws_vpc.v.id", "aws_vpc.v"))]
    )
    root = module(
        [resource("terraform_data.cidr", input=ref("each.key"))],
        calls={"net": call(child, cidr=ref("terraform_data.cidr.output", "terraform_data.cidr"))},
    )
    keys = ['"eu"', '"us"']
    nodes = ["terraform_data.cidr"]
    nodes += [f"module.net[{k}].aws_vpc.v" for k in keys] + [f"module.net[{k}].aws_subnet.s" for k in keys]
    graph = graph_of(root, nodes)
    assert impacted(graph, 'module.net["eu"].aws_vpc.v') == {'module.net["eu"].aws_subnet.s'}
    assert impacted(graph, 'module.net["us"].aws_vpc.v') == {'module.net["us"].aws_subnet.s'}
    assert impacted(graph, "terraform_data.cidr") == set(nodes) - {"terraform_data.cidr"}


def test_count_and_for_each_instances_of_a_referenced_block_are_all_dependencies() -> None:
    root = module(
        [
            resource("aws_subnet.s"),
            resource("aws_instance.i", subnet=ref("aws_subnet.s[0].id", "aws_subnet.s[0]", "aws_subnet.s")),
        ]
    )
    nodes = ["aws_subnet.s[0]", "aws_subnet.s[1]", 'aws_instance.i["a"]', 'aws_instance.i["b"]']
    graph = graph_of(root, nodes)
    # Terraform also lists `aws_subnet.s`: over-approximating to every instance is the safe reading.
    assert impacted(graph, "aws_subnet.s[1]") == {'aws_instance.i["a"]', 'aws_instance.i["b"]'}


def test_depends_on_a_module_and_module_depends_on() -> None:
    leaf = module([resource("aws_iam_role.deep")])
    child = module([resource("aws_iam_policy.p")], calls={"leaf": call(leaf)})
    consumer = module([resource("aws_lambda_function.f"), resource("aws_lambda_alias.a")])
    root = module(
        [resource("aws_kms_key.k"), resource("terraform_data.after", depends_on=["module.iam"])],
        calls={
            "iam": call(child),
            "fn": call(consumer, depends_on=["aws_kms_key.k"], count_expression=None),
        },
    )
    root["module_calls"]["fn"]["count_expression"] = ref("terraform_data.after.output", "terraform_data.after")
    nodes = [
        "aws_kms_key.k",
        "terraform_data.after",
        "module.iam.aws_iam_policy.p",
        "module.iam.module.leaf.aws_iam_role.deep",
        "module.fn[0].aws_lambda_function.f",
        "module.fn[0].aws_lambda_alias.a",
    ]
    graph = graph_of(root, nodes)
    functions = {"module.fn[0].aws_lambda_function.f", "module.fn[0].aws_lambda_alias.a"}
    assert impacted(graph, "aws_kms_key.k") == functions
    assert impacted(graph, "module.iam.module.leaf.aws_iam_role.deep") == {"terraform_data.after", *functions}
    assert impacted(graph, "module.iam.aws_iam_policy.p") == {"terraform_data.after", *functions}


def test_prior_state_depends_on_keeps_edges_of_removed_blocks() -> None:
    root = module([resource("aws_vpc.main")])
    prior = [
        {"address": "aws_vpc.main", "type": "aws_vpc", "name": "main", "values": {}},
        {"address": "aws_subnet.gone[0]", "type": "aws_subnet", "depends_on": ["aws_vpc.main"], "values": {}},
        {"address": "aws_instance.gone", "depends_on": ["aws_subnet.gone", "aws_vpc.main"], "values": {}},
    ]
    graph = graph_of(root, ["aws_vpc.main"], prior)
    assert impacted(graph, "aws_vpc.main") == {"aws_subnet.gone[0]", "aws_instance.gone"}
    assert graph.dependents_of("aws_subnet.gone[0]") == ("aws_instance.gone",)


def test_unresolvable_references_are_recorded_not_raised() -> None:
    root = module(
        [
            resource(
                "aws_instance.i",
                a=ref("local.name", "aws_missing.x", "module.nope.out", "data.only_two", "var.v", "each.key"),
                b=ref("count.index", "path.module", "terraform.workspace", "self.id", "x", ""),
                c={"references": "not a list"},
                d=[{"nested": ref("aws_vpc.v")}, "junk", 3],
                e={"constant_value": {"references": ["aws_vpc.v"]}},
            ),
            resource("aws_vpc.v"),
            "not a resource",  # type: ignore[list-item]
        ],
        calls={
            "broken": "not a call",  # type: ignore[dict-item]
            "m": call(module([resource("aws_vpc.x")], outputs={"o": output("aws_vpc.gone")})),
        },
    )
    root["resources"][0]["expressions"]["f"] = ref("module.m.missing_output", "module.m")
    graph = graph_of(root, ["aws_instance.i", "aws_vpc.v", "module.m.aws_vpc.x"])
    assert impacted(graph, "aws_vpc.v") == {"aws_instance.i"}  # only through the nested block
    reasons = {(u.where, u.reference): u.reason for u in graph.unresolved}
    assert reasons[("aws_instance.i", "local.name")].startswith("local values")
    assert reasons[("aws_instance.i", "aws_missing.x")] == "no such resource in the configuration"
    assert reasons[("aws_instance.i", "module.nope.out")] == "no such module call"
    assert reasons[("aws_instance.i", "data.only_two")] == "not a resource reference"
    assert reasons[("aws_instance.i", "module.m.missing_output")] == "no such output"
    assert reasons[("module.m.output.o", "aws_vpc.gone")] == "no such resource in the configuration"
    assert graph.unresolved_count == len(graph.unresolved)
    # An output that is not there is taken as "anything in the module" (safe), and recorded.
    assert impacted(graph, "module.m.aws_vpc.x") == {"aws_instance.i"}


def test_missing_or_malformed_sections_give_an_empty_or_partial_graph() -> None:
    assert build_graph(None, None, ()).addresses == ()
    malformed: tuple[dict[str, Any], ...] = (
        {},
        {"root_module": None},
        {"root_module": []},
        {"root_module": {"resources": "x"}},
    )
    for configuration in malformed:
        graph = build_graph(configuration, {"values": {"root_module": {"resources": [{"address": "a.b"}, 1]}}})
        assert graph.addresses == ("a.b",)
        assert graph.edge_count == 0


def test_addresses_with_quoted_keys_are_split_on_the_right_dots() -> None:
    assert [str(s) for s in steps('module.a["x.y"].aws_s3_bucket.b["[1]"].id')] == [
        "module",
        'a["x.y"]',
        "aws_s3_bucket",
        'b["[1]"]',
        "id",
    ]
    parsed = parse_instance('module.a["x.y"].module.b[0].data.aws_iam_policy_document.d["k\\"]"]')
    assert parsed is not None
    assert parsed.modules == ('a["x.y"]', "b[0]")
    assert parsed.config == "module.a.module.b.data.aws_iam_policy_document.d"
    assert parsed.key == '"k\\"]"'
    assert parse_instance("module.a") is None
    assert parse_instance("aws_x.y.z") is None
    child = module([resource("aws_s3_bucket.b"), resource("aws_s3_bucket_policy.p", bucket=ref("aws_s3_bucket.b"))])
    graph = graph_of(
        module(calls={"a": call(child)}), ['module.a["x.y"].aws_s3_bucket.b', 'module.a["x.y"].aws_s3_bucket_policy.p']
    )
    assert impacted(graph, 'module.a["x.y"].aws_s3_bucket.b') == {'module.a["x.y"].aws_s3_bucket_policy.p'}


def test_cycles_terminate() -> None:
    child = module([resource("terraform_data.x", input=ref("var.v"))], outputs={"o": output("var.v")})
    root = module(
        [resource("terraform_data.r", input=ref("module.c.o"))], calls={"c": call(child, v=ref("module.c.o"))}
    )
    graph = graph_of(root, ["terraform_data.r", "module.c.terraform_data.x"])
    assert graph.edge_count == 0
    loop = module(
        [
            resource("terraform_data.a", input=ref("terraform_data.b")),
            resource("terraform_data.b", input=ref("terraform_data.a")),
        ]
    )
    graph = graph_of(loop, ["terraform_data.a", "terraform_data.b"])
    assert impacted(graph, "terraform_data.a") == {"terraform_data.b"}

"""Module sources and backends as changed-roots reads them: exact on literals, blind to look-alikes."""

from __future__ import annotations

import json

import pytest

from guardrail.core.hcl_sources import FileFacts, read_facts
from guardrail.core.roots import local_target

TRICKY = """
# module "commented" { source = "../hash" }
// module "slashes" { source = "../slashes" }
/* module "block" {
  source = "../block-comment"
} */
terraform {
  required_version = ">= 1.5"
}
module "net" {
  source = "../modules/net" # the real one
  tags   = { source = "../object-key" }
  list   = [for s in ["../in-a-list"] : s]
  doc    = <<-EOT
    source = "../heredoc"
  EOT
  name   = "a${var.b}c"
  nested = { inner = { source = "../deeper" } }
}
resource "aws_lambda_function" "f" {
  source = "../resource-attribute"
}
module "templated" {
  source = "../x/${var.env}"
}
module "escaped" {
  source = "../quoted\\"name"
}
locals { m = "module \\"fake\\" { source = \\"../in-a-string\\" }" }
module "last" { source = "./last" }
"""


def test_only_literal_sources_of_module_blocks_are_read() -> None:
    facts = read_facts(TRICKY)
    assert facts == FileFacts(("../modules/net", '../quoted\\"name', "./last"), declares_backend=False)


@pytest.mark.parametrize(
    "text",
    [
        'terraform {\n  backend "s3" {\n    bucket = "b"\n  }\n}\n',
        'terraform {\n  cloud {\n    organization = "o"\n  }\n}\n',
    ],
)
def test_a_backend_or_cloud_block_marks_a_root(text: str) -> None:
    assert read_facts(text).declares_backend


def test_backend_named_elsewhere_is_not_a_backend() -> None:
    assert not read_facts('resource "x" "y" {\n  backend "s3" {}\n}\n').declares_backend
    assert not read_facts('variable "backend" { default = "s3" }\n').declares_backend


def test_json_syntax() -> None:
    document = {
        "module": {"a": {"source": "../a"}, "b": [{"source": "git::https://example.com/b.git"}]},
        "terraform": [{"backend": {"s3": {}}}],
    }
    assert read_facts(json.dumps(document), json_syntax=True) == FileFacts(
        ("../a", "git::https://example.com/b.git"), True
    )
    assert read_facts("{not json", json_syntax=True) == FileFacts()


@pytest.mark.parametrize(
    ("folder", "source", "target"),
    [
        ("envs/prod", "../../modules/app", "modules/app"),
        ("envs/prod", "./local", "envs/prod/local"),
        (".", "./modules/x", "modules/x"),
        ("envs/prod", "../../modules/app//sub", "modules/app"),
        ("envs", "../../outside", None),
        ("envs", "hashicorp/consul/aws", None),
        ("envs", "git::https://example.com/x.git", None),
    ],
)
def test_local_targets(folder: str, source: str, target: str | None) -> None:
    assert local_target(folder, source) == target

"""Blast radius on plans made by real terraform (offline: built-in terraform_data resources).

The expected impacted sets are read off the .tf below, not off guardrail's output.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from guardrail.adapters.terraform.parse import parse_plan
from guardrail.cli.main import run as run_cli
from guardrail.core.blast.impact import analyse
from guardrail.core.matching import Selector
from guardrail.core.rules.blast_radius import BlastRadiusRule, BlastRadiusSettings
from guardrail.core.rules.similar_names import SimilarNamesRule
from tests.conftest import find_terraform

pytestmark = pytest.mark.terraform

CHILD = """
variable "seed" {}
resource "terraform_data" "inner" { input = var.seed }
output "inner_id" { value = terraform_data.inner.id }
"""

# network <- subnet <- (module.app[*].inner via var.seed) <- consumer (via module output)
# network <- via_local (through a local value: only prior state's depends_on records it)
# subnet <- ordered (depends_on only); cluster_eu_1 / cluster_eu_2: look-alike names
MAIN = """
resource "terraform_data" "network" { triggers_replace = [var.generation] }
resource "terraform_data" "subnet" { input = terraform_data.network.id }
locals { net = terraform_data.network.output }
resource "terraform_data" "via_local" { input = local.net }
resource "terraform_data" "ordered" {
  input      = "x"
  depends_on = [terraform_data.subnet]
}
module "app" {
  source = "./child"
  count  = 2
  seed   = terraform_data.subnet.id
}
resource "terraform_data" "consumer" { input = module.app[0].inner_id }
resource "terraform_data" "cluster_eu_1" { input = "a" }
resource "terraform_data" "cluster_eu_2" { input = "b" }
resource "terraform_data" "unrelated" { input = "u" }
variable "generation" { default = "1" }
"""


def run(binary: str, cwd: Path, *args: str) -> str:
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
    return subprocess.run([binary, *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def plan_json(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    binary = find_terraform()
    work = tmp_path_factory.mktemp("blast")
    (work / "child").mkdir()
    (work / "child" / "main.tf").write_text(CHILD)
    (work / "main.tf").write_text(MAIN)
    run(binary, work, "init", "-input=false")
    run(binary, work, "apply", "-auto-approve", "-input=false")
    # Replace the network (delete-then-create) and remove cluster_eu_1's block.
    (work / "main.tf").write_text(
        MAIN.replace('default = "1"', 'default = "2"').replace(
            'resource "terraform_data" "cluster_eu_1" { input = "a" }', ""
        )
    )
    run(binary, work, "plan", "-input=false", "-out", "plan.tfplan")
    return run(binary, work, "show", "-json", "plan.tfplan").encode()


def test_impact_of_a_replaced_network_follows_modules_locals_and_depends_on(plan_json: bytes) -> None:
    changeset = parse_plan(plan_json, "plan.json").changeset
    report = analyse(changeset, critical=(Selector(addresses=("module.app*",)),))
    by_address = {i.address: i for i in report.impacts}
    assert set(by_address) == {"terraform_data.network", "terraform_data.cluster_eu_1"}
    network = by_address["terraform_data.network"]
    assert network.action.value == "replace"
    assert [r.address for r in network.impacted] == sorted(
        [
            "terraform_data.subnet",
            "terraform_data.via_local",
            "terraform_data.ordered",
            "module.app[0].terraform_data.inner",
            "module.app[1].terraform_data.inner",
            "terraform_data.consumer",
        ]
    )
    assert network.downtime
    paths = {r.address: r.path for r in network.impacted}
    assert paths["module.app[1].terraform_data.inner"] == (
        "terraform_data.network",
        "terraform_data.subnet",
        "module.app[1].terraform_data.inner",
    )
    assert [r.address for r in network.critical_impacted] == [
        "module.app[0].terraform_data.inner",
        "module.app[1].terraform_data.inner",
    ]
    assert by_address["terraform_data.cluster_eu_1"].impacted == ()
    assert {k: v for k, v in network.as_record().items() if k != "impacted"} == {
        "address": "terraform_data.network",
        "action": "replace",
        "downtime": True,
    }


def test_rules_on_the_real_plan(plan_json: bytes) -> None:
    changeset = parse_plan(plan_json, "plan.json").changeset
    findings = list(BlastRadiusRule(BlastRadiusSettings(max_impacted=5)).evaluate(changeset))
    assert sorted(f.message.split(":")[0] for f in findings) == [
        "downtime",
        "replace impacts 6 resources (more than max_impacted 5)",
    ]
    (similar,) = SimilarNamesRule().evaluate(changeset)
    assert similar.address == "terraform_data.cluster_eu_1"
    assert "terraform_data.cluster_eu_2" in similar.message


CONFIG = """
critical:
  - addresses: ["module.app*"]
blast_radius:
  max_impacted: 5
"""


def test_check_reports_the_blast_radius_the_configuration_implies(
    plan_json: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plan.json").write_bytes(plan_json)
    (tmp_path / "guardrail.yaml").write_text(CONFIG)
    with pytest.raises(SystemExit) as exited:
        run_cli(["check", "plan.json", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert exited.value.code == 2  # downtime, critical and over the threshold: soft findings
    records = {r["address"]: r for r in doc["blast_radius"]}
    # Read off MAIN: everything that references network, directly or through subnet, the module and locals.
    assert records["terraform_data.network"]["impacted"] == sorted(
        [
            "module.app[0].terraform_data.inner",
            "module.app[1].terraform_data.inner",
            "terraform_data.consumer",
            "terraform_data.ordered",
            "terraform_data.subnet",
            "terraform_data.via_local",
        ]
    )
    assert records["terraform_data.network"]["downtime"] is True
    assert records["terraform_data.cluster_eu_1"]["impacted"] == []
    rules = {(f["rule"], f["address"]) for f in doc["findings"]}
    assert ("blast-radius", "terraform_data.network") in rules
    assert ("similar-names", "terraform_data.cluster_eu_1") in rules

    with pytest.raises(SystemExit):
        run_cli(["check", "plan.json"])
    text = capsys.readouterr().out
    assert "terraform_data.network (replace, downtime, critical): 6 impacted, 2 critical" not in text  # not critical
    assert "terraform_data.network (replace, downtime): 6 impacted, 2 critical" in text

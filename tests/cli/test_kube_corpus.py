"""Every real-world manifest and kustomization of the corpus gets a verdict or a one-line exit 3.

What to expect is read from each file independently of the gate: PyYAML's pure-Python SafeLoader (not the
gate's loader) counts the objects, `kind: List` items included, and finds the documents the gate must refuse
(not an object, no apiVersion/kind/metadata.name, a kustomize file). Kustomizations are rendered by
`kubectl kustomize` here too, and their objects counted the same way.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.conftest import Result
from tests.conftest import CORPUS_DIR, initialised_sqlite

Cli = Callable[..., Result]
KUBE_CORPUS = [CORPUS_DIR / "kubernetes-manifests", CORPUS_DIR / "kubernetes-deprecations"]
KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def corpus_files() -> list[Path]:
    return sorted(p for root in KUBE_CORPUS if root.is_dir() for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))


def corpus_kustomizations() -> list[Path]:
    return sorted({p.parent for root in KUBE_CORPUS if root.is_dir() for n in KUSTOMIZATIONS for p in root.rglob(n)})


def params(paths: list[Path]) -> list[Any]:
    if not paths:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"Kubernetes corpus not found under {CORPUS_DIR}"))]
    return [pytest.param(p, id=str(p.relative_to(CORPUS_DIR))) for p in paths]


def objects(documents: list[Any]) -> Iterator[tuple[int, Any]]:
    """(document index, object) of every object, List items expanded; empty documents skipped."""
    for index, doc in enumerate(documents):
        if doc is None:
            continue
        kind = doc.get("kind", "") if isinstance(doc, dict) else ""
        if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
            yield from ((index, item) for item in doc["items"])
        else:
            yield index, doc


def first_refusal(documents: list[Any]) -> int | None:
    """The index of the first document the gate must refuse, or None."""
    for index, item in objects(documents):
        if not isinstance(item, dict):
            return index
        if str(item.get("apiVersion", "")).startswith("kustomize.config.k8s.io/"):
            return index
        metadata = item.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        if not item.get("apiVersion") or not item.get("kind") or not name:
            return index
    return None


@pytest.fixture(autouse=True)
def store_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two hundred and fifty checks: the store opens in this process instead of a forked helper per check
    (the helper only overlaps imports that this test process has long done; the CLI tests keep it)."""
    import guardrail.services.wiring

    monkeypatch.setattr(guardrail.services.wiring, "start_store_helper", lambda: None)


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{initialised_sqlite(tmp_path_factory.mktemp('corpus-store') / 'guardrail.db')}"


def judge(cli: Cli, target: Path, store: str) -> Result:
    return cli("kube", "check", target, "--format", "json", "--store", store, "--config", os.devnull)


def assert_verdict(result: Result, expected_objects: int, source: str) -> None:
    assert result.code in (0, 1, 2), result.stderr
    doc = json.loads(result.stdout)
    assert doc["summary"]["create"] == expected_objects
    assert len(doc["changes"]) == len({c["address"] for c in doc["changes"]}) == expected_objects
    assert doc["source"] == source
    assert doc["verdict"] in ("allow", "deny", "needs-approval")


def assert_refused(result: Result, *needles: str) -> None:
    assert result.code == 3, result.stdout
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize("path", params(corpus_files()))
def test_every_corpus_file_gets_a_verdict_or_one_line(cli: Cli, path: Path, shared_store: str) -> None:
    documents = list(yaml.load_all(path.read_bytes(), Loader=yaml.SafeLoader))
    refused_at = first_refusal(documents)
    result = judge(cli, path, shared_store)
    if refused_at is not None:
        assert_refused(result, str(path), f"document {refused_at}")
    else:
        assert_verdict(result, sum(1 for _ in objects(documents)), str(path))


@pytest.mark.parametrize("directory", params(corpus_kustomizations()))
def test_every_corpus_kustomization_is_rendered_or_refused(cli: Cli, directory: Path, shared_store: str) -> None:
    kubectl = shutil.which(os.environ.get("GUARDRAIL_KUBECTL") or "kubectl")
    if kubectl is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl not found: CI must render the corpus kustomizations")
        pytest.skip("kubectl not found on PATH")
    head = next(
        yaml.safe_load_all(next(directory / n for n in KUSTOMIZATIONS if (directory / n).is_file()).read_text())
    )
    result = judge(cli, directory, shared_store)
    if head.get("kind") == "Component":
        assert_refused(result, str(directory), "a kustomize Component")
        return
    rendered = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, check=False)
    if rendered.returncode != 0:
        assert_refused(result, str(directory), "kubectl kustomize failed")
        return
    documents = list(yaml.load_all(rendered.stdout, Loader=yaml.SafeLoader))
    assert first_refusal(documents) is None
    assert_verdict(result, sum(1 for _ in objects(documents)), str(directory))


def test_the_corpus_has_both_outcomes_and_the_known_traps(cli: Cli, shared_store: str) -> None:
    # Guards the tests above against passing vacuously.
    files = corpus_files()
    if not files:
        pytest.skip("Kubernetes corpus not found")
    assert len(files) >= 230
    refused = [p.name for p in files if first_refusal(list(yaml.safe_load_all(p.read_bytes()))) is not None]
    assert "patch-pdb-version.yaml" in refused  # a JSON 6902 patch: a list, not an object
    assert "kubent-tokenreview-v1beta1.yaml" in refused  # review objects have no name
    assert 15 <= len(refused) <= 30
    release = CORPUS_DIR / "kubernetes-manifests" / "metrics-server" / "manifests" / "overlays" / "release-ha-1.21+"
    doc = json.loads(judge(cli, release, shared_store).stdout)
    pdb = [c for c in doc["changes"] if c["type"] == "poddisruptionbudget.policy"]
    assert [c["address"] for c in pdb] == ["poddisruptionbudget.policy/kube-system/metrics-server"]

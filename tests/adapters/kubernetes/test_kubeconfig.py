"""Kubeconfig as kubectl reads it: the file given, else $KUBECONFIG's list, else ~/.kube/config."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from guardrail.adapters.kubernetes.kubeconfig import load_context
from guardrail.core.errors import BadInputError
from tests.adapters.kubernetes.conftest import kubeconfig_text


def _write(path: Path, server: str, context: str, *, current: bool = True, namespace: str = "default") -> Path:
    config = yaml.safe_load(kubeconfig_text(server, context=context, namespace=namespace))
    config["clusters"][0]["name"] = f"cluster-{context}"
    config["contexts"][0]["context"]["cluster"] = f"cluster-{context}"
    if not current:
        del config["current-context"]
    path.write_text(yaml.safe_dump(config))
    return path


def test_the_named_file_and_context(tmp_path: Path) -> None:
    path = _write(tmp_path / "config", "https://prod.example:6443", "prod", namespace="payments")
    context = load_context("prod", str(path), environ={})
    assert (context.name, context.configuration.host, context.namespace) == (
        "prod",
        "https://prod.example:6443",
        "payments",
    )
    assert context.files == (str(path),)


def test_a_missing_context_names_the_context_and_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "config", "https://prod.example:6443", "prod")
    with pytest.raises(BadInputError, match=rf"context 'staging' is not in kubeconfig {path}"):
        load_context("staging", str(path), environ={})


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"kubeconfig .*nowhere: no such file"):
        load_context(None, str(tmp_path / "nowhere"), environ={})


def test_kubeconfig_list_merges_first_wins_current_context_included(tmp_path: Path) -> None:
    first = _write(tmp_path / "a", "https://a.example", "a")
    second = _write(tmp_path / "b", "https://b.example", "b")
    environ = {"KUBECONFIG": os.pathsep.join([str(tmp_path / "absent"), str(first), str(second)])}
    # kubectl: the first file that sets current-context decides (the client library would take the last).
    assert load_context(None, None, environ=environ).name == "a"
    assert load_context("b", None, environ=environ).configuration.host == "https://b.example"


def test_kubeconfig_list_without_any_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"KUBECONFIG=.*none of its files exists"):
        load_context(None, None, environ={"KUBECONFIG": str(tmp_path / "absent")})


def test_the_home_kubeconfig_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(BadInputError, match=r"no kubeconfig: ~/.kube/config does not exist"):
        load_context(None, None, environ={})
    (tmp_path / ".kube").mkdir()
    _write(tmp_path / ".kube" / "config", "https://home.example", "home")
    assert load_context(None, None, environ={}).name == "home"


def test_no_current_context_asks_for_one(tmp_path: Path) -> None:
    path = _write(tmp_path / "config", "https://prod.example", "prod", current=False)
    with pytest.raises(BadInputError, match="no current-context is set; give --context"):
        load_context(None, str(path), environ={})


def test_a_file_that_is_not_yaml_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("clusters: [\n")
    with pytest.raises(BadInputError, match=rf"kubeconfig {path}: not a readable kubeconfig"):
        load_context(None, str(path), environ={})


def test_a_context_whose_cluster_is_missing_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "config", "https://prod.example", "prod")
    config = yaml.safe_load(path.read_text())
    config["clusters"] = []
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(BadInputError, match=rf"context 'prod' in kubeconfig {path}"):
        load_context("prod", str(path), environ={})

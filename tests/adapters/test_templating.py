"""Manifests rendered per cluster with jinja2: a value the fleet does not give is an error naming the
template and the cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardrail.adapters.templating import render_manifests
from guardrail.core.errors import BadInputError

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "telemetry-agent"
VALUES = {"image": "agent:2", "scrape_interval": "30s", "region": "eu-1", "environment": "prod"}


def test_the_telemetry_agent_renders_per_cluster() -> None:
    objects = render_manifests([TEMPLATES], VALUES, cluster="prod-eu-1")
    kinds = [o["kind"] for o in objects]
    assert kinds == ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet"]
    config = objects[4]["data"]["agent.yaml"]
    assert "cluster: prod-eu-1" in config
    assert "region: eu-1" in config
    container = objects[5]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "agent:2"


def test_an_undefined_value_names_the_template_and_the_cluster() -> None:
    values = {k: v for k, v in VALUES.items() if k != "region"}
    with pytest.raises(BadInputError) as refused:
        render_manifests([TEMPLATES], values, cluster="dev-1")
    message = str(refused.value)
    assert "10-configmap.yaml.j2" in message
    assert "cluster dev-1" in message
    assert "'region' is undefined" in message


def test_plain_yaml_and_errors_with_their_line(tmp_path: Path) -> None:
    plain = tmp_path / "a.yaml"
    plain.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n")
    assert render_manifests([plain], {}, cluster="c") == [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    ]
    broken = tmp_path / "b.yaml.j2"
    broken.write_text("kind: ConfigMap\nmetadata: {name: {{ name }}\n  bad: [\n")
    with pytest.raises(BadInputError, match=r"b\.yaml\.j2:\d+: invalid YAML for cluster c"):
        render_manifests([broken], {"name": "x"}, cluster="c")
    syntax = tmp_path / "c.yaml.j2"
    syntax.write_text("kind: ConfigMap\n{% if %}\n")
    with pytest.raises(BadInputError, match=r"c\.yaml\.j2:2: template syntax"):
        render_manifests([syntax], {}, cluster="c")
    with pytest.raises(BadInputError, match="no such manifest"):
        render_manifests([tmp_path / "missing"], {}, cluster="c")
    scalar = tmp_path / "d.yaml"
    scalar.write_text("just text\n")
    with pytest.raises(BadInputError, match="document 1 is not a Kubernetes object"):
        render_manifests([scalar], {}, cluster="c")

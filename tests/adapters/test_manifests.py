"""Manifest intake: every shape a PATH may have, the YAML 1.1 pitfalls, and every kind of bad input."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from guardrail.adapters.manifests.kustomize import kustomize_build
from guardrail.adapters.manifests.nodes import read_nodes
from guardrail.adapters.manifests.reading import read_manifests
from guardrail.adapters.manifests.yaml_documents import MAX_EXPANDED_VALUES, documents
from guardrail.core.errors import BadInputError
from guardrail.core.kube.render import ManifestDocument

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
"""


def no_stdin() -> bytes:
    raise AssertionError("standard input must not be read")


def never_kustomize(directory: Path) -> bytes:
    raise AssertionError(f"{directory} is not a kustomization")


def read(*paths: str | Path, recursive: bool = False, stdin: bytes | None = None) -> list[ManifestDocument]:
    source = (lambda: stdin) if stdin is not None else no_stdin
    return read_manifests([str(p) for p in paths], recursive=recursive, stdin=source, kustomize=never_kustomize)


def values(text: str) -> list[Any]:
    return [value for _, value in documents(text.encode())]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def find_kubectl() -> str:
    found = shutil.which(os.environ.get("GUARDRAIL_KUBECTL") or "kubectl")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl not found: CI must run the kustomize tests")
        pytest.skip("kubectl not found on PATH (set GUARDRAIL_KUBECTL to its path)")
    return found


# --- shapes ---------------------------------------------------------------------------------------------


def test_multi_document_file_skips_empty_documents_and_keeps_indices(tmp_path: Path) -> None:
    path = write(
        tmp_path / "all.yaml", f"---\n# only a comment\n---\n{DEPLOYMENT}---\n---\n{DEPLOYMENT.replace('web', 'api')}"
    )
    found = read(path)
    assert [(d.manifest["metadata"]["name"], d.index) for d in found] == [("web", 1), ("api", 3)]
    assert found[0].source == f"{path}#1"


def test_lists_are_expanded_and_typed_list_items_inherit_kind(tmp_path: Path) -> None:
    path = write(
        tmp_path / "lists.yaml",
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
        "- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n"
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleList\nitems:\n"
        "- {metadata: {name: reader, namespace: x}, rules: []}\n",
    )
    found = read(path)
    assert [(d.manifest["kind"], d.source) for d in found] == [
        ("ConfigMap", f"{path}#0.items[0]"),
        ("Secret", f"{path}#0.items[1]"),
        ("Role", f"{path}#1.items[0]"),
    ]
    assert found[2].manifest["apiVersion"] == "rbac.authorization.k8s.io/v1"


def test_directory_is_read_in_name_order_and_not_recursively_unless_asked(tmp_path: Path) -> None:
    write(tmp_path / "b.yaml", DEPLOYMENT.replace("web", "b"))
    write(tmp_path / "a.yml", DEPLOYMENT.replace("web", "a"))
    write(tmp_path / "c.json", '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}')
    write(tmp_path / "notes.txt", "not a manifest")
    write(tmp_path / "sub" / "d.yaml", DEPLOYMENT.replace("web", "d"))
    names = [d.manifest["metadata"]["name"] for d in read(tmp_path)]
    assert names == ["a", "b", "c"]
    names = [d.manifest["metadata"]["name"] for d in read(tmp_path, recursive=True)]
    assert names == ["a", "b", "c", "d"]


def test_standard_input_is_read_once(tmp_path: Path) -> None:
    found = read("-", stdin=DEPLOYMENT.encode())
    assert [d.source for d in found] == ["-#0"]
    with pytest.raises(BadInputError, match="read only once"):
        read("-", "-", stdin=DEPLOYMENT.encode())


def test_json_documents_and_streams(tmp_path: Path) -> None:
    single = write(tmp_path / "one.json", '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}')
    stream = write(
        tmp_path / "stream.json",
        '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}}\n'
        '---\n{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "c"}}\n',
    )
    assert [d.manifest["metadata"]["name"] for d in read(single, stream)] == ["a", "b", "c"]


def test_utf16_and_bom(tmp_path: Path) -> None:
    (tmp_path / "u16.yaml").write_bytes(DEPLOYMENT.encode("utf-16"))
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbf" + DEPLOYMENT.replace("web", "bom").encode())
    assert [d.manifest["metadata"]["name"] for d in read(tmp_path)] == ["bom", "web"]


def test_kustomization_directory_is_rendered_with_kubectl(tmp_path: Path) -> None:
    find_kubectl()
    write(tmp_path / "deploy.yaml", DEPLOYMENT)
    write(tmp_path / "kustomization.yaml", "resources: [deploy.yaml]\nnamePrefix: prod-\ncommonLabels: {tier: web}\n")
    found = read_manifests([str(tmp_path)], stdin=no_stdin, kustomize=kustomize_build)
    assert [d.manifest["metadata"]["name"] for d in found] == ["prod-web"]
    assert found[0].manifest["metadata"]["labels"] == {"tier": "web"}
    assert found[0].source == f"{tmp_path} (kustomize)#0"


def test_kustomize_failure_is_one_line_naming_the_directory(tmp_path: Path) -> None:
    find_kubectl()
    write(tmp_path / "kustomization.yaml", "resources: [missing.yaml]\n")
    with pytest.raises(BadInputError, match=rf"^{tmp_path}: kubectl kustomize failed: ") as refused:
        read_manifests([str(tmp_path)], stdin=no_stdin, kustomize=kustomize_build)
    assert "\n" not in str(refused.value)


def test_kustomize_component_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n")
    with pytest.raises(BadInputError, match="a kustomize Component"):
        read(tmp_path)


def test_kustomization_met_recursively_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", DEPLOYMENT)
    write(tmp_path / "overlay" / "kustomization.yml", "resources: []\n")
    assert len(read(tmp_path)) == 1  # not recursive: the overlay is not read at all
    with pytest.raises(BadInputError, match="kustomization inside a directory read recursively"):
        read(tmp_path, recursive=True)


# --- YAML 1.1 as kubectl reads it -----------------------------------------------------------------------


def test_timestamps_and_sexagesimals_stay_strings() -> None:
    assert values("created: 2020-09-04T19:51:38Z\nday: 2024-01-01\nport: 22:22\n") == [
        {"created": "2020-09-04T19:51:38Z", "day": "2024-01-01", "port": "22:22"}
    ]


def test_yaml11_scalars() -> None:
    parsed = values("a: yes\nb: off\nc: 0755\nd: 0x1f\ne: 1_000\nf: .inf\ng: ~\nh: 1.5\ni: 'yes'\n")
    assert parsed == [
        {"a": True, "b": False, "c": 493, "d": 31, "e": 1000, "f": float("inf"), "g": None, "h": 1.5, "i": "yes"}
    ]


def test_anchors_aliases_and_merge_keys() -> None:
    parsed = values("base: &b {cpu: 1, memory: 2}\nuse: *b\nmerged:\n  <<: *b\n  cpu: 4\n")
    assert parsed == [
        {"base": {"cpu": 1, "memory": 2}, "use": {"cpu": 1, "memory": 2}, "merged": {"cpu": 4, "memory": 2}}
    ]


def test_keys_that_are_not_strings_become_their_json_text() -> None:
    assert values("data:\n  1: a\n  true: b\n  ~: c\n") == [{"data": {"1": "a", "true": "b", "null": "c"}}]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: 1\nb: 2\na: 3\n", "key 'a' is given twice"),
        ("a: &x [1, *x]\n", "an alias refers to the value that contains it"),
        ("a: !!binary aGVsbG8=\n", "!!binary"),
        ("a: !Ref other\n", "unknown tag"),
        ("a: [1, 2\n", "invalid YAML"),
        ("a: {[1]: 2}\n", "a mapping or list used as a key"),
    ],
)
def test_bad_yaml_is_refused_with_its_document(text: str, problem: str) -> None:
    from guardrail.adapters.manifests.yaml_documents import DocumentError

    with pytest.raises(DocumentError, match=problem) as refused:
        values("ok: 1\n---\n" + text)
    assert refused.value.bad.index == 1


def test_billion_laughs_is_refused_quickly() -> None:
    from guardrail.adapters.manifests.yaml_documents import DocumentError

    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(10))}]" for i in range(1, 9)]
    with pytest.raises(DocumentError, match=f"past {MAX_EXPANDED_VALUES:,} values"):
        values("\n".join(lines) + "\n")


def test_deep_nesting_is_refused_not_a_crash() -> None:
    from guardrail.adapters.manifests.yaml_documents import DocumentError

    with pytest.raises(DocumentError, match=r"nested too deeply|invalid YAML"):
        values("a: " + "[" * 20000 + "]" * 20000 + "\n")


# --- bad input through the adapter: one line naming file and document -----------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "document 1: not an object but a list"),
        ("just text\n", "document 1: not an object but a string"),
        ("apiVersion: v1\nkind: List\nitems: [1]\n", "document 1: items[0] is not an object"),
        ("key: [unclosed\n", "document 1: invalid YAML"),
        ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n", "document 1: a kustomize Kustomization"),
    ],
)
def test_bad_documents_name_the_file_and_index(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "bad.yaml", DEPLOYMENT + "---\n" + text)
    with pytest.raises(BadInputError) as refused:
        read(path)
    assert str(refused.value).startswith(f"{path}: {message}")
    assert "\n" not in str(refused.value)


def test_json_with_a_key_twice_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "x.json", '{"apiVersion": "v1", "kind": "Namespace", "kind": "Secret"}')
    with pytest.raises(BadInputError, match=r"x.json: document 0: key 'kind' is given twice"):
        read(path)


def test_binary_garbage_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_bytes(b"\x00\x01\x02\xff\xfe garbage")
    with pytest.raises(BadInputError, match=r"x.yaml: document 0: invalid YAML"):
        read(tmp_path / "x.yaml")


def test_missing_path_and_empty_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such file or directory"):
        read(tmp_path / "absent.yaml")
    write(tmp_path / "empty.yaml", "---\n# nothing\n")
    with pytest.raises(BadInputError, match="no Kubernetes objects found"):
        read(tmp_path / "empty.yaml")


# --- node inventories -------------------------------------------------------------------------------------


def test_node_inventory_as_kubectl_prints_it(tmp_path: Path) -> None:
    path = write(
        tmp_path / "nodes.json",
        '{"apiVersion": "v1", "kind": "List", "items": ['
        '{"kind": "Node", "metadata": {"name": "n1", "labels": {"pool": "gpu"}},'
        ' "spec": {"taints": [{"key": "gpu", "effect": "NoSchedule"}]}},'
        '{"kind": "Node", "metadata": {"name": "n2"}}]}',
    )
    nodes = read_nodes(path)
    assert [n.name for n in nodes] == ["n1", "n2"]
    assert nodes[0].labels == {"pool": "gpu"}
    assert nodes[0].taints[0].key == "gpu"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"kind": "PodList", "items": []}', "a PodList, not a node list"),
        ('{"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "p"}}]}', r"items\[0\] is a Pod"),
        ('{"kind": "List", "items": [{"kind": "Node", "metadata": {}}]}', "a Node without metadata.name"),
        ("[1, 2]", "not a node list"),
        ("{not json or yaml: [", "invalid YAML"),
        ('{"items": [{"metadata": {"name": "n1"}}]}', ": a document without kind, not a node list"),
    ],
)
def test_bad_node_inventories(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "nodes.json", text)
    with pytest.raises(BadInputError, match=message):
        read_nodes(path)


def test_inputs_too_large_to_be_manifests_are_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guardrail.adapters.manifests import reading

    monkeypatch.setattr(reading, "MAX_INPUT_BYTES", 64)
    path = write(tmp_path / "huge.yaml", DEPLOYMENT)
    with pytest.raises(BadInputError, match=rf"huge.yaml: {len(DEPLOYMENT)} bytes, more than manifests can be \(64\)"):
        read(path)
    with pytest.raises(BadInputError, match="-: more than 64 bytes"):
        read("-", stdin=DEPLOYMENT.encode())

"""Plan intake from any path, with a recording TerraformRunner at guardrail's own port boundary.

Real terraform behind the same calls is exercised in test_terraform_real.py.
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from guardrail.adapters.terraform.intake import load_plan, read_plan_document
from guardrail.core.change import Action
from guardrail.core.errors import BadInputError
from guardrail.core.ports import OutputLine, TerraformRunner

PLAN = {
    "format_version": "1.2",
    "resource_changes": [
        {"address": "terraform_data.a", "type": "terraform_data", "name": "a", "change": {"actions": ["delete"]}}
    ],
}


class Recorder:
    """Answers like terraform would, and records what it was asked."""

    def __init__(self, shown: bytes = json.dumps(PLAN).encode(), *, write_plan: bool = True) -> None:
        self.shown = shown
        self.write_plan = write_plan
        self.calls: list[tuple[Any, ...]] = []

    def show_json(self, plan_file: Path, directory: Path | None = None) -> bytes:
        self.calls.append(("show", plan_file, directory, plan_file.exists()))
        return self.shown

    def plan(self, directory: Path, variables: Mapping[str, str], out: Path) -> None:
        self.calls.append(("plan", directory, dict(variables), out))
        if self.write_plan:
            out.write_bytes(b"PK\x03\x04 a binary plan")

    def state_pull(self, directory: Path) -> bytes:
        raise AssertionError("intake never reads the state")

    def apply_plan(self, directory: Path, plan_file: Path, on_line: Callable[[OutputLine], None] | None = None) -> str:
        raise AssertionError("intake never applies")


def never() -> TerraformRunner:
    raise AssertionError("terraform must not be asked for")


def test_json_file_needs_no_terraform_and_keeps_the_given_source(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(PLAN, indent=2))
    relative = Path(os.path.relpath(path))
    changeset = load_plan(relative, never).changeset
    assert changeset.source == str(relative)
    assert [(c.address, c.action) for c in changeset.changes] == [("terraform_data.a", Action.DELETE)]


def test_utf16_json_becomes_a_utf8_document(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(codecs.BOM_UTF16_LE + json.dumps(PLAN).encode("utf-16-le"))
    document = read_plan_document(path, never)
    assert json.loads(document.decode("utf-8")) == PLAN


def test_binary_plan_is_shown_in_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "plan.tfplan"
    path.write_bytes(b"PK\x03\x04 zipped plan")
    runner = Recorder()
    changeset = load_plan(path, lambda: runner).changeset
    assert runner.calls == [("show", path, tmp_path, True)]
    assert changeset.source == str(path)
    assert changeset.summary()["delete"] == 1


def test_directory_is_planned_into_a_temporary_file_that_is_removed(tmp_path: Path) -> None:
    (tmp_path / "main.tf.json").write_text("{}")
    runner = Recorder()
    changeset = load_plan(tmp_path, lambda: runner, {"region": "eu"}).changeset
    (planned, shown) = runner.calls
    assert planned[:3] == ("plan", tmp_path, {"region": "eu"})
    out = planned[3]
    assert shown == ("show", out, tmp_path, True)
    assert not out.exists(), "a binary plan holds secrets in clear: the temporary copy must go"
    assert changeset.source == str(tmp_path)


def test_directory_is_planned_into_out_as_an_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "main.tf").write_text("")
    monkeypatch.chdir(tmp_path)
    runner = Recorder()
    load_plan(Path("."), lambda: runner, out=Path("kept.tfplan"))
    assert runner.calls[0][3] == tmp_path / "kept.tfplan"
    assert (tmp_path / "kept.tfplan").is_file()


def test_plan_that_writes_no_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text("")
    with pytest.raises(BadInputError, match="wrote no plan file"):
        load_plan(tmp_path, lambda: Recorder(write_plan=False))


def test_stale_plan_at_out_never_passes_for_a_new_one(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text("")
    stale = tmp_path / "old.tfplan"
    stale.write_bytes(b"PK\x03\x04 last week's plan")
    with pytest.raises(BadInputError, match="wrote no plan file"):
        load_plan(tmp_path, lambda: Recorder(write_plan=False), out=stale)


def test_json_with_a_stray_byte_says_where(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(json.dumps(PLAN).encode().replace(b"terraform_data.a", b"terraform_data.\xe9"))
    with pytest.raises(BadInputError, match=r"plan\.json: not UTF-8 or UTF-16 text \(invalid .* at byte \d+\)"):
        load_plan(path, never)


def test_show_that_prints_no_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.tfplan"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(BadInputError, match=r"plan\.tfplan: terraform show -json did not print a JSON object"):
        load_plan(path, lambda: Recorder(b"Error: nope"))


def test_directory_without_configuration_is_refused_without_terraform(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no terraform here")
    (tmp_path / "modules.tf").mkdir()  # a folder named like a file does not count
    with pytest.raises(BadInputError, match=rf"^{tmp_path}: no Terraform configuration"):
        load_plan(tmp_path, never)


def test_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"absent\.json: no such file or directory"):
        load_plan(tmp_path / "absent.json", never)


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(PLAN))
    path.chmod(0)
    if os.access(path, os.R_OK):
        pytest.skip("running as a user who may read any file")
    with pytest.raises(BadInputError, match=r"plan\.json: cannot read it"):
        load_plan(path, never)


@pytest.mark.parametrize(
    "content",
    [b"", b"   \n", b'resource "terraform_data" "a" {}\n', b"[1, 2]", b"\xff\xd8\xff\xe0 a picture", b"PK\x05\x06"],
)
def test_anything_else_is_not_a_plan(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "input"
    path.write_bytes(content)
    with pytest.raises(BadInputError) as raised:
        load_plan(path, never)
    assert str(raised.value) == (
        f"{path}: not a Terraform plan: expected JSON from terraform show -json, a binary plan file, or a directory"
    )

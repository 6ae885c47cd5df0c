"""The plan-intake contract of DESIGN.md, one test per clause, on small plans written here."""

from __future__ import annotations

import codecs
import copy
import json
from typing import Any

import pytest

from guardrail.adapters.terraform.parse import parse_plan
from guardrail.core.change import Action, ChangeSet, ReplaceOrder
from guardrail.core.errors import BadInputError
from guardrail.core.values import Unknown, after_value

MASKED = "(sensitive value)"  # what every output shows in place of a value marked sensitive

SOURCE = "plans/prod-network.json"


def change(address: str, actions: list[str], **extra: Any) -> dict[str, Any]:
    """One resource_changes entry; `extra` goes into `change` (before, after, masks ...)."""
    kind, name = address.split(".")[-2:]
    body: dict[str, Any] = {"actions": actions, "before": None, "after": None, "after_unknown": {}, **extra}
    return {"address": address, "mode": "managed", "type": kind, "name": name, "change": body}


def plan(*changes: dict[str, Any], format_version: str = "1.2", **top: Any) -> dict[str, Any]:
    return {
        "format_version": format_version,
        "terraform_version": "1.11.4",
        "timestamp": "2025-01-01T00:00:00Z",
        "variables": {"region": {"value": "eu-west-1"}},
        "planned_values": {"root_module": {}},
        "resource_changes": list(changes),
        "output_changes": {},
        "configuration": {"root_module": {}},
        **top,
    }


def sample() -> dict[str, Any]:
    return plan(
        change("aws_vpc.main", ["update"], before={"cidr": "10.0.0.0/16"}, after={"cidr": "10.1.0.0/16"}),
        change("aws_subnet.a", ["create"], after={"cidr": "10.1.1.0/24"}, after_unknown={"id": True}),
        output_changes={"vpc_id": {"actions": ["update"], "before": "vpc-1", "after": "vpc-2"}},
    )


def parse(document: dict[str, Any] | list[Any], *, indent: int | None = None) -> ChangeSet:
    return parse_plan(json.dumps(document, indent=indent).encode(), SOURCE).changeset


def refused(data: bytes) -> str:
    with pytest.raises(BadInputError) as raised:
        parse_plan(data, SOURCE)
    message = str(raised.value)
    assert SOURCE in message, "a refusal must name the file"
    return message


# --- formats and encodings ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["0.1", "0.2", "1.0", "1.2"])
def test_reads_format_0x_and_1x(version: str) -> None:
    changeset = parse(plan(change("aws_vpc.main", ["delete"], before={"cidr": "10.0.0.0/16"}), format_version=version))
    assert changeset.format_version == version
    assert [(c.address, c.action) for c in changeset.changes] == [("aws_vpc.main", Action.DELETE)]


ENCODINGS = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8 with BOM": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-16 LE with BOM": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-16 BE with BOM": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    "utf-16 LE without BOM": lambda text: text.encode("utf-16-le"),
    "utf-16 BE without BOM": lambda text: text.encode("utf-16-be"),
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_reads_every_encoding_as_the_same_plan(encoding: str) -> None:
    document = sample()
    document["resource_changes"][0]["change"]["after"]["description"] = "réseau principal ✓"
    text = json.dumps(document, ensure_ascii=False)
    expected = parse_plan(text.encode("utf-8"), SOURCE).changeset
    changeset = parse_plan(ENCODINGS[encoding](text), SOURCE).changeset
    assert changeset.fingerprint == expected.fingerprint
    assert changeset.changes == expected.changes
    assert changeset.changes[0].after["description"] == "réseau principal ✓"


def test_document_is_utf8_whatever_the_input_encoding() -> None:
    text = json.dumps(sample())
    loaded = parse_plan(codecs.BOM_UTF16_LE + text.encode("utf-16-le"), SOURCE)
    assert json.loads(loaded.document.decode("utf-8")) == sample()


# --- refusals ----------------------------------------------------------------------------------------


def test_refuses_a_state_file() -> None:
    state = {"version": 4, "terraform_version": "1.11.4", "serial": 7, "lineage": "0b6f", "resources": []}
    assert "state file" in refused(json.dumps(state).encode())


def test_refuses_terraform_show_json_of_a_state() -> None:
    shown = {"format_version": "1.0", "terraform_version": "1.11.4", "values": {"root_module": {"resources": []}}}
    assert "state" in refused(json.dumps(shown).encode())


def test_refuses_json_that_is_not_a_plan() -> None:
    assert "not a Terraform plan" in refused(json.dumps({"name": "my-app", "version": "1.0.0"}).encode())


def test_refuses_a_json_array() -> None:
    assert "not a Terraform plan" in refused(json.dumps([sample()]).encode())


def test_refuses_an_unsupported_major_format() -> None:
    assert "unsupported plan format_version 2.0" in refused(json.dumps(plan(format_version="2.0")).encode())


def test_refuses_a_plan_that_errored() -> None:
    assert "errored" in refused(json.dumps({**sample(), "errored": True}).encode())


def test_refuses_an_unapplyable_plan_with_changes() -> None:
    assert "not applyable" in refused(json.dumps({**sample(), "applyable": False}).encode())


def test_accepts_an_unapplyable_plan_without_changes() -> None:
    # Terraform marks a plan that changes nothing applyable: false; there is nothing to refuse.
    quiet = plan(change("aws_vpc.main", ["no-op"], before={}, after={}), applyable=False)
    assert not parse(quiet).has_changes


@pytest.mark.parametrize("actions", [["delete", "delete"], ["explode"], [], ["create", "update"], "create"])
def test_refuses_an_unknown_action_list_naming_the_address(actions: Any) -> None:
    document = plan(change("aws_vpc.main", ["update"]), change("module.net.aws_subnet.b", ["create"]))
    document["resource_changes"][1]["change"]["actions"] = actions
    assert "module.net.aws_subnet.b" in refused(json.dumps(document).encode())


def test_refuses_invalid_json() -> None:
    assert "invalid JSON" in refused(json.dumps(sample()).encode()[:-3])


def test_refuses_binary_garbage() -> None:
    refused(bytes(range(256)) * 4)


def test_refuses_values_nested_deeper_than_any_plan() -> None:
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    document = json.dumps(plan(change("aws_vpc.main", ["update"]))).replace('"before": null', f'"before": {deep}')
    refused(document.encode())


# --- every change counted once -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actions", "order"),
    [
        (["delete", "create"], ReplaceOrder.DELETE_BEFORE_CREATE),
        (["create", "delete"], ReplaceOrder.CREATE_BEFORE_DESTROY),
    ],
)
def test_a_replace_is_one_change_with_its_order(actions: list[str], order: ReplaceOrder) -> None:
    replaced = change("aws_db_instance.main", actions, before={"engine": "postgres"}, after={"engine": "postgres"})
    replaced["action_reason"] = "replace_because_cannot_update"
    changeset = parse(plan(replaced))
    assert len(changeset.changes) == 1
    (only,) = changeset.changes
    assert (only.action, only.replace_order, only.action_reason) == (
        Action.REPLACE,
        order,
        "replace_because_cannot_update",
    )
    assert changeset.summary()["replace"] == 1
    assert changeset.summary()["delete"] == changeset.summary()["create"] == 0


@pytest.mark.parametrize("actions", [["forget"], ["create", "forget"]])
def test_forgets_are_one_forget(actions: list[str]) -> None:
    changeset = parse(plan(change("aws_s3_bucket.logs", actions, before={"bucket": "logs"})))
    assert [c.action for c in changeset.changes] == [Action.FORGET]
    assert changeset.summary()["forget"] == 1
    assert sum(changeset.summary().values()) == 1


def test_every_entry_becomes_exactly_one_change() -> None:
    lists = [["no-op"], ["create"], ["read"], ["update"], ["delete"], ["delete", "create"], ["create", "delete"]]
    lists += [["forget"], ["create", "forget"]]
    changeset = parse(plan(*(change(f"terraform_data.r{i}", actions) for i, actions in enumerate(lists))))
    assert [c.address for c in changeset.changes] == [f"terraform_data.r{i}" for i in range(len(lists))]
    assert changeset.summary() == {
        "delete": 1,
        "replace": 2,
        "forget": 2,
        "update": 1,
        "create": 1,
        "read": 1,
        "no-op": 1,
    }


# --- unknown and sensitive values --------------------------------------------------------------------


def test_after_unknown_is_kept_as_unknown_not_absent() -> None:
    unknown = {"id": True, "tags": {"owner": True}, "ports": [False, True]}
    created = change("aws_instance.web", ["create"], after={"tags": {"env": "prod"}, "ports": [22, None]})
    created["change"]["after_unknown"] = unknown
    (web,) = parse(plan(created)).changes
    assert web.after_unknown == unknown
    assert after_value(web.after, web.after_unknown, ("id",)) == Unknown(("id",))
    assert after_value(web.after, web.after_unknown, ("tags", "owner")) == Unknown(("tags", "owner"))
    assert after_value(web.after, web.after_unknown, ("ports", 1)) == Unknown(("ports", 1))
    assert after_value(web.after, web.after_unknown, ("tags", "env")) == "prod"


def test_sensitive_values_are_redacted_and_collected() -> None:
    secret_before, secret_after, nested = "old-pa55word", "new-pa55word", "tls-key-material"
    updated = change(
        "aws_db_instance.main",
        ["update"],
        before={"password": secret_before, "name": "main"},
        after={"password": secret_after, "name": "main", "certs": [{"key": nested, "cn": "db"}]},
        before_sensitive={"password": True},
        after_sensitive={"password": True, "certs": [{"key": True}]},
    )
    document = plan(
        updated,
        output_changes={
            "db_password": {
                "actions": ["update"],
                "before": "out-secret-1",
                "after": "out-secret-2",
                "before_sensitive": True,
                "after_sensitive": True,
            }
        },
        variables={"admin_token": {"value": "var-secret-token"}, "region": {"value": "eu-west-1"}},
        configuration={"root_module": {"variables": {"admin_token": {"sensitive": True}, "region": {}}}},
    )
    changeset = parse(document)
    (db,) = changeset.changes
    assert db.before == {"password": MASKED, "name": "main"}
    assert db.after == {
        "password": MASKED,
        "name": "main",
        "certs": [{"key": MASKED, "cn": "db"}],
    }
    secrets = {secret_before, secret_after, nested, "out-secret-1", "out-secret-2", "var-secret-token"}
    assert secrets <= changeset.sensitive_literals
    assert "eu-west-1" not in changeset.sensitive_literals
    shown = repr(changeset) + repr(changeset.changes) + repr(changeset.output_changes)
    for secret in secrets:
        assert secret not in shown
    assert changeset.output_changes[0].sensitive


# --- fingerprint -------------------------------------------------------------------------------------


def test_fingerprint_ignores_the_timestamp() -> None:
    later = {**sample(), "timestamp": "2031-06-30T23:59:59Z"}
    assert parse(later).fingerprint == parse(sample()).fingerprint


def test_fingerprint_ignores_formatting() -> None:
    assert parse(sample(), indent=4).fingerprint == parse(sample()).fingerprint


def _edit_address(doc: dict[str, Any]) -> None:
    doc["resource_changes"][0]["address"] = "aws_vpc.other"


def _edit_attribute(doc: dict[str, Any]) -> None:
    doc["resource_changes"][0]["change"]["after"]["cidr"] = "10.2.0.0/16"


def _edit_actions(doc: dict[str, Any]) -> None:
    doc["resource_changes"][0]["change"]["actions"] = ["delete", "create"]


def _edit_unknown(doc: dict[str, Any]) -> None:
    doc["resource_changes"][1]["change"]["after_unknown"] = {}


def _edit_reason(doc: dict[str, Any]) -> None:
    doc["resource_changes"][0]["action_reason"] = "replace_because_tainted"


def _edit_output(doc: dict[str, Any]) -> None:
    doc["output_changes"]["vpc_id"]["after"] = "vpc-3"


def _add_output(doc: dict[str, Any]) -> None:
    doc["output_changes"]["subnet_id"] = {"actions": ["create"], "before": None, "after": "subnet-1"}


def _edit_variable(doc: dict[str, Any]) -> None:
    doc["variables"]["region"]["value"] = "eu-west-2"


def _drop_change(doc: dict[str, Any]) -> None:
    del doc["resource_changes"][1]


@pytest.mark.parametrize(
    "edit",
    [
        _edit_address,
        _edit_attribute,
        _edit_actions,
        _edit_unknown,
        _edit_reason,
        _edit_output,
        _add_output,
        _edit_variable,
        _drop_change,
    ],
)
def test_fingerprint_changes_with_any_change_to_what_is_planned(edit: Any) -> None:
    edited = copy.deepcopy(sample())
    edit(edited)
    assert edited != sample()
    assert parse(edited).fingerprint != parse(sample()).fingerprint

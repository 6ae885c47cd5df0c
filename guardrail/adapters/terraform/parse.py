"""`terraform show -json` output -> ChangeSet, following the plan-intake contract of DESIGN.md."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import msgspec

from guardrail.adapters.terraform.encoding import to_utf8
from guardrail.adapters.terraform.sensitive import change_secrets, plan_secrets
from guardrail.core.blast.address import parse_instance
from guardrail.core.change import (
    Action,
    ChangeSet,
    OutputChange,
    ResourceChange,
    UnknownActionError,
    classify_actions,
    masked,
)
from guardrail.core.errors import BadInputError
from guardrail.core.fingerprint import fingerprint

SUPPORTED_MAJOR_FORMATS = ("0", "1")
_NULL = msgspec.Raw(b"null")


class _PlanDoc(msgspec.Struct):
    """The top level, each section left raw so it is decoded once, only when needed."""

    format_version: Any = None
    terraform_version: Any = None
    resource_changes: msgspec.Raw = _NULL
    output_changes: msgspec.Raw = _NULL
    variables: msgspec.Raw = _NULL
    configuration: msgspec.Raw = _NULL
    prior_state: msgspec.Raw = _NULL
    planned_values: msgspec.Raw = _NULL
    resource_drift: msgspec.Raw = _NULL
    relevant_attributes: msgspec.Raw = _NULL
    errored: Any = False
    applyable: Any = None
    # Keys of the other JSON documents Terraform writes, so a refusal can say what the file is.
    values: msgspec.Raw = _NULL
    lineage: Any = None
    serial: Any = None


@dataclass(frozen=True)
class LoadedPlan:
    """A parsed plan and its UTF-8 JSON text, which custom policies receive as their input."""

    changeset: ChangeSet
    document: bytes


@contextmanager
def _no_gc(freeze: bool) -> Iterator[None]:
    # Decoding builds millions of acyclic containers; the cyclic collector only slows that down (3x),
    # and freezing them afterwards keeps later collections from walking the whole plan again.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()


def parse_plan(data: bytes, source: str, *, freeze: bool = True) -> LoadedPlan:
    """Parse plan JSON bytes (UTF-8, UTF-8 with BOM or UTF-16); raise BadInputError naming `source`.

    `freeze` moves everything alive after the parse out of the cyclic collector's reach for good: right
    for a one-shot command, wrong for a long-running program that opens many plans (never freed).
    """
    try:
        text = to_utf8(data)
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{source}: not UTF-8 or UTF-16 text ({exc.reason} at byte {exc.start})") from None
    try:
        return _parse(text, source, freeze)
    except RecursionError:
        # Nesting deeper than any real plan: a crafted file must be refused, not crash the gate.
        raise BadInputError(f"{source}: not a Terraform plan (values nested too deeply)") from None


def _parse(text: bytes, source: str, freeze: bool) -> LoadedPlan:
    with _no_gc(freeze):
        doc = _decode(text, _PlanDoc, source, "")
        _check_is_plan(doc, source)
        changes = _resource_changes(doc.resource_changes, source)
        outputs = _decode(doc.output_changes, dict[str, Any] | None, source, "output_changes") or {}
        configuration = _decode(doc.configuration, dict[str, Any] | None, source, "configuration")
        prior_state = _decode(doc.prior_state, dict[str, Any] | None, source, "prior_state")
        variables = _decode(doc.variables, dict[str, Any] | None, source, "variables") or {}
        drift = _records(doc.resource_drift, source, "resource_drift")
        if doc.applyable is False and any(c.action not in (Action.NO_OP, Action.READ) for c in changes[0]):
            raise BadInputError(f"{source}: the plan is not applyable (terraform marked it applyable: false)")
        changeset = ChangeSet(
            source=source,
            fingerprint=_fingerprint(changes[1], outputs, variables),
            format_version=str(doc.format_version),
            terraform_version=doc.terraform_version if isinstance(doc.terraform_version, str) else None,
            changes=tuple(changes[0]),
            output_changes=_output_changes(outputs, source),
            sensitive_literals=plan_secrets(
                changes[2],
                outputs=outputs,
                variables=variables,
                configuration=configuration,
                prior_state=prior_state,
                drift=drift,
            ),
            configuration=configuration,
            prior_state=prior_state,
            resource_drift=drift,
            relevant_attributes=_records(doc.relevant_attributes, source, "relevant_attributes"),
        )
    return LoadedPlan(changeset, text)


def _decode(raw: bytes | msgspec.Raw, kind: Any, source: str, section: str) -> Any:
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        where = f" in {section}" if section else ""
        raise BadInputError(f"{source}: not a Terraform plan{where}: {exc}") from None
    except msgspec.DecodeError as exc:
        raise BadInputError(f"{source}: invalid JSON: {exc}") from None


def _records(raw: msgspec.Raw, source: str, section: str) -> tuple[dict[str, Any], ...]:
    items = _decode(raw, list[Any] | None, source, section) or []
    return tuple(item for item in items if isinstance(item, dict))


def _check_is_plan(doc: _PlanDoc, source: str) -> None:
    if doc.format_version is None:
        if doc.lineage is not None or doc.serial is not None:
            raise BadInputError(f"{source}: this is a Terraform state file, not a plan")
        raise BadInputError(f"{source}: not a Terraform plan (no format_version; expected terraform show -json)")
    if not isinstance(doc.format_version, str):
        raise BadInputError(f"{source}: not a Terraform plan (format_version is not a string)")
    is_plan = any(
        section is not _NULL and bytes(section) != b"null"
        for section in (doc.resource_changes, doc.planned_values, doc.configuration, doc.output_changes)
    )
    if not is_plan:
        if bytes(doc.values) != b"null":
            raise BadInputError(f"{source}: this is Terraform state (terraform show -json of a state), not a plan")
        raise BadInputError(f"{source}: not a Terraform plan (no resource_changes, planned_values or configuration)")
    major = doc.format_version.split(".", 1)[0]
    if major not in SUPPORTED_MAJOR_FORMATS:
        raise BadInputError(
            f"{source}: unsupported plan format_version {doc.format_version} (guardrail reads 0.x and 1.x)"
        )
    if doc.errored is True:
        raise BadInputError(f"{source}: the plan errored (terraform could not finish planning); fix the errors first")


def _resource_changes(raw: msgspec.Raw, source: str) -> tuple[list[ResourceChange], bytes, list[Any]]:
    """The changes, their canonical bytes for the fingerprint, and the sensitive scalars they hold."""
    items = _decode(raw, list[dict[str, Any]] | None, source, "resource_changes") or []
    changes: list[ResourceChange] = []
    secrets: list[Any] = []
    for position, item in enumerate(items):
        changes.append(_resource_change(item, position, source, secrets))
    return changes, msgspec.json.encode(items, order="sorted"), secrets


def _resource_change(item: dict[str, Any], position: int, source: str, secrets: list[Any]) -> ResourceChange:
    address = item.get("address")
    change = item.get("change")
    where = f"{source}: resource_changes[{position}]"
    if not isinstance(address, str) or not address:
        raise BadInputError(f"{where}: missing address")
    if not isinstance(change, dict) or not isinstance(change.get("actions"), list):
        raise BadInputError(f"{where} ({address}): missing change.actions")
    try:
        action, order = classify_actions(change["actions"])
    except UnknownActionError as exc:
        raise BadInputError(f"{where} ({address}): {exc}") from None
    before, after = change.get("before"), change.get("after")
    before_sensitive, after_sensitive = change.get("before_sensitive"), change.get("after_sensitive")
    secrets.extend(change_secrets(change))
    shown_before, shown_after, concealed = masked(before, before_sensitive, after, after_sensitive)
    return ResourceChange(
        address=address,
        type=_text(item.get("type")) or _type_from_address(address),
        name=_text(item.get("name")),
        action=action,
        actions=tuple(change["actions"]),
        mode=_text(item.get("mode")) or "managed",
        module_address=item.get("module_address") if isinstance(item.get("module_address"), str) else None,
        previous_address=item.get("previous_address") if isinstance(item.get("previous_address"), str) else None,
        index=item.get("index"),
        provider_name=_text(item.get("provider_name")),
        deposed=item.get("deposed") if isinstance(item.get("deposed"), str) else None,
        replace_order=order,
        action_reason=item.get("action_reason") if isinstance(item.get("action_reason"), str) else None,
        replace_paths=_paths(change.get("replace_paths")),
        before=shown_before,
        after=shown_after,
        after_unknown=change.get("after_unknown"),
        before_sensitive=before_sensitive,
        after_sensitive=after_sensitive,
        concealed=concealed,
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _type_from_address(address: str) -> str:
    parsed = parse_instance(address)
    return parsed.type if parsed is not None else ""


def _paths(value: Any) -> tuple[tuple[str | int, ...], ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        tuple(step for step in path if isinstance(step, str | int)) for path in value if isinstance(path, list)
    )


def _output_changes(outputs: dict[str, Any], source: str) -> tuple[OutputChange, ...]:
    result = []
    for name, body in sorted(outputs.items()):
        actions = body.get("actions") if isinstance(body, dict) else None
        if not isinstance(actions, list):
            raise BadInputError(f"{source}: output_changes.{name}: missing actions")
        try:
            action, _ = classify_actions(actions)
        except UnknownActionError as exc:
            raise BadInputError(f"{source}: output_changes.{name}: {exc}") from None
        sensitive = bool(body.get("before_sensitive") or body.get("after_sensitive"))
        result.append(OutputChange(name, action, sensitive))
    return tuple(result)


def _fingerprint(changes: bytes, outputs: dict[str, Any], variables: dict[str, Any]) -> str:
    # Canonical (sorted-key, compact) JSON: a byte-identical re-plan, or the same plan pretty-printed,
    # has the same fingerprint; top-level fields such as `timestamp` are deliberately left out.
    return fingerprint(
        [
            ("resource_changes", changes),
            ("output_changes", msgspec.json.encode(outputs, order="sorted")),
            ("variables", msgspec.json.encode(variables, order="sorted")),
        ]
    )

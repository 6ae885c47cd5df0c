"""Where a plan keeps the values it marks sensitive, gathered so that messages can be scrubbed of them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from guardrail.core.secrets import literal_secrets
from guardrail.core.values import sensitive_leaves


def plan_secrets(
    changes: Iterable[Any],
    *,
    outputs: dict[str, Any],
    variables: dict[str, Any],
    configuration: dict[str, Any] | None,
    prior_state: dict[str, Any] | None,
    drift: Sequence[Mapping[str, Any]],
) -> frozenset[str]:
    """Every sensitive literal of a plan: those of its resource changes (`changes`, already gathered), its
    outputs, its variables declared sensitive, its prior state and its drift records."""
    return literal_secrets(
        [
            *changes,
            *_output_secrets(outputs),
            *_variable_secrets(variables, configuration),
            *_state_secrets(prior_state),
            *(leaf for record in drift for leaf in change_secrets(record.get("change"))),
        ]
    )


def change_secrets(change: Any) -> Iterator[Any]:
    """The sensitive scalars of a `change` object (a resource change or a drift record)."""
    if isinstance(change, dict):
        yield from sensitive_leaves(change.get("before"), change.get("before_sensitive"))
        yield from sensitive_leaves(change.get("after"), change.get("after_sensitive"))


def _state_secrets(prior_state: dict[str, Any] | None) -> Iterator[Any]:
    """What the prior state marks sensitive: resource values under `sensitive_values`, sensitive outputs.

    (`planned_values` is not read: it repeats the `after` of resource_changes and output_changes.)
    """
    values = prior_state.get("values") if isinstance(prior_state, dict) else None
    if not isinstance(values, dict):
        return
    outputs = values.get("outputs")
    for body in outputs.values() if isinstance(outputs, dict) else ():
        if isinstance(body, dict) and body.get("sensitive") is True:
            yield from sensitive_leaves(body.get("value"), True)
    pending = [values.get("root_module")]
    while pending:
        module = pending.pop()
        if not isinstance(module, dict):
            continue
        resources = module.get("resources")
        for resource in resources if isinstance(resources, list) else ():
            if isinstance(resource, dict):
                yield from sensitive_leaves(resource.get("values"), resource.get("sensitive_values"))
        children = module.get("child_modules")
        if isinstance(children, list):
            pending.extend(children)


def _output_secrets(outputs: dict[str, Any]) -> Iterator[Any]:
    for body in outputs.values():
        if isinstance(body, dict):
            yield from sensitive_leaves(body.get("before"), body.get("before_sensitive"))
            yield from sensitive_leaves(body.get("after"), body.get("after_sensitive"))


def _variable_secrets(variables: dict[str, Any], configuration: dict[str, Any] | None) -> Iterator[Any]:
    """Values of variables the configuration declares `sensitive = true`."""
    root = (configuration or {}).get("root_module")
    declared = (root.get("variables") if isinstance(root, dict) else None) or {}
    for name, decl in declared.items() if isinstance(declared, dict) else ():
        if isinstance(decl, dict) and decl.get("sensitive") is True:
            body = variables.get(name)
            if isinstance(body, dict):
                yield from sensitive_leaves(body.get("value"), True)

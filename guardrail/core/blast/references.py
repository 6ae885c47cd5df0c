"""What each block of one module body refers to, relative to that module.

A summary depends only on the module body, so module calls that carry the same module (two hundred
instances of one stack module, say) share one summary: the plan is read once per distinct module, not once per
call.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from guardrail.core.blast.address import steps

# A dependency relative to the module that holds the reference:
#   ("r", block)         a resource block of this module ("aws_x.y", "data.aws_x.y")
#   ("v", name)          input variable `name` of this module (set by the caller)
#   ("o", child, name)   output `name` of child module call `child`
#   ("O", child)         every output of `child` (the module object used as a whole)
#   ("c", child)         every resource inside `child` and its descendants (`depends_on = [module.child]`)
Rel = tuple[str, ...]

_NO_DEPENDENCY_ROOTS = frozenset({"each", "count", "path", "terraform", "self"})
LOCALS_REASON = "local values are not described in the plan's configuration"


@dataclass
class CallSummary:
    """A module call as its caller sees it: what sets each input, and what every resource inside inherits."""

    body: Any  # the child module's configuration
    inputs: dict[str, frozenset[Rel]] = field(default_factory=dict)
    inherited: frozenset[Rel] = frozenset()  # the call's depends_on, count and for_each


@dataclass
class ModuleSummary:
    """The references of one module body; see Rel for the shapes of dependencies."""

    resources: list[tuple[str, frozenset[Rel]]] = field(default_factory=list)
    outputs: dict[str, frozenset[Rel]] = field(default_factory=dict)
    calls: dict[str, CallSummary] = field(default_factory=dict)
    unresolved: list[tuple[str, str, str]] = field(default_factory=list)  # (relative where, reference, reason)


def expression_references(node: Any) -> Iterator[list[str]]:
    """The `references` list of every expression under `node` (nested blocks included), one list each.

    Constant values are not walked: a literal JSON document may contain a key called "references".
    """
    if isinstance(node, dict):
        refs = node.get("references")
        if isinstance(refs, list):
            yield [r for r in refs if isinstance(r, str)]
            return
        if "constant_value" in node and len(node) == 1:
            return
        for value in node.values():
            if isinstance(value, dict | list):
                yield from expression_references(value)
    elif isinstance(node, list):
        for item in node:
            yield from expression_references(item)


def resources_of(module: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(address relative to its module, body) of each resource block a module body declares."""
    found = module.get("resources") if isinstance(module, dict) else None
    for body in found if isinstance(found, list) else ():
        if not isinstance(body, dict):
            continue
        address = body.get("address")
        if not isinstance(address, str):
            kind, name = body.get("type"), body.get("name")
            if not isinstance(kind, str) or not isinstance(name, str):
                continue
            address = f"data.{kind}.{name}" if body.get("mode") == "data" else f"{kind}.{name}"
        yield address, body


def strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def summarise(module: Any) -> ModuleSummary:
    """Every reference of a module body, relative to it; malformed parts are skipped, never raised on."""
    summary = ModuleSummary()
    if not isinstance(module, dict):
        return summary
    blocks = {address for address, _ in resources_of(module)}
    raw_calls = module.get("module_calls")
    calls = {n: c for n, c in raw_calls.items() if isinstance(c, dict)} if isinstance(raw_calls, dict) else {}
    scope = _Scope(blocks, calls, summary.unresolved)
    for address, body in resources_of(module):
        found: set[Rel] = set()
        for key in ("expressions", "count_expression", "for_each_expression", "provisioners"):
            for refs in expression_references(body.get(key)):
                found |= scope.resolve(refs, address)
        found |= scope.resolve(strings(body.get("depends_on")), address, depends_on=True)
        summary.resources.append((address, frozenset(found)))
    outputs = module.get("outputs")
    for name, output in outputs.items() if isinstance(outputs, dict) else ():
        where = f"output.{name}"
        found = set()
        if isinstance(output, dict):
            for refs in expression_references(output.get("expression")):
                found |= scope.resolve(refs, where)
            found |= scope.resolve(strings(output.get("depends_on")), where, depends_on=True)
        summary.outputs[name] = frozenset(found)
    for name, call in calls.items():
        where = f"module.{name}"
        inputs: dict[str, frozenset[Rel]] = {}
        expressions = call.get("expressions")
        for var, expression in expressions.items() if isinstance(expressions, dict) else ():
            found = set()
            for refs in expression_references(expression):
                found |= scope.resolve(refs, where)
            inputs[var] = frozenset(found)
        inherited = scope.resolve(strings(call.get("depends_on")), where, depends_on=True)
        for key in ("count_expression", "for_each_expression"):
            for refs in expression_references(call.get(key)):
                inherited |= scope.resolve(refs, where)
        summary.calls[name] = CallSummary(call.get("module"), inputs, frozenset(inherited))
    return summary


@dataclass
class _Scope:
    blocks: set[str]
    calls: dict[str, dict[str, Any]]
    unresolved: list[tuple[str, str, str]]

    def resolve(self, refs: list[str], where: str, depends_on: bool = False) -> set[Rel]:
        """One expression's references (or one depends_on list) as relative dependencies."""
        found: set[Rel] = set()
        parsed = [steps(ref) for ref in refs]
        # Terraform lists `module.x.out` together with `module.x`: the bare form only means "every output"
        # when the expression names no output of that module.
        named = {s[1].name for s in parsed if len(s) >= 3 and s[0].name == "module"}
        for ref, parts in zip(refs, parsed, strict=True):
            if len(parts) < 2 or parts[0].name in _NO_DEPENDENCY_ROOTS:
                continue
            root, name = parts[0].name, parts[1].name
            if root == "var":
                found.add(("v", name))
            elif root == "local":
                self.unresolved.append((where, ref, LOCALS_REASON))
            elif root == "module":
                found |= self._module(ref, parts, where, depends_on, named)
            elif root in ("data", "ephemeral"):
                if len(parts) < 3:
                    self.unresolved.append((where, ref, "not a resource reference"))
                elif root == "data":
                    self._block(f"data.{name}.{parts[2].name}", ref, where, found)
            else:
                self._block(f"{root}.{name}", ref, where, found)
        return found

    def _block(self, block: str, ref: str, where: str, found: set[Rel]) -> None:
        if block in self.blocks:
            found.add(("r", block))
        else:
            self.unresolved.append((where, ref, "no such resource in the configuration"))

    def _module(self, ref: str, parts: tuple[Any, ...], where: str, depends_on: bool, named: set[str]) -> set[Rel]:
        child = parts[1].name
        call = self.calls.get(child)
        if call is None:
            self.unresolved.append((where, ref, "no such module call"))
            return set()
        if depends_on:
            return {("c", child)}
        if len(parts) >= 3:
            body = call.get("module")
            outputs = body.get("outputs") if isinstance(body, dict) else None
            if not isinstance(outputs, dict) or parts[2].name not in outputs:
                # Older plans omit outputs: depending on the whole module over-approximates, safely.
                self.unresolved.append((where, ref, "no such output"))
                return {("c", child)}
            return {("o", child, parts[2].name)}
        return set() if child in named else {("O", child)}

"""Which rules are decisions, the one query that evaluates them, and how their values become findings.

conftest's conventions: in each selected namespace (package), `deny`, `violation` and their `deny_*`,
`violation_*` forms deny; `warn` and `warn_*` warn. guardrail adds `require_approval` and
`require_approval_*`: the change may go ahead once a person approves it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from guardrail.adapters.rego.loading import ModuleInfo
from guardrail.core.errors import PolicyError
from guardrail.core.verdict import Enforcement, Finding

_KINDS: tuple[tuple[re.Pattern[str], Enforcement], ...] = (
    (re.compile(r"^(deny|violation)(_[a-zA-Z0-9]+)*$"), Enforcement.HARD),
    (re.compile(r"^require_approval(_[a-zA-Z0-9]+)*$"), Enforcement.SOFT),
    (re.compile(r"^warn(_[a-zA-Z0-9]+)*$"), Enforcement.ADVISORY),
)


def enforcement_of(rule: str) -> Enforcement | None:
    """The weight of a rule by its name, or None for a helper rule that decides nothing."""
    return next((level for pattern, level in _KINDS if pattern.match(rule)), None)


@dataclass(frozen=True, slots=True)
class DecisionRule:
    """A rule whose value becomes findings."""

    namespace: tuple[str, ...]
    name: str
    enforcement: Enforcement
    source: str  # the file(s) that define it

    @property
    def rule_id(self) -> str:
        return f"rego:{'.'.join(self.namespace)}.{self.name}"

    @property
    def ref(self) -> str:
        # Bracketed strings are valid for any package name, even one that is not an identifier.
        return "data" + "".join(f"[{json.dumps(part)}]" for part in (*self.namespace, self.name))


@dataclass(frozen=True, slots=True)
class Selection:
    """The decision rules to evaluate, and which files declare each selected namespace."""

    rules: tuple[DecisionRule, ...]
    files_of: dict[tuple[str, ...], tuple[str, ...]]

    def query(self) -> str:
        """One query for every rule: a comprehension per rule, so an undefined rule is `[]`, not a failure
        of the whole query, and rules share what they compute (`changes := ...` runs once)."""
        return "[" + ", ".join(f"[v | v := {rule.ref}]" for rule in self.rules) + "]"

    def namespace_of_file(self, name: str | None) -> tuple[str, ...] | None:
        return next((ns for ns, files in self.files_of.items() if name in files), None)


def select(modules: Sequence[ModuleInfo], namespaces: Sequence[str], all_namespaces: bool) -> Selection:
    """The decision rules of the selected namespaces.

    Fails closed: raises PolicyError for a namespace that no file declares (a typo must not pass), and for
    a namespace asked for by name that has no decision rule at all (a misnamed `denied` rule would
    otherwise pass everything).
    """
    files_of: dict[tuple[str, ...], list[str]] = {}
    rule_files: dict[tuple[str, ...], dict[str, list[str]]] = {}
    for module in modules:
        files_of.setdefault(module.package, []).append(module.name)
        for rule in module.rules:
            rule_files.setdefault(module.package, {}).setdefault(rule, []).append(module.name)
    if not files_of:
        return Selection((), {})  # no policy configured: nothing to evaluate, nothing to get wrong
    if all_namespaces:
        wanted = sorted(files_of)
    else:
        wanted = [tuple(ns.split(".")) for ns in namespaces]
        missing = [".".join(ns) for ns in wanted if ns not in files_of]
        if missing:
            declared = ", ".join(sorted(".".join(ns) for ns in files_of)) or "none"
            raise PolicyError(
                f"no policy declares namespace {', '.join(missing)} (packages declared: {declared}); "
                "name one with --namespace or use --all-namespaces"
            )
    selected: list[DecisionRule] = []
    for ns in dict.fromkeys(wanted):
        found = [
            DecisionRule(ns, name, level, ", ".join(sorted(set(files))))
            for name, files in sorted(rule_files.get(ns, {}).items())
            if (level := enforcement_of(name)) is not None
        ]
        if not found and not all_namespaces:
            raise PolicyError(
                f"namespace {'.'.join(ns)} ({', '.join(files_of[ns])}) has no deny, violation, warn or "
                "require_approval rule"
            )
        selected.extend(found)
    if not selected:
        raise PolicyError("no policy has a deny, violation, warn or require_approval rule")
    return Selection(tuple(selected), {ns: tuple(files) for ns, files in files_of.items()})


def to_findings(rules: Sequence[DecisionRule], values: Sequence[Any]) -> list[Finding]:
    """Findings from the query's value: for each rule, the list of its values (empty when undefined)."""
    if len(values) != len(rules):
        raise PolicyError(f"Rego evaluation returned {len(values)} results for {len(rules)} rules")
    findings: list[Finding] = []
    for rule, defined in zip(rules, values, strict=True):
        for value in defined:
            findings.extend(_findings_of(rule, value))
    return findings


def _findings_of(rule: DecisionRule, value: Any) -> Iterable[Finding]:
    """conftest's result shapes, and single values too; anything else is an error, never a pass."""
    if value is False:
        return []
    if value is True:
        # conftest would ignore a boolean `deny if ...`: a rule that holds is a finding.
        return [Finding(rule.rule_id, rule.enforcement, None, f"{rule.rule_id} holds", source=rule.source)]
    if isinstance(value, list):  # a set or an array of results
        return [_one(rule, item) for item in value]
    return [_one(rule, value)]


def _one(rule: DecisionRule, item: Any) -> Finding:
    address: str | None = None
    if isinstance(item, str):
        message = item
    elif isinstance(item, dict) and isinstance(item.get("msg"), str):
        message = item["msg"]
        found = item.get("address", item.get("resource"))
        address = found if isinstance(found, str) and found else None
    else:
        # Name the shape only: the value may hold a sensitive plan value, and errors are not scrubbed.
        raise PolicyError(
            f'{rule.rule_id} ({rule.source}): a result must be a string or an object with a string "msg", '
            f"got {_shape(item)}"
        )
    return Finding(rule.rule_id, rule.enforcement, address, message or rule.rule_id, source=rule.source)


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        hint = " (`deny[msg] if` builds an object: write `deny contains msg if`)"
        return 'an object without a string "msg"' + (hint if value and all(v is True for v in value.values()) else "")
    if isinstance(value, list):
        return "a nested list"
    return "null" if value is None else f"a {type(value).__name__.replace('float', 'number').replace('int', 'number')}"

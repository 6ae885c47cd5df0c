"""Terraform addresses and references, split into their steps without being fooled by quoted keys.

An instance key may hold dots and brackets (`module.a["x.y"].aws_s3_bucket.b["[1]"]`), so addresses are
tokenised rather than split on ".".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class Step:
    """One step of an address or reference: a name and the instance key after it, verbatim (`0`, `"k"`)."""

    name: str
    key: str | None = None

    def __str__(self) -> str:
        return self.name if self.key is None else f"{self.name}[{self.key}]"


def steps(text: str) -> tuple[Step, ...]:
    """Split `text` on the dots that are outside instance keys; `a.b[0].c` -> a, b[0], c."""
    if "[" not in text:
        return tuple(Step(part) for part in text.split(".") if part)
    # One key closing the text (a for_each or count instance of a root module resource, the usual keyed
    # address) with nothing in it that could hide a bracket: split in place, rather than character by
    # character, which a plan of ten thousand such instances feels.
    head, _, rest = text.partition("[")
    key = rest[:-1]
    if rest.endswith("]") and key.count('"') % 2 == 0 and "[" not in key and "]" not in key and "\\" not in key:
        *names, last = head.split(".")
        return (*(Step(name) for name in names if name), Step(last, key))
    return _steps_slow(text)


@lru_cache(maxsize=4096)
def _steps_slow(text: str) -> tuple[Step, ...]:
    result: list[Step] = []
    name: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == ".":
            if name:
                result.append(Step("".join(name)))
                name = []
            i += 1
        elif char == "[":
            end = _closing_bracket(text, i)
            result.append(Step("".join(name), text[i + 1 : end]))
            name = []
            i = end + 1
        else:
            name.append(char)
            i += 1
    if name:
        result.append(Step("".join(name)))
    return tuple(result)


def _closing_bracket(text: str, start: int) -> int:
    """Index of the `]` closing the `[` at start, skipping quoted strings and their escapes."""
    i, quoted = start + 1, False
    while i < len(text):
        char = text[i]
        if quoted and char == "\\":
            i += 2
            continue
        if char == '"':
            quoted = not quoted
        elif char == "]" and not quoted:
            return i
        i += 1
    return len(text)  # unbalanced: the key runs to the end rather than raising on odd input


class InstanceAddress(NamedTuple):
    """A resource instance address split into its module instances and the resource in the innermost one.

    A named tuple rather than a frozen dataclass: every address of a plan is parsed, and building one is
    several times cheaper.
    """

    modules: tuple[str, ...]  # module instances from the root, verbatim: ("a[0]", "b")
    module_names: tuple[str, ...]  # the same without instance keys: ("a", "b")
    resource: str  # "type.name" or "data.type.name"
    key: str | None  # the resource's own count index or for_each key, verbatim
    config: str  # the address of the resource block: every instance key dropped (`module.a.aws_x.y`)

    @property
    def type(self) -> str:
        """The resource type: `aws_s3_bucket` of `module.a["x.y"].aws_s3_bucket.b[0]` and `data.aws_s3_bucket.b`."""
        return self.resource.split(".")[-2]

    @property
    def name(self) -> str:
        """The resource's name in its block, without instance key: `b` of `aws_s3_bucket.b["k"]`."""
        return self.resource.rsplit(".", 1)[-1]

    @property
    def is_data(self) -> bool:
        """A data source (or an ephemeral resource): read, never managed."""
        return self.resource.startswith(("data.", "ephemeral."))


_DATA_STEPS = (Step("data"), Step("ephemeral"))


def parse_instance(address: str) -> InstanceAddress | None:
    """Parse a resource instance address; None when it is not one (a module or a malformed string)."""
    if "[" not in address:
        # The common case, split in place: cheaper to redo than to keep an entry per address of a plan.
        parts = address.split(".")
        i = 0
        while i + 1 < len(parts) and parts[i] == "module":
            i += 2
        names = tuple(parts[1:i:2])
        rest = parts[i:]
        if (len(rest) == 3 and rest[0] in ("data", "ephemeral")) or len(rest) == 2:
            return InstanceAddress(names, names, ".".join(rest), None, address)
        return None
    return _parse_keyed(address)


@lru_cache(maxsize=65536)
def _parse_keyed(address: str) -> InstanceAddress | None:
    found = steps(address)
    modules: list[Step] = []
    i = 0
    while i + 1 < len(found) and found[i].name == "module" and found[i].key is None:
        modules.append(found[i + 1])
        i += 2
    rest_steps = found[i:]
    instances = tuple(str(m) for m in modules)
    names = tuple(m.name for m in modules)
    if len(rest_steps) == 3 and rest_steps[0] in _DATA_STEPS and rest_steps[1].key is None:
        resource = f"{rest_steps[0].name}.{rest_steps[1].name}.{rest_steps[2].name}"
        return InstanceAddress(instances, names, resource, rest_steps[2].key, module_prefix(names) + resource)
    if len(rest_steps) == 2 and rest_steps[0].key is None:
        resource = f"{rest_steps[0].name}.{rest_steps[1].name}"
        return InstanceAddress(instances, names, resource, rest_steps[1].key, module_prefix(names) + resource)
    return None


def config_address(address: str) -> str:
    """The resource block an address belongs to (instance keys dropped); the input when it is not an address."""
    parsed = parse_instance(address)
    return parsed.config if parsed is not None else address


@lru_cache(maxsize=4096)
def module_prefix(modules: tuple[str, ...]) -> str:
    """`("a", "b")` -> `"module.a.module.b."`: what a resource address in that module starts with."""
    return "".join(f"module.{name}." for name in modules)

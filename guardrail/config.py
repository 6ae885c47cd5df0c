"""guardrail.yaml: the settings of a repository, validated with pydantic.

Unknown keys and bad values are refused with the file and line, so a typo never silently disables a
protection (`protcet:` would otherwise mean "nothing is protected").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from guardrail.core.change import Action
from guardrail.core.errors import ConfigError
from guardrail.core.matching import Selector
from guardrail.core.rules.protection import Protection
from guardrail.core.verdict import Enforcement

DEFAULT_CONFIG_NAME = "guardrail.yaml"
EnforcementName = Literal["hard", "soft", "advisory"]
ActionName = Literal["create", "update", "delete", "replace", "forget", "read"]
_DESTRUCTIVE_ACTIONS: tuple[ActionName, ...] = ("delete", "replace", "forget")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProtectEntry(_Strict):
    """Resources guarded against destructive actions, whatever the .tf code says."""

    types: list[str] = Field(default_factory=list, description="Resource types, e.g. aws_eks_cluster.")
    addresses: list[str] = Field(
        default_factory=list, description='Globs on the resource address, e.g. "module.prod_*.*".'
    )
    tags: dict[str, str] = Field(
        default_factory=dict, description="Tags or labels the resource carries before or after the change."
    )
    actions: list[ActionName] = Field(
        default_factory=lambda: list(_DESTRUCTIVE_ACTIONS),
        description="Actions that are guarded (default: delete, replace, forget).",
    )
    enforcement: EnforcementName = Field("hard", description="hard (deny), soft (approval) or advisory.")
    reason: str = Field("", description="Why: shown in every finding.")

    @field_validator("tags", mode="before")
    @classmethod
    def _tags_as_text(cls, value: Any) -> Any:
        # YAML reads `env: 1` or `critical: true` as numbers and booleans; tags are strings in every provider.
        if isinstance(value, dict):
            return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}
        return value

    def to_protection(self) -> Protection:
        if not (self.types or self.addresses or self.tags):
            raise ValueError("needs at least one of types, addresses or tags")
        return Protection(
            Selector(frozenset(self.types), tuple(self.addresses), dict(self.tags)),
            frozenset(Action(a) for a in self.actions),
            Enforcement(self.enforcement),
            self.reason,
        )


class StatefulSettings(_Strict):
    """Deleting or replacing databases, buckets, disks, key vaults and clusters."""

    enabled: bool = Field(True, description="Turn the rule off entirely.")
    enforcement: EnforcementName = Field("soft", description="Default soft: a person confirms the data loss.")
    extra_types: dict[str, str] = Field(
        default_factory=dict, description="More stateful types, mapped to what they hold (e.g. database)."
    )


class KubernetesUpgradeSettings(_Strict):
    """Irreversible (minor upgrade: soft) and impossible (downgrade, skipped minor: hard) upgrades."""

    enabled: bool = Field(True, description="Turn the rule off entirely.")


class Settings(_Strict):
    """The whole guardrail.yaml. Relative paths are relative to the file's folder."""

    protect: list[ProtectEntry] = Field(default_factory=list, description="Protection held outside .tf code.")
    stateful: StatefulSettings = Field(default_factory=StatefulSettings)  # type: ignore[arg-type]
    kubernetes_upgrades: KubernetesUpgradeSettings = Field(
        default_factory=KubernetesUpgradeSettings  # type: ignore[arg-type]
    )
    policies: list[str] = Field(default_factory=list, description="Rego policy files or folders (conftest-style).")
    namespaces: list[str] = Field(default_factory=lambda: ["main"], description="Rego packages to evaluate.")
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True, description="Where relative paths start.")

    def policy_paths(self) -> list[Path]:
        return [self.base_dir / p for p in self.policies]


def load_settings(path: Path | None, *, required: bool = False) -> Settings:
    """Settings from `path`, or from ./guardrail.yaml when present, or defaults.

    Raises ConfigError naming the file (and line) for a missing required file, bad YAML, unknown keys or
    bad values.
    """
    if path is None:
        default = Path(DEFAULT_CONFIG_NAME)
        if not default.is_file():
            return Settings()
        path = default
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a mapping of settings at the top level")
    try:
        settings = Settings.model_validate({**data, "base_dir": path.parent.resolve()})
        for entry in settings.protect:
            entry.to_protection()
    except ValidationError as exc:
        raise ConfigError(_describe(path, node, exc)) from None
    except ValueError as exc:
        raise ConfigError(f"{path}: protect: {exc}") from None
    return settings


def _describe(path: Path, node: yaml.Node | None, exc: ValidationError) -> str:
    """The first error as `file:line: dotted.location: message`."""
    error = exc.errors()[0]
    location = [part for part in error["loc"] if part != "base_dir"]
    line = _line_of(node, location)
    where = f"{path}:{line}" if line else str(path)
    dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in location).lstrip(".")
    message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
    return f"{where}: {dotted or 'settings'}: {message}"


def _line_of(node: yaml.Node | None, location: list[int | str]) -> int | None:
    """The 1-based line of the YAML node at `location`, or of its closest existing parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in location:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                return line
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line

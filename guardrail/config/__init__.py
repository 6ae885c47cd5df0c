"""guardrail.yaml: the settings of a repository, validated with pydantic.

Unknown keys and bad values are refused with the file and line, so a typo never silently disables a
protection (`protcet:` would otherwise mean "nothing is protected").

The sections of one area (Kubernetes, rollouts, node cycles, ...) live in modules of this package of
their own; `Settings` gathers them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from guardrail.config.files import load_model
from guardrail.config.kubernetes import KubernetesSettings
from guardrail.config.nodes import NodesSettings
from guardrail.config.policies import PoliciesConfig
from guardrail.config.rollout import RolloutSettings
from guardrail.core.approvals import ApprovalPolicy
from guardrail.core.change import Action
from guardrail.core.errors import BadInputError
from guardrail.core.locks import parse_duration
from guardrail.core.matching import KubeCriteria, Selector
from guardrail.core.rules.protection import Protection
from guardrail.core.verdict import Enforcement

DEFAULT_CONFIG_NAME = "guardrail.yaml"
EnforcementName = Literal["hard", "soft", "advisory"]
ActionName = Literal["create", "update", "delete", "replace", "forget", "read"]
_DESTRUCTIVE_ACTIONS: tuple[ActionName, ...] = ("delete", "replace", "forget")


def _tags_text(value: Any) -> Any:
    # YAML reads `env: 1` or `critical: true` as numbers and booleans; tags are strings in every provider.
    if isinstance(value, dict):
        return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SelectorEntry(_Strict):
    """Resources picked by type, address glob and tags (every criterion given must match)."""

    types: list[str] = Field(default_factory=list, description="Resource types, e.g. aws_db_instance.")
    addresses: list[str] = Field(default_factory=list, description='Globs on the resource address, e.g. "module.db.*".')
    tags: dict[str, str] = Field(default_factory=dict, description="Tags or labels the resource carries.")
    kinds: list[str] = Field(default_factory=list, description="Kubernetes kinds, e.g. Namespace (any case).")
    namespaces: list[str] = Field(
        default_factory=list, description="Kubernetes namespace globs; also select the Namespace objects themselves."
    )
    names: list[str] = Field(default_factory=list, description="Kubernetes object name globs (metadata.name).")
    labels: dict[str, str] = Field(default_factory=dict, description="Kubernetes metadata.labels the object carries.")
    clusters: list[str] = Field(default_factory=list, description="Globs on the target cluster (kubeconfig context).")

    @field_validator("tags", "labels", mode="before")
    @classmethod
    def _tags_as_text(cls, value: Any) -> Any:
        return _tags_text(value)

    @model_validator(mode="after")
    def _not_empty(self) -> SelectorEntry:
        if not (self.types or self.addresses or self.tags or self._kube_criteria() is not None):
            raise ValueError(
                "needs at least one of types, addresses or tags (or, for Kubernetes objects, kinds, namespaces, "
                "names, labels or clusters)"
            )
        return self

    def _kube_criteria(self) -> KubeCriteria | None:
        return KubeCriteria.of(self.kinds, self.namespaces, self.names, self.labels, self.clusters)

    def to_selector(self) -> Selector:
        return Selector(frozenset(self.types), tuple(self.addresses), dict(self.tags), self._kube_criteria())


class ProtectEntry(SelectorEntry):
    """Resources guarded against destructive actions, whatever the .tf code says."""

    actions: list[ActionName] = Field(
        default_factory=lambda: list(_DESTRUCTIVE_ACTIONS),
        description="Actions that are guarded (default: delete, replace, forget).",
    )
    enforcement: EnforcementName = Field("hard", description="hard (deny), soft (approval) or advisory.")
    reason: str = Field("", description="Why: shown in every finding.")

    def to_protection(self) -> Protection:
        return Protection(
            self.to_selector(),
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


class BlastRadiusConfig(_Strict):
    """What a destructive change takes down with it, as findings."""

    enabled: bool = Field(True, description="Turn the blast-radius analysis and its findings off.")
    max_impacted: int | None = Field(
        None, ge=0, description="A destructive change impacting more resources than this is a finding (unset: none)."
    )
    enforcement: EnforcementName = Field("soft", description="Weight of the max_impacted finding.")
    critical_enforcement: EnforcementName = Field(
        "soft", description="A destructive change of, or impacting, a resource listed under critical:."
    )
    downtime_enforcement: EnforcementName = Field(
        "soft", description="A delete-then-create replace of a resource that others depend on."
    )
    names_shown: int = Field(5, ge=1, description="Addresses named in a finding before 'and N more'.")


class SimilarNamesConfig(_Strict):
    """Destructive changes to a resource whose address or name is confusably close to another's."""

    enabled: bool = Field(True, description="Turn the look-alike names check off.")
    enforcement: EnforcementName = Field("advisory", description="Default advisory: a reminder, not a gate.")
    attributes: list[str] = Field(
        default_factory=lambda: ["name"], description="Attributes compared besides the address."
    )


class DriftConfig(_Strict):
    """Changes made outside Terraform that the plan would revert."""

    enabled: bool = Field(True, description="Turn the drift-revert check off.")
    enforcement: EnforcementName = Field("advisory", description="Default advisory.")


class ApprovalsConfig(_Strict):
    """Who must approve a plan that needs approval, and who may break glass."""

    required: int = Field(1, ge=1, description="Approvals needed, none of them by the plan's author.")
    approvers: list[str] = Field(
        default_factory=list, description="Identities whose approvals count (empty: anyone but the author)."
    )
    break_glass: list[str] = Field(
        default_factory=list, description="Identities allowed to let one denied plan through (empty: nobody)."
    )
    allowed_signers: Path | None = Field(
        None, description="OpenSSH allowed_signers file: when set, every approval must carry a valid signature."
    )
    max_break_glass_ttl: str = Field("24h", description="Longest --ttl a break-glass pass may have, e.g. 8h.")

    @field_validator("max_break_glass_ttl")
    @classmethod
    def _ttl_is_duration(cls, value: str) -> str:
        try:
            parse_duration(value)
        except BadInputError as exc:
            raise ValueError(str(exc)) from None
        return value

    def policy(self) -> ApprovalPolicy:
        return ApprovalPolicy(
            required=self.required,
            approvers=frozenset(self.approvers),
            break_glass=frozenset(self.break_glass),
            signatures_required=self.allowed_signers is not None,
            max_break_glass_ttl=parse_duration(self.max_break_glass_ttl),
        )


# An area's section in a module of its own; it builds on the selector entries defined above.
from guardrail.config.rollback import RollbackConfig  # noqa: E402


class Settings(_Strict):
    """The whole guardrail.yaml. Relative paths are relative to the file's folder."""

    protect: list[ProtectEntry] = Field(default_factory=list, description="Protection held outside .tf code.")
    stateful: StatefulSettings = Field(default_factory=StatefulSettings)  # type: ignore[arg-type]
    kubernetes_upgrades: KubernetesUpgradeSettings = Field(
        default_factory=KubernetesUpgradeSettings  # type: ignore[arg-type]
    )
    policies: PoliciesConfig = Field(
        default_factory=PoliciesConfig,  # type: ignore[arg-type]
        description="Rego policy files or folders (a list), or {paths: [...], timeout: 30s}.",
    )
    namespaces: list[str] = Field(default_factory=lambda: ["main"], description="Rego packages to evaluate.")
    critical: list[SelectorEntry] = Field(
        default_factory=list, description="Resources whose involvement in a blast radius raises the stakes."
    )
    blast_radius: BlastRadiusConfig = Field(default_factory=BlastRadiusConfig)  # type: ignore[arg-type]
    similar_names: SimilarNamesConfig = Field(default_factory=SimilarNamesConfig)  # type: ignore[arg-type]
    drift: DriftConfig = Field(default_factory=DriftConfig)  # type: ignore[arg-type]
    store: str | None = Field(
        default=None, description="Store URL (sqlite:///path or postgresql://...); default .guardrail/."
    )
    approvals: ApprovalsConfig = Field(default_factory=ApprovalsConfig)  # type: ignore[arg-type]
    rollout: RolloutSettings = Field(default_factory=RolloutSettings)  # type: ignore[arg-type]
    kubernetes: KubernetesSettings = Field(default_factory=KubernetesSettings)  # type: ignore[arg-type]
    nodes: NodesSettings = Field(default_factory=NodesSettings)
    rollback: RollbackConfig = Field(default_factory=RollbackConfig)  # type: ignore[arg-type]
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True, description="Where relative paths start.")
    source: Path | None = Field(default=None, exclude=True, description="The file read (None: the built-in defaults).")

    def policy_paths(self) -> list[Path]:
        return [self.base_dir / p for p in self.policies.paths]

    def allowed_signers_path(self) -> Path | None:
        signers = self.approvals.allowed_signers
        return None if signers is None else self.base_dir / signers


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
    return load_model(
        path,
        Settings,
        what="config file",
        expected="a mapping of settings",
        extra={"base_dir": path.parent.resolve(), "source": path.resolve()},
    )

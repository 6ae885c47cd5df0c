"""A rollback as records: where it goes, what it undoes, the plan that does it and how it ended."""

from __future__ import annotations

from dataclasses import dataclass

from guardrail.core.change import ChangeSet
from guardrail.core.locks import split_workspace_lock_name
from guardrail.core.provenance import AppliedRecord
from guardrail.core.report import CheckReport
from guardrail.core.rollback.undo import ForwardChange, UndoReport
from guardrail.core.secrets import Scrubber, plan_scrubber


@dataclass(frozen=True)
class RollbackTarget:
    """The commit to go back to (`ref` as given, or the previous apply), and the apply it undoes: the
    workspace's latest successful apply (None when there is none) with its changes (from its check)."""

    directory: str
    workspace: str
    ref: str
    commit: str
    undoes: AppliedRecord | None
    forward: tuple[ForwardChange, ...] | None

    @property
    def workspace_name(self) -> str:
        """The Terraform workspace alone (`workspace` is the apply lock's name: directory#workspace)."""
        split = split_workspace_lock_name(self.workspace)
        return split[1] if split is not None else self.workspace

    def link(self) -> dict[str, object]:
        """How events name what this rollback undoes and where it goes."""
        undone = self.undoes
        return {
            "workspace": self.workspace,
            "to_commit": self.commit,
            "to_ref": self.ref,
            "undoes": None
            if undone is None
            else {"seq": undone.seq, "fingerprint": undone.fingerprint, "commit": undone.commit},
        }


@dataclass(frozen=True)
class RollbackPlan:
    """The rollback plan, settled by the gate, and what it does to the apply it undoes."""

    target: RollbackTarget
    report: CheckReport
    undo: UndoReport

    def scrubber(self) -> Scrubber:
        """What the rollback's reports and events are scrubbed with (see rollback_scrubber)."""
        return rollback_scrubber(self.report.changeset, self.target)


def rollback_scrubber(changeset: ChangeSet, target: RollbackTarget) -> Scrubber:
    """The rollback plan's secrets go; the addresses of its changes and of the forward apply's (which the
    rollback names as undone, or not) stay whole: addresses are names, never secrets."""
    forward = (change.address for change in target.forward or ())
    return plan_scrubber(changeset).keeping(forward)


@dataclass(frozen=True)
class RollbackResult:
    """How a rollback apply ended: `applied` false when the gate said no (the plan's verdict says why);
    after an apply, `remaining` lists what a new plan of the target still changes (empty: verified)."""

    applied: bool
    remaining: tuple[str, ...] = ()
    rollback_point: str | None = None

    @property
    def verified(self) -> bool:
        return self.applied and not self.remaining

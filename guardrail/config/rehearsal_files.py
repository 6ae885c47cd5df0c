"""Which simulation a rehearsal file describes, told by its top-level key: `clusters:` a fleet (rollout
rehearsal, guardrail.config.fleet), `pool:` a node pool (node-cycle rehearsal, guardrail.config.pool_file).
`guardrail tui --rehearse FILE` takes either and opens the screen that rehearses it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from guardrail.config.files import load_model
from guardrail.core.errors import ConfigError


class RehearsalKind(StrEnum):
    FLEET = "fleet"
    POOL = "pool"


class _TopLevel(BaseModel):
    # Only the keys that tell the kinds apart; the rest is checked when the file is rehearsed.
    model_config = ConfigDict(extra="allow")

    clusters: Any = None
    pool: Any = None


@dataclass(frozen=True)
class RehearsalFiles:
    """The files of `--rehearse`, by kind: the fleet the Rollouts screen rehearses, the pools of the Nodes screen."""

    fleet: Path | None = None
    pools: tuple[Path, ...] = ()


def rehearsal_kind(path: Path) -> RehearsalKind:
    """Whether `path` is a fleet or a pool rehearsal file. Raises ConfigError naming the file when it cannot
    be read as YAML, or has both `clusters:` and `pool:` or neither."""
    top = load_model(path, _TopLevel, what="rehearsal file", expected="a mapping with clusters: or pool:")
    if (top.clusters is None) == (top.pool is None):
        which = "both" if top.clusters is not None else "neither"
        raise ConfigError(
            f"{path}: a rehearsal file has clusters: (a fleet) or pool: (a node pool) at the top level, not {which}"
        )
    return RehearsalKind.FLEET if top.clusters is not None else RehearsalKind.POOL


def sort_rehearsal_files(paths: Sequence[Path]) -> RehearsalFiles:
    """The files by kind (see rehearsal_kind), pools in the order given. Raises ConfigError as rehearsal_kind
    does, or when more than one fleet file is given (the Rollouts screen rehearses one fleet)."""
    fleets = [path for path in paths if rehearsal_kind(path) is RehearsalKind.FLEET]
    if len(fleets) > 1:
        raise ConfigError(f"--rehearse takes one fleet file, got {len(fleets)}: {', '.join(map(str, fleets))}")
    pools = tuple(path for path in paths if path not in fleets)
    return RehearsalFiles(fleets[0] if fleets else None, pools)

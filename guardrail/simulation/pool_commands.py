"""What the simulated machines do with a validation pod's command: `nvidia-smi`, `dcgmi diag -r N`, and
the shell glue around them (`sh -c "a && b; c"`, `sleep`, `true`, `false`, `exit N`).

A machine that lost a GPU on its way back shows fewer devices: `nvidia-smi` still lists what it sees, but
`dcgmi diag` fails on the missing device, and a GPU with an XID error fails the diagnostics too.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

# How long each dcgmi diag level runs (quick, medium, long, extended), roughly as NVIDIA documents them.
DCGM_LEVEL_SECONDS = {1: 60.0, 2: 180.0, 3: 900.0, 4: 3600.0}
NVIDIA_SMI_SECONDS = 3.0
_SHELLS = frozenset({"sh", "bash", "/bin/sh", "/bin/bash"})
_SEPARATOR = re.compile(r"(&&|;|\n)")


@dataclass(frozen=True, slots=True)
class GpuTruth:
    """The machine as it really is: GPUs it should have, GPUs it exposes, whether a GPU reports an XID."""

    gpus: int
    visible: int
    product: str
    xid: bool = False


@dataclass(frozen=True, slots=True)
class CommandRun:
    """How a container's command went: how long it ran, whether it exited 0, and what it printed."""

    seconds: float
    succeeded: bool
    log: str


def run_container(argv: Sequence[str], truth: GpuTruth, granted: int) -> CommandRun:
    """Run a container's command on the machine, `granted` GPUs assigned to it by the device plugin."""
    if len(argv) >= 3 and argv[0] in _SHELLS and argv[1] == "-c":
        return _run_script(argv[2], truth, granted)
    return _run_script(shlex.join(argv), truth, granted)


def _run_script(script: str, truth: GpuTruth, granted: int) -> CommandRun:
    parts = _SEPARATOR.split(script)
    seconds, lines, status = 0.0, [], 0
    skip = False
    for index in range(0, len(parts), 2):
        text = parts[index].strip()
        connector = parts[index - 1] if index else ";"
        if connector == "&&" and status != 0:
            skip = True
        elif connector != "&&":
            skip = False
        if not text or skip:
            continue
        took, status, output = _run_one(shlex.split(text), truth, granted)
        seconds += took
        lines.append(output)
    return CommandRun(seconds, status == 0, "\n".join(lines) + "\n")


def _run_one(tokens: list[str], truth: GpuTruth, granted: int) -> tuple[float, int, str]:
    name = tokens[0].rsplit("/", 1)[-1]
    visible = min(granted, truth.visible)
    if name == "nvidia-smi":
        if visible == 0:
            return NVIDIA_SMI_SECONDS, 6, "No devices were found"
        listed = "\n".join(f"GPU {i}: {truth.product}" for i in range(visible))
        return NVIDIA_SMI_SECONDS, 0, listed
    if name == "dcgmi" and len(tokens) >= 2 and tokens[1] == "diag":
        return _dcgmi_diag(tokens, truth, granted)
    if name == "sleep" and len(tokens) == 2 and _number(tokens[1]) is not None:
        return _number(tokens[1]) or 0.0, 0, ""
    if name == "true":
        return 0.0, 0, ""
    if name == "false":
        return 0.0, 1, ""
    if name == "exit":
        code = int(tokens[1]) if len(tokens) > 1 and tokens[1].isdigit() else 0
        return 0.0, code, ""
    return 0.0, 127, f"sh: {tokens[0]}: not found"


def _dcgmi_diag(tokens: list[str], truth: GpuTruth, granted: int) -> tuple[float, int, str]:
    level = 1
    for flag in ("-r", "--run"):
        if flag in tokens and tokens.index(flag) + 1 < len(tokens):
            text = tokens[tokens.index(flag) + 1]
            level = int(text) if text.isdigit() else 0
    if level not in DCGM_LEVEL_SECONDS:
        return 0.0, 1, f"dcgmi diag: invalid run level {' '.join(tokens[2:])!r}"
    seconds = DCGM_LEVEL_SECONDS[level]
    header = f"dcgmi diag -r {level}"
    if truth.visible < min(granted, truth.gpus):
        return seconds, 226, f"{header}: Fail: {granted} GPU(s) requested, {truth.visible} found on the PCIe bus"
    if truth.xid:
        return seconds, 226, f"{header}: Fail: XID error reported by GPU 0"
    return seconds, 0, f"{header}: Pass ({min(granted, truth.visible)} GPU(s))"


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None

"""Rendering a kustomization with the real `kubectl kustomize`, through the one place that runs commands."""

from __future__ import annotations

import os
import re
from pathlib import Path

from guardrail.adapters.process import run_command
from guardrail.core.errors import BadInputError, CommandError

KUBECTL_ENV = "GUARDRAIL_KUBECTL"
TIMEOUT_SECONDS = 120.0
# kubectl logs `E1203 ... run.go:72] "command failed" err="no matches for Id ..."`: the err is what to show.
_ERR = re.compile(r'err="((?:[^"\\]|\\.)*)"')


def kubectl_binary() -> str:
    """$GUARDRAIL_KUBECTL, else `kubectl` on PATH."""
    return os.environ.get(KUBECTL_ENV) or "kubectl"


def kustomize_build(directory: Path) -> bytes:
    """The YAML stream `kubectl kustomize DIRECTORY` renders. Raises BadInputError naming the directory when
    kubectl is missing or refuses the kustomization."""
    try:
        completed = run_command(
            [kubectl_binary(), "kustomize", str(directory)],
            timeout=TIMEOUT_SECONDS,
            missing_hint=f"install kubectl or set {KUBECTL_ENV} to its path",
        )
    except CommandError as exc:
        lines = [line.strip() for line in exc.stderr.splitlines() if line.strip() and not line.startswith("#")]
        last = lines[-1] if lines else f"exit code {exc.returncode}"
        found = _ERR.search(last)
        raise BadInputError(f"{directory}: kubectl kustomize failed: {found.group(1) if found else last}") from None
    return completed.stdout

"""`guardrail kube apply` and `guardrail kube rollback`: exactly the reviewed objects, and putting them back."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from guardrail.cli.kube import CONTEXT, KUBECONFIG, PATHS, PRUNE, RECURSIVE, kube_app
from guardrail.cli.options import CONFIG, POLICY, STORE, load_config
from guardrail.cli.output import emit, inert, use_color

if TYPE_CHECKING:
    from guardrail.services.kube_apply import KubeApplyOutcome

# By action (create, update, delete), as the text report marks them; the core loads only when a command runs.
_SYMBOL = {"create": "+", "update": "~", "delete": "-"}


@kube_app.command("apply")
def apply_command(
    paths: list[str] = PATHS,
    context: list[str] | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    prune: bool = PRUNE,
    recursive: bool = RECURSIVE,
    config: Path | None = CONFIG,
    policy: list[Path] | None = POLICY,
    store: str | None = STORE,
) -> int:
    """Re-check the manifests against the live clusters (locks, approvals, break-glass) and, when allowed,
    apply them with server-side apply, saving a rollback point first.

    Without --context: the kubeconfig's current context, as kubectl applies. Exit 0 applied; 1 denied, a
    cluster locked by another apply, or a live object changed since the check; 2 still needs approval; 3 bad
    input, a cluster that cannot be read, or an object refused midway (what was applied is listed).
    """
    from guardrail.services.kube_apply import KubeApplyRequest, kube_apply
    from guardrail.services.kube_check import KubeCheckRequest

    check = KubeCheckRequest(
        paths=tuple(paths),
        settings=load_config(config),
        policies=tuple(policy or ()),
        prune=prune,
        recursive=recursive,
        contexts=tuple(context or ()),
        kubeconfig=kubeconfig,
    )
    return _shown(kube_apply(KubeApplyRequest(check, store)), "kube apply")


@kube_app.command("rollback")
def rollback_command(
    apply_id: str = typer.Argument(
        ..., metavar="ID", help="The apply to undo (kube apply prints it).", show_default=False
    ),
    kubeconfig: Path | None = KUBECONFIG,
    config: Path | None = CONFIG,
    policy: list[Path] | None = POLICY,
    store: str | None = STORE,
) -> int:
    """Put back what a kube apply changed (its saved objects restored, the ones it created deleted), through the
    gate like any change: its own fingerprint, locks, approvals, rollback point and audit events.

    Exit codes as for kube apply.
    """
    from guardrail.services.kube_rollback import KubeRollbackRequest, kube_rollback

    request = KubeRollbackRequest(
        apply_id, load_config(config), kubeconfig=kubeconfig, store=store, policies=tuple(policy or ())
    )
    return _shown(kube_rollback(request), f"kube rollback {apply_id}")


def _shown(outcome: KubeApplyOutcome, doing: str) -> int:
    from guardrail.services.wiring import renderer

    report = outcome.report
    emit(renderer("text", color=use_color()).render(report))
    if not outcome.applied:
        decision = report.verdict.decision.value
        sys.stderr.write(f"guardrail: not applied: the change is {decision}, not allow\n")
        return report.exit_code
    if outcome.apply_id is None:
        emit("nothing to apply: every object is as the manifests have it")
        return 0
    emit(f"{doing}: {outcome.apply_id}")
    for done in outcome.objects:
        symbol = _SYMBOL.get(done.action.value, "?")
        emit(f"  {symbol} {inert(done.address)} ({done.outcome.value}{f': {inert(done.error)}' if done.error else ''})")
    succeeded = sum(o.changed for o in outcome.objects)
    if outcome.failure is not None:
        sys.stderr.write(
            f"guardrail: {doing} stopped at {inert(outcome.failure)}; {succeeded} of {outcome.planned} objects were "
            f"changed before it: guardrail kube rollback {outcome.apply_id} puts them back\n"
        )
        return 3
    emit(f"applied {succeeded} objects; to put them back: guardrail kube rollback {outcome.apply_id}")
    return 0

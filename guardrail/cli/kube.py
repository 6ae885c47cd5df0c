"""`guardrail kube ...`: Kubernetes changes through the gate."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

import typer

from guardrail.cli.check import FORMAT, OUTPUT, OutputFormat
from guardrail.cli.options import CONFIG, POLICY, STORE, load_config, sub_app
from guardrail.cli.output import emit, show_report, use_color
from guardrail.cli.tables import print_json
from guardrail.core.errors import BadInputError

kube_app = sub_app("kube", "Kubernetes changes through the gate: manifests in, a fail-closed verdict out.")

_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")

PATHS = typer.Argument(
    ...,
    metavar="PATH...",
    help="YAML/JSON file, directory of them, kustomization directory, or - for standard input.",
    show_default=False,
)
CONTEXT = typer.Option(
    None, "--context", help="kubeconfig context of a target cluster (repeatable; none: offline, or the current one)."
)
KUBECONFIG = typer.Option(
    None,
    "--kubeconfig",
    help="kubeconfig file (default as kubectl: $KUBECONFIG, ~/.kube/config); alone: its current context.",
)
PRUNE = typer.Option(False, "--prune", help="Also delete live objects of this set absent from PATH (needs a context).")
RECURSIVE = typer.Option(False, "--recursive", "-R", help="Read directories recursively (kubectl -R).")


def parse_target_version(text: str) -> str:
    """`1.33`, `v1.33` or `1.33.2` as `1.33` / `1.33.2`. Raises BadInputError otherwise."""
    match = _VERSION.fullmatch(text.strip())
    if match is None:
        raise BadInputError(f"--target-version {text!r}: expected a Kubernetes version such as 1.33")
    major, minor, patch = match.groups()
    return f"{int(major)}.{int(minor)}" + (f".{int(patch)}" if patch is not None else "")


@kube_app.command("check")
def check_command(
    paths: list[str] = PATHS,
    context: list[str] | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    target_version: str | None = typer.Option(
        None, "--target-version", help="Kubernetes version the change will meet, e.g. 1.33."
    ),
    nodes: Path | None = typer.Option(
        None, "--nodes", help="Offline node inventory: the output of kubectl get nodes -o json."
    ),
    delete: bool = typer.Option(False, "--delete", help="Judge the objects as deletions (kubectl delete -f)."),
    prune: bool = PRUNE,
    recursive: bool = RECURSIVE,
    config: Path | None = CONFIG,
    policy: list[Path] | None = POLICY,
    output_format: OutputFormat = FORMAT,
    output: Path | None = OUTPUT,
    store: str | None = STORE,
) -> int:
    """Check manifests and record the check: exit 0 allow, 1 deny, 2 needs approval, 3 bad input or a cluster
    that cannot be read."""
    from guardrail.services.wiring import start_store_helper

    version = parse_target_version(target_version) if target_version is not None else None
    helper = start_store_helper()
    try:
        from guardrail.services.kube_check import KubeCheckRequest, kube_review

        request = KubeCheckRequest(
            paths=tuple(paths),
            settings=load_config(config),
            policies=tuple(policy or ()),
            delete=delete,
            prune=prune,
            recursive=recursive,
            target_version=version,
            nodes=nodes,
            contexts=tuple(context or ()),
            kubeconfig=kubeconfig,
        )
        report = kube_review(request, store, helper=helper)
    finally:
        if helper is not None:
            helper.stop()
    show_report(report, output_format.value, output)
    return report.exit_code


class ScanFormat(StrEnum):
    text = "text"
    json = "json"


@kube_app.command("scan")
def scan_command(
    context: str | None = typer.Option(
        None, "--context", help="kubeconfig context of the cluster (default: the current one)."
    ),
    kubeconfig: Path | None = KUBECONFIG,
    target_version: str = typer.Option(
        ..., "--target-version", help="The Kubernetes release to upgrade to, e.g. 1.33.", show_default=False
    ),
    output_format: ScanFormat = typer.Option(ScanFormat.text, "--format", "-f", help="text or json."),
) -> int:
    """Live objects (and client requests) that an upgrade to --target-version would break: exit 0 nothing,
    1 something would break or could not be read, 3 bad input or a cluster that cannot be read."""
    from guardrail.services.kube_scan import KubeScanRequest, kube_scan

    report = kube_scan(KubeScanRequest(parse_target_version(target_version), context, kubeconfig))
    if output_format is ScanFormat.json:
        print_json(report.to_json())
    else:
        from guardrail.adapters.render.kube_scan_text import render_scan

        emit(render_scan(report, color=use_color()))
    return report.exit_code

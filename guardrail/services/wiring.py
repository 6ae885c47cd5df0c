"""The one place that picks an adapter for each port (core/ports.py, core/store_ports.py).

Services ask here and never import guardrail.adapters themselves (an import-linter contract holds it).
Adapters are imported when first asked for, and this module imports nothing else at run time: checking a
JSON plan never loads python-terraform, only the markdown output loads jinja2, and `guardrail check` can
start the store helper before anything heavy is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from guardrail.core.ports import PlanIntake, PolicyEngine, Renderer, TerraformRunner, Workspaces
    from guardrail.core.secrets import Scrubber
    from guardrail.core.store_ports import SignatureVerifier, Store, StoreOpener


def terraform_runner(binary: str | None) -> TerraformRunner:
    """The terraform CLI (or OpenTofu): `binary`, else $GUARDRAIL_TERRAFORM, else `terraform`."""
    from guardrail.adapters.terraform.run import TerraformCli

    return TerraformCli(binary)


def plan_intake(binary: str | None) -> PlanIntake:
    """Plan JSON, binary plans and directories; terraform (see terraform_runner) only when one needs it."""
    from guardrail.adapters.terraform.intake import TerraformPlanIntake

    return TerraformPlanIntake(lambda: terraform_runner(binary))


def workspaces() -> Workspaces:
    """Terraform configuration directories: their workspace, their rollback points."""
    from guardrail.adapters.terraform.workspace import TerraformWorkspaces

    return TerraformWorkspaces()


def policy_engine(
    paths: Sequence[Path], namespaces: Sequence[str], all_namespaces: bool, *, timeout: float | None = None
) -> PolicyEngine:
    """Rego policies, conftest-compatible, each evaluation stopped after `timeout` seconds (None: no
    limit). Raises PolicyError when one does not load."""
    from guardrail.adapters.rego import load_policies

    return load_policies(paths, namespaces=namespaces, all_namespaces=all_namespaces, timeout=timeout)


def renderer(output_format: str, *, color: bool) -> Renderer:
    """The renderer for `text`, `json`, `markdown`, `sarif` or `junit`."""
    from guardrail.adapters.render import renderer_for

    return renderer_for(output_format, color=color)


def open_store(url: str, *, cwd: Path, scrub: Scrubber | None = None, create: bool = False) -> Store:
    """The store at `url` (SQLite or PostgreSQL), migrated to this version, created first when `create`.
    Raises StoreMissingError when it does not exist (and not `create`), StoreError."""
    from guardrail.adapters.store import open_store as open_sql_store

    return open_sql_store(url, cwd=cwd, scrub=scrub, create=create)


def initialise_store(url: str, *, cwd: Path) -> tuple[str, bool]:
    """Create the store at `url` or bring it to this version's schema: its description, and whether it was
    created now. Raises StoreError."""
    from guardrail.adapters.store import initialise_store as initialise_sql_store

    return initialise_sql_store(url, cwd=cwd)


def start_store_helper() -> StoreOpener | None:
    """Begin importing the store adapter in a forked helper while the caller reads its configuration and
    the plan (see adapters/store_helper.py); None where forking is unsafe: the store then opens in-process."""
    from guardrail.adapters.store_helper import StoreHelper

    return StoreHelper.start()


def signature_verifier(allowed_signers: Path, namespace: str) -> SignatureVerifier:
    """OpenSSH signatures (`ssh-keygen -Y verify`) made in `namespace` by a key of `allowed_signers`."""
    from guardrail.adapters.signatures import SshSignatureVerifier

    return SshSignatureVerifier(allowed_signers, namespace)


def current_actor() -> str:
    """Who is acting: $GUARDRAIL_ACTOR, else git user.email, else the OS user."""
    from guardrail.adapters.identity import current_actor as actor

    return actor()


def hostname() -> str:
    """This host's name, as apply locks record it."""
    from guardrail.adapters.identity import hostname as name

    return name()


def process_alive(pid: int) -> bool:
    """Whether a process with that id runs on this host."""
    from guardrail.adapters.identity import process_alive as alive

    return alive(pid)

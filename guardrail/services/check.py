"""The gate: a plan in, a fail-closed verdict out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from guardrail.config import Settings
from guardrail.core.policy import evaluate
from guardrail.core.ports import PolicyEngine
from guardrail.core.report import CheckReport
from guardrail.core.secrets import Scrubber, plan_scrubber
from guardrail.core.verdict import Finding, Verdict
from guardrail.services.rules import blast_radius_rule, builtin_rules, reversibility_rule
from guardrail.services.wiring import plan_intake, policy_engine


@dataclass(frozen=True)
class CheckRequest:
    """What to check and with which rules."""

    plan: Path
    settings: Settings
    policies: Sequence[Path] = ()  # on top of the config's `policies:`
    namespaces: Sequence[str] = ()  # empty: the config's `namespaces:`
    all_namespaces: bool = False
    terraform_bin: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)  # for a directory: terraform plan -var
    plan_out: Path | None = None  # for a directory: keep the binary plan here
    freeze: bool = True  # see parse_plan: False for a long-running program such as the TUI
    configuration: Path | None = None  # for a binary plan kept elsewhere: the directory it was made in
    source: str | None = None  # how reports name the plan (default: `plan` as given)


def check(request: CheckRequest) -> CheckReport:
    """Read the plan, evaluate built-in rules and custom policies, and decide.

    Raises BadInputError (bad plan, config or policy) and CommandError (terraform failed); never returns
    an "allow" that a failed step would have denied.
    """
    intake = plan_intake(request.terraform_bin)
    engine = _engine(request)  # loads and compiles policies: a broken policy fails before any work
    document = intake.read(
        request.plan, variables=request.variables, out=request.plan_out, configuration=request.configuration
    )
    # Custom policies start first: the engine may evaluate them in parallel with the parse below.
    run = engine.submit(document) if engine is not None else None
    changeset = intake.parse(document, request.source or str(request.plan), freeze=request.freeze)
    findings = evaluate(changeset, builtin_rules(request.settings))
    blast = None
    blast_rule = blast_radius_rule(request.settings)
    if blast_rule is not None:  # analysed once: its findings here, the analysis itself in the outputs
        blast = blast_rule.analyse(changeset)
        findings.extend(blast_rule.findings(blast))
    reversibility = reversibility_rule(request.settings)
    rollback = reversibility.analyse(changeset)  # once: the findings here, the classes in every output
    if request.settings.rollback.enabled:
        findings.extend(reversibility.findings(rollback))
    if run is not None:
        scrub = plan_scrubber(changeset)
        findings.extend(_scrubbed(f, scrub) for f in run.findings())
    return CheckReport(changeset, Verdict.of(findings), blast=blast, rollback=rollback)


def _engine(request: CheckRequest) -> PolicyEngine | None:
    paths = [*request.settings.policy_paths(), *request.policies]
    if not paths:
        return None
    namespaces = tuple(request.namespaces) or tuple(request.settings.namespaces)
    timeout = request.settings.policies.timeout.total_seconds()
    return policy_engine(paths, namespaces, request.all_namespaces, timeout=timeout)


def _scrubbed(finding: Finding, scrub: Scrubber) -> Finding:
    # Rego messages may quote plan values verbatim, secrets included.
    return replace(finding, message=scrub(finding.message))

"""Removed and deprecated APIs against each target cluster's version: the gate's rule, the judgement of a
live object for `kube scan`, and of the API server's `apiserver_requested_deprecated_apis` metric.

A removed apiVersion is hard (the API server refuses the object), a deprecated but still served one
advisory; each names the replacement and the release that removes it. An unknown cluster version is a
soft unknown finding, only for an apiVersion the table lists: nothing else could break.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from guardrail.core.errors import BadInputError
from guardrail.core.kube.change import OFFLINE_CLUSTER, KubeChangeSet
from guardrail.core.kube.deprecated_api_table import ApiDeprecation, lookup, lookup_resource
from guardrail.core.kube.derive import change_address, qualified
from guardrail.core.kube.objects import LAST_APPLIED_ANNOTATION, ObjectRef
from guardrail.core.kube.rule_catalog import DEPRECATED_API
from guardrail.core.kube.wording import cluster_phrase, minor_version
from guardrail.core.rules.k8s_upgrade import parse_version
from guardrail.core.verdict import Enforcement, Finding

METRIC = "apiserver_requested_deprecated_apis"


@dataclass(frozen=True, slots=True)
class ApiVerdict:
    """What the table says of one kind at one API version for one target release."""

    entry: ApiDeprecation
    kind: str
    enforcement: Enforcement
    unknown: bool
    message: str


def judge_api_version(
    api_version: str, kind: str, target: tuple[int, int] | None, *, cluster: str = OFFLINE_CLUSTER
) -> ApiVerdict | None:
    """The verdict on `kind` at `api_version` for a cluster at release `target` ((major, minor); None when
    unknown). None when the table does not list it, or when the target predates its deprecation."""
    entry = lookup(api_version, kind)
    if entry is None:
        return None
    head, where, use = f"{api_version} {kind}", cluster_phrase(cluster), migration(entry, kind, target)
    if target is None:
        message = (
            f"{head} is removed in Kubernetes {entry.removed_in} (deprecated since {entry.deprecated_in}), and the "
            f"Kubernetes version of {where} is unknown: cannot tell whether it is still served. {use}"
        )
        return ApiVerdict(entry, kind, Enforcement.SOFT, True, message)
    shown = f"{target[0]}.{target[1]}"
    if target >= entry.removed:
        message = f"{head} is not served by Kubernetes {shown} ({where}): removed in {entry.removed_in}. {use}"
        return ApiVerdict(entry, kind, Enforcement.HARD, False, message)
    if target >= entry.deprecated:
        message = f"{head} is deprecated in Kubernetes {shown} ({where}) and removed in {entry.removed_in}. {use}"
        return ApiVerdict(entry, kind, Enforcement.ADVISORY, False, message)
    return None


def migration(entry: ApiDeprecation, kind: str, target: tuple[int, int] | None) -> str:
    """Where to move to: the guide's replacement, followed while that one is itself gone by the target
    release (to its end when the target is unknown), with the notable changes on the way."""
    replacement, since, notes, gone = entry.replacement, entry.replacement_since, [entry.note], []
    while replacement is not None:
        onward = lookup(replacement, kind)
        if onward is None or (target is not None and target < onward.removed):
            break
        gone.append(f"{replacement} is itself removed in {onward.removed_in}")
        replacement, since = onward.replacement, onward.replacement_since
        notes.append(onward.note)
    detail = "; ".join(([f"served since {since}"] if since and replacement else []) + gone)
    detail = f" ({detail})" if detail else ""
    changes = "; ".join(note for note in notes if note)
    if replacement is None:
        return f"There is no replacement API{detail}: {changes}."
    return f"Use {replacement}{detail}." + (f" Notable changes: {changes}." if changes else "")


@dataclass(frozen=True)
class DeprecatedApiRule:
    """Every object change, judged at the apiVersion it is written in, against its cluster's version. `removed`
    weighs an apiVersion the target no longer serves, `deprecated` one it still serves; an unknown version is
    soft whatever they say (fail closed)."""

    removed: Enforcement = Enforcement.HARD
    deprecated: Enforcement = Enforcement.ADVISORY
    id: str = DEPRECATED_API

    def evaluate(self, changes: KubeChangeSet) -> Sequence[Finding]:
        targets = {view.name: minor_version(view) for view in changes.clusters}
        with_cluster = qualified(changes)
        findings: list[Finding] = []
        for change in changes.changes:
            # A cluster the set does not describe has an unknown version: judged as such, never skipped.
            target = targets.get(change.cluster)
            verdict = judge_api_version(change.api_version, change.ref.kind, target, cluster=change.cluster)
            if verdict is not None:
                address = change_address(change, with_cluster=with_cluster)
                findings.append(
                    Finding(self.id, self._weight(verdict), address, verdict.message, unknown=verdict.unknown)
                )
        return findings

    def _weight(self, verdict: ApiVerdict) -> Enforcement:
        if verdict.unknown:
            return verdict.enforcement
        return self.removed if verdict.enforcement is Enforcement.HARD else self.deprecated


def live_api_versions(
    obj: Mapping[str, Any], applied_annotations: Sequence[str] = (LAST_APPLIED_ANNOTATION,)
) -> dict[tuple[str, str], list[str]]:
    """(apiVersion, kind) -> where a live object shows it: the version it is served at, each managedFields
    entry (the version its manager wrote, which server-side apply and kubectl record and `kubectl patch`
    keeps), and the applied-manifest annotations named (kubectl's by default)."""
    kind = str(obj.get("kind", ""))
    seen: dict[tuple[str, str], list[str]] = {}

    def note(api_version: Any, where: str, of_kind: str = kind) -> None:
        if isinstance(api_version, str) and api_version:
            seen.setdefault((api_version, of_kind), []).append(where)

    note(obj.get("apiVersion"), "the version it is served at")
    metadata = _mapping(obj.get("metadata"))
    for entry in metadata.get("managedFields") or ():
        if isinstance(entry, Mapping):
            manager = entry.get("manager") or "an unnamed manager"
            operation = f" ({entry['operation']})" if entry.get("operation") else ""
            note(entry.get("apiVersion"), f"managedFields of {manager}{operation}")
    annotations = _mapping(metadata.get("annotations"))
    for name in applied_annotations:
        applied = _json_object(annotations.get(name))
        if applied is not None:
            note(applied.get("apiVersion"), f"annotation {name}", str(applied.get("kind") or kind))
    return seen


def judge_live_object(
    obj: Mapping[str, Any],
    target_version: str | None,
    *,
    cluster: str = OFFLINE_CLUSTER,
    applied_annotations: Sequence[str] = (LAST_APPLIED_ANNOTATION,),
) -> list[Finding]:
    """`kube scan`: what an upgrade to `target_version` ("1.33"; None when unknown) would break in one live
    object, one finding per listed API version it shows (see live_api_versions), naming where it showed."""
    parsed = parse_version(target_version) if target_version is not None else None
    target = None if parsed is None else (parsed[0], parsed[1])
    try:
        address: str | None = ObjectRef.of(obj).address
    except BadInputError:
        address = None  # a live object always has a name; judge it anyway rather than lose the finding
    findings = []
    for (api_version, kind), where in live_api_versions(obj, applied_annotations).items():
        verdict = judge_api_version(api_version, kind, target, cluster=cluster)
        if verdict is not None:
            message = f"{verdict.message} Seen in: {'; '.join(where)}."
            findings.append(Finding(DEPRECATED_API, verdict.enforcement, address, message, unknown=verdict.unknown))
    return findings


@dataclass(frozen=True, slots=True)
class RequestedDeprecatedApi:
    """One series of the API server's `apiserver_requested_deprecated_apis` gauge: a client requested this
    deprecated resource since the server started. `removed_release` is "" when no removal is planned."""

    group: str
    version: str
    resource: str
    subresource: str = ""
    removed_release: str = field(default="")

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


def judge_requested_apis(
    requested: Iterable[RequestedDeprecatedApi], target_version: str | None, *, cluster: str = OFFLINE_CLUSTER
) -> list[Finding]:
    """What the clients of a cluster would lose in an upgrade to `target_version`: hard for a resource the
    target no longer serves, advisory for one still served, soft unknown when the target is unknown."""
    parsed = parse_version(target_version) if target_version is not None else None
    target = None if parsed is None else (parsed[0], parsed[1])
    where = cluster_phrase(cluster)
    findings = []
    for request in sorted(set(requested), key=lambda r: (r.api_version, r.resource, r.subresource)):
        resource = f"{request.resource}/{request.subresource}" if request.subresource else request.resource
        head = f"clients requested {request.api_version} {resource} ({METRIC})"
        found = lookup_resource(request.api_version, request.resource)
        hint = "Find them in the API server's audit log (annotation k8s.io/deprecated)."
        if found is not None:
            hint = f"{migration(found[0], found[1], target)} {hint}"
        removed = _release_or_none(request.removed_release)
        if removed is None:
            message = f"{head}, deprecated with no removal release announced. {hint}"
            findings.append(Finding(DEPRECATED_API, Enforcement.ADVISORY, None, message))
        elif target is None:
            message = (
                f"{head}, removed in Kubernetes {request.removed_release}, and the Kubernetes version of {where} "
                f"is unknown: cannot tell whether they will still be served. {hint}"
            )
            findings.append(Finding(DEPRECATED_API, Enforcement.SOFT, None, message, unknown=True))
        elif target >= removed:
            shown = f"{target[0]}.{target[1]}"
            message = (
                f"{head}, which Kubernetes {shown} ({where}) does not serve: removed in {request.removed_release}; "
                f"those clients fail after the upgrade. {hint}"
            )
            findings.append(Finding(DEPRECATED_API, Enforcement.HARD, None, message))
        else:
            shown = f"{target[0]}.{target[1]}"
            message = (
                f"{head}, deprecated and removed in Kubernetes {request.removed_release} ({where} targets {shown}). "
                f"{hint}"
            )
            findings.append(Finding(DEPRECATED_API, Enforcement.ADVISORY, None, message))
    return findings


def _release_or_none(text: str) -> tuple[int, int] | None:
    parsed = parse_version(text)
    return None if parsed is None else (parsed[0], parsed[1])


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _json_object(text: Any) -> Mapping[str, Any] | None:
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None  # an annotation someone hand-edited: nothing to read, and no reason to fail the scan
    return value if isinstance(value, Mapping) else None

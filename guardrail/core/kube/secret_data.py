"""A Secret's values never leave guardrail: masked in every change, kept only as literals to scrub text with.

A Secret carries its values in `data` (base64) and `stringData` (plain), and kubectl copies the whole object,
values included, into the `kubectl.kubernetes.io/last-applied-configuration` annotation of a live object.
This module is the one place that knows that: the offline gate, the live reading and the apply all mask and
collect through it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from guardrail.core.kube.objects import LAST_APPLIED_ANNOTATION, split_api_version
from guardrail.core.secrets import literal_secrets
from guardrail.core.values import SENSITIVE_PLACEHOLDER

VALUE_FIELDS = ("data", "stringData")


def is_secret(manifest: Mapping[str, Any]) -> bool:
    """Whether the object is a core/v1 Secret (any version of the core group)."""
    if manifest.get("kind") != "Secret":
        return False
    group, _ = split_api_version(str(manifest.get("apiVersion", "")))
    return group == ""


def shown_manifest(manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    """The manifest as any output may show it: a Secret's values masked, every other object as it is."""
    return masked_secret(manifest)[0] if is_secret(manifest) else manifest


def masked_secret(manifest: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A copy of a Secret with every value (and kubectl's last-applied copy of them) replaced by the
    placeholder, and the sensitive mask saying where (the shape of Terraform's `*_sensitive`)."""
    copy = dict(manifest)
    mask: dict[str, Any] = {}
    for name in VALUE_FIELDS:
        values = manifest.get(name)
        if isinstance(values, Mapping):
            copy[name] = dict.fromkeys(values, SENSITIVE_PLACEHOLDER)
            mask[name] = dict.fromkeys(values, True)
        elif values is not None:
            copy[name] = SENSITIVE_PLACEHOLDER  # not a map: the API refuses it, and it is still no one's to see
            mask[name] = True
    metadata = manifest.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    if isinstance(metadata, Mapping) and isinstance(annotations, Mapping) and LAST_APPLIED_ANNOTATION in annotations:
        masked_annotations = {**annotations, LAST_APPLIED_ANNOTATION: SENSITIVE_PLACEHOLDER}
        copy["metadata"] = {**metadata, "annotations": masked_annotations}
        mask["metadata"] = {"annotations": {LAST_APPLIED_ANNOTATION: True}}
    return copy, mask


def secret_values(manifest: Mapping[str, Any]) -> Iterator[str]:
    """Every value a Secret holds, as written and, for `data`, decoded from base64 when it is text: a policy
    message or a log line may quote either. Nothing for any other object."""
    if not is_secret(manifest):
        return
    for name in VALUE_FIELDS:
        values = manifest.get(name)
        if not isinstance(values, Mapping):
            continue
        for value in values.values():
            if not isinstance(value, str):
                continue
            yield value
            if name == "data":
                decoded = _decoded(value)
                if decoded:
                    yield decoded
    metadata = manifest.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    if isinstance(annotations, Mapping) and isinstance(annotations.get(LAST_APPLIED_ANNOTATION), str):
        yield annotations[LAST_APPLIED_ANNOTATION]


def secret_literals(manifests: Iterable[Mapping[str, Any] | None]) -> frozenset[str]:
    """The literal Secret values among `manifests` (None skipped), long enough to scrub text with safely."""
    return literal_secrets(value for manifest in manifests if manifest is not None for value in secret_values(manifest))


def _decoded(value: str) -> str | None:
    try:
        raw = base64.b64decode(value, validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return text.strip() or None

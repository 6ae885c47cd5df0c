"""A Secret's values never leave guardrail: masked in every change, kept only as literals to scrub text with.

A Secret carries its values in `data` (base64) and `stringData` (plain), and kubectl copies the whole object,
values included, into the `kubectl.kubernetes.io/last-applied-configuration` annotation of a live object.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from typing import Any

from guardrail.core.kube.objects import split_api_version
from guardrail.core.values import SENSITIVE_PLACEHOLDER

VALUE_FIELDS = ("data", "stringData")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def is_secret(manifest: Mapping[str, Any]) -> bool:
    """Whether the object is a core/v1 Secret (any version of the core group)."""
    if manifest.get("kind") != "Secret":
        return False
    group, _ = split_api_version(str(manifest.get("apiVersion", "")))
    return group == ""


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
    if isinstance(metadata, Mapping) and isinstance(annotations, Mapping) and LAST_APPLIED in annotations:
        copy["metadata"] = {**metadata, "annotations": {**annotations, LAST_APPLIED: SENSITIVE_PLACEHOLDER}}
        mask["metadata"] = {"annotations": {LAST_APPLIED: True}}
    return copy, mask


def secret_values(manifest: Mapping[str, Any]) -> Iterator[str]:
    """Every value a Secret holds, as written and, for `data`, decoded from base64 when it is text: a policy
    message or a log line may quote either."""
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
    if isinstance(annotations, Mapping) and isinstance(annotations.get(LAST_APPLIED), str):
        yield annotations[LAST_APPLIED]


def _decoded(value: str) -> str | None:
    try:
        raw = base64.b64decode(value, validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return text.strip() or None

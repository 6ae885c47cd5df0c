from __future__ import annotations

from guardrail.core.values import mask_at, redact, sensitive_leaves

MASKED = "(sensitive value)"  # what every output shows in place of a value marked sensitive


def test_redact_masks_marked_leaves_only() -> None:
    value = {"user": "app", "password": "hunter22", "nested": [{"k": "secret-1"}, {"k": "open"}]}
    mask = {"password": True, "nested": [{"k": True}, {}]}
    assert redact(value, mask) == {
        "user": "app",
        "password": MASKED,
        "nested": [{"k": MASKED}, {"k": "open"}],
    }
    assert sorted(sensitive_leaves(value, mask)) == ["hunter22", "secret-1"]


def test_mismatched_mask_fails_closed() -> None:
    assert redact("whole-secret", {"x": True}) == MASKED
    assert list(sensitive_leaves("whole-secret", {"x": True})) == ["whole-secret"]
    assert redact("plain", {"x": False}) == "plain"


def test_mask_at_parents_cover_children() -> None:
    assert mask_at({"tags": True}, ("tags", "env"))
    assert not mask_at({"tags": {"env": False}}, ("tags", "env"))

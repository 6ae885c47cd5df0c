"""A rollback plan (and a rollback apply's end) for people (text) and machines (json).

The rollback plan's own report follows in the same format: its verdict, its changes with their
reversibility (a rollback that deletes a bucket the forward apply made is itself irreversible).
"""

from __future__ import annotations

import json
from typing import Any

from guardrail.adapters.render.common import neutralise
from guardrail.adapters.render.text import TextRenderer
from guardrail.core.rollback.plan import RollbackPlan, RollbackResult

ROLLBACK_VERIFIED = "rollback verified"


def render_text(plan: RollbackPlan, result: RollbackResult | None = None, *, color: bool = False) -> str:
    """The rollback's head (target, what it undoes, what it cannot), the plan's report, then the end."""
    scrub = plan.scrubber()

    def clean(text: str) -> str:
        return neutralise(scrub(text))

    target, undo = plan.target, plan.undo
    going = f"to {target.commit[:12]} ({clean(target.ref)})"
    lines = [f"rollback of {clean(target.directory)} (workspace {clean(target.workspace_name)}) {going}"]
    if target.undoes is None:
        lines.append("undoes: no successful apply of this workspace is recorded")
    else:
        at = f", commit {target.undoes.commit[:12]}" if target.undoes.commit else ""
        lines.append(f"undoes: the apply of audit event {target.undoes.seq} (plan {target.undoes.fingerprint}{at})")
    if undo.forward_known:
        lines.append(f"undone ({len(undo.undone)}): {_names(clean, undo.undone)}")
        lines.append(f"cannot be undone ({len(undo.cannot_undo)}):" + ("" if undo.cannot_undo else " none"))
        lines.extend(f"  - {clean(c.address)}: {c.reversibility.value}: {clean(c.reason)}" for c in undo.cannot_undo)
        if undo.untouched:
            lines.append(f"left as they are ({len(undo.untouched)}): {_names(clean, undo.untouched)}")
    if undo.also_changes:
        lines.append(f"also changes ({len(undo.also_changes)}): {_names(clean, undo.also_changes)}")
    lines.append("")
    lines.append(TextRenderer(color=color).render(plan.report).rstrip("\n"))
    if result is not None:
        lines.append("")
        lines.extend(_end(clean, result))
    return "\n".join(lines) + "\n"


def _end(clean: Any, result: RollbackResult) -> list[str]:
    if not result.applied:
        return ["rollback not applied: the rollback plan is not allowed (see its verdict above)"]
    lines = [f"rollback point: {clean(result.rollback_point)}"] if result.rollback_point else []
    if result.verified:
        lines.append(f"{ROLLBACK_VERIFIED}: a new plan of the target commit changes nothing")
    else:
        lines.append(f"rollback NOT verified: a new plan of the target still changes {len(result.remaining)}:")
        lines.extend(f"  - {clean(address)}" for address in result.remaining)
    return lines


def _names(clean: Any, addresses: tuple[str, ...], shown: int = 20) -> str:
    if not addresses:
        return "none"
    more = len(addresses) - shown
    return ", ".join(clean(a) for a in addresses[:shown]) + (f" and {more} more" if more > 0 else "")


def render_json(plan: RollbackPlan, result: RollbackResult | None = None) -> str:
    """One JSON document: `rollback` (target, undoes, undone, cannot_undo, left, also_changes, and after an
    apply `applied`, `verified`, `remaining`) and `report`, the rollback plan's report (the check's JSON)."""
    from guardrail.adapters.render.json_format import JsonRenderer

    scrub = plan.scrubber()
    target, undo = plan.target, plan.undo
    doc: dict[str, Any] = {
        "directory": scrub(target.directory),
        "workspace": scrub(target.workspace),
        "to": {"ref": scrub(target.ref), "commit": target.commit},
        "undoes": target.link()["undoes"],
        "forward_known": undo.forward_known,
        "undone": [scrub(a) for a in undo.undone],
        "cannot_undo": [
            {"address": scrub(c.address), "reversibility": c.reversibility.value, "reason": scrub(c.reason)}
            for c in undo.cannot_undo
        ],
        "left": [scrub(a) for a in undo.untouched],
        "also_changes": [scrub(a) for a in undo.also_changes],
    }
    if result is not None:
        doc.update(
            applied=result.applied,
            verified=result.verified,
            remaining=[scrub(a) for a in result.remaining],
            rollback_point=result.rollback_point,
        )
    report = json.loads(JsonRenderer().render(plan.report))
    return json.dumps({"rollback": doc, "report": report}, indent=2, ensure_ascii=False) + "\n"

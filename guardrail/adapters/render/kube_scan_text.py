"""A `kube scan` for a person at a terminal: the verdict first, what was read, then what would break, what is
only deprecated, and what could not be read. Names from the cluster go through `neutralise`."""

from __future__ import annotations

from guardrail.adapters.render.common import neutralise
from guardrail.core.kube.scan import ScanReport
from guardrail.core.kube.wording import plural
from guardrail.core.verdict import Enforcement, Finding

_RESET = "\x1b[0m"


def render_scan(report: ScanReport, *, color: bool = False) -> str:
    """The scan as text (see the module docstring)."""

    def paint(text: str, style: str) -> str:
        return f"\x1b[{style}m{text}{_RESET}" if color else text

    breaks = report.breaks
    if breaks or report.unreadable:
        head = paint(f"{plural(len(breaks), 'thing')} would break (exit {report.exit_code})", "1;31")
    else:
        head = paint("nothing would break (exit 0)", "1;32")
    lines = [
        f"guardrail: kube scan of {neutralise(report.cluster)} (Kubernetes {report.version}) for "
        f"{report.target_version}: {head}",
        f"listed {plural(report.kinds, 'kind')} the deprecated-API table judges, {plural(report.objects, 'object')}; "
        + ("/metrics read" if report.metric is None else neutralise(report.metric)),
    ]
    deprecated = [f for f in report.findings if f.enforcement is not Enforcement.HARD]
    for title, found in (("Would break", breaks), ("Deprecated", deprecated)):
        if found:
            lines.extend(["", paint(f"{title} ({len(found):,})", "1")])
            lines.extend(_line(finding) for finding in found)
    if report.unreadable:
        lines.extend(["", paint(f"Not readable ({len(report.unreadable):,}): objects unknown", "1")])
        lines.extend(f"  {neutralise(kind)}: listing forbidden" for kind in report.unreadable)
    return "\n".join(lines) + "\n"


def _line(finding: Finding) -> str:
    where = neutralise(finding.address) if finding.address else "clients"
    return f"  [{finding.enforcement.value.upper()}] {where}: {neutralise(finding.message)}"

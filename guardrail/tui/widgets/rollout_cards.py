"""The Rollouts screen's pieces: a cluster of a run (its line, failing gates and a sparkline of the API
server's utilisation as observed), and one rehearsal's outcome with each cluster's simulated utilisation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.color import Color, blend_rgb
from rich.console import Console, ConsoleOptions
from rich.console import RenderResult as RichRenderResult
from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult, RenderResult
from textual.containers import Horizontal, Vertical
from textual.renderables.sparkline import Sparkline as SparklineRenderable
from textual.widgets import Sparkline, Static

from guardrail.core.rollout.rehearsal import RehearsalReport
from guardrail.services.rollout_status import ClusterProgress
from guardrail.tui.inert import Tone, inert
from guardrail.tui.rollout_words import (
    CLUSTER_TONES,
    FULL_SCALE,
    REHEARSED_TONES,
    cluster_line,
    failing_gates,
    rehearsal_title,
    rehearsed_line,
)


class _ScaledBars(SparklineRenderable[float]):
    """One line of bars on a fixed scale, 0 to FULL_SCALE (or the peak when higher), not from the data's own
    minimum to maximum: 0.20 then looks like 0.20, and a cluster past 1 (overloaded) fills its bars."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RichRenderResult:
        width = self.width or options.max_width
        data = list(self.data)
        top = max(FULL_SCALE, *data) if data else FULL_SCALE
        buckets = list(self._buckets(data, num_buckets=width)) if len(data) >= width else [[v] for v in data]
        low, high = self.min_color.color, self.max_color.color
        assert low is not None
        assert high is not None
        for bucket in buckets:
            ratio = min(self.summary_function(bucket) / top, 1.0)
            style = Style.from_color(Color.from_triplet(blend_rgb(low.get_truecolor(), high.get_truecolor(), ratio)))
            yield Segment(self.BARS[min(int(ratio * len(self.BARS)), len(self.BARS) - 1)], style)
        yield Segment(" " * max(width - len(buckets), 0))


class UtilisationSparkline(Sparkline):
    """Textual's Sparkline of API server utilisation, drawn on a fixed scale (see _ScaledBars)."""

    def render(self) -> RenderResult:
        plain = super().render()
        assert isinstance(plain, SparklineRenderable)
        return _ScaledBars(
            plain.data,
            width=plain.width,
            min_color=plain.min_color.color or Color.default(),
            max_color=plain.max_color.color or Color.default(),
            summary_function=plain.summary_function,
        )


def _spark(values: Sequence[float], classes: str) -> Sparkline:
    return UtilisationSparkline(list(values), summary_function=max, classes=classes)


class ClusterCard(Vertical):
    """One cluster of a run."""

    def __init__(self, cluster: ClusterProgress, theme: Mapping[str, str]) -> None:
        super().__init__(classes="cluster-card")
        self.cluster, self.theme = cluster, theme

    def compose(self) -> ComposeResult:
        tone = CLUSTER_TONES.get(self.cluster.state, Tone.PLAIN)
        with Horizontal(classes="cluster-row"):
            yield Static(inert(cluster_line(self.cluster), tone, self.theme), classes="cluster-line")
            yield _spark(self.cluster.utilisation, "cluster-spark")
        for gate in failing_gates(self.cluster):
            yield Static(inert(f"  {gate}", Tone.BAD, self.theme), classes="cluster-gate")


class RehearsalPanel(Vertical):
    """One rehearsal: outcome and reason, then each cluster with its simulated utilisation."""

    def __init__(self, report: RehearsalReport, theme: Mapping[str, str]) -> None:
        super().__init__(classes="rehearsal-panel")
        self.report, self.theme = report, theme

    def compose(self) -> ComposeResult:
        good = self.report.succeeded
        yield Static(
            inert(rehearsal_title(self.report), Tone.GOOD if good else Tone.BAD, self.theme, bold=True),
            classes="rehearsal-title",
        )
        yield Static(inert(self.report.reason, Tone.MUTED, self.theme), classes="rehearsal-reason")
        for cluster in self.report.clusters:
            tone = REHEARSED_TONES.get(cluster.state, Tone.PLAIN)
            yield Static(inert(rehearsed_line(cluster), tone, self.theme), classes="rehearsal-cluster")
            yield _spark(cluster.timeline, "rehearsal-spark")

"""The Rollouts screen: the runs, newest first; the selected one's clusters (step, coverage, gates, a
sparkline of the API server's utilisation), the load gate's arithmetic, and pause, resume and abort, each
confirmed first. `h` rehearses a fleet file guarded and naive, side by side (a simulated fleet: nothing
changes). Refreshed every few seconds while shown: another terminal's changes appear."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Static

from guardrail.core.rollout.rehearsal import RehearsalReport
from guardrail.core.runs import RunRecord
from guardrail.services.rollout_status import RunView
from guardrail.tui.calls import run_driver, run_service, tell
from guardrail.tui.inert import Tone, inert
from guardrail.tui.rollout_words import (
    STATUS_TONES,
    abort_words,
    pause_words,
    projection_lines,
    resume_words,
    summary_lines,
)
from guardrail.tui.widgets.modals import ActionModal, ConfirmModal, FormField, ModalText
from guardrail.tui.widgets.rollout_cards import ClusterCard, RehearsalPanel

if TYPE_CHECKING:
    from guardrail.tui.app import GuardrailApp

_COLUMNS = ("run", "status", "workload", "at", "updated (UTC)")
DEFAULT_FLEET = Path("examples/rollout/december.yaml")
REFRESH_SECONDS = 5.0


class RolloutsScreen(Screen[None]):
    """Fleet rollouts as they happen, and rehearsals of what one would do."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "pause", "Pause"),
        Binding("r", "resume", "Resume"),
        Binding("x", "abort", "Abort"),
        Binding("h", "rehearse", "Rehearse"),
        Binding("ctrl+r", "refresh_rollouts", "Refresh"),
    ]

    def __init__(self) -> None:
        super().__init__(id="rollouts")
        self._views: list[RunView] = []
        self._selected: str | None = None
        self._timer: Timer | None = None
        self._rehearsed_once = False
        self.driving: threading.Thread | None = None  # the last resume or abort this screen drives

    @property
    def guardrail(self) -> GuardrailApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(inert("Rollouts", bold=True), id="rollouts-title", classes="screen-title")
        yield Static(id="rollouts-message")
        yield DataTable(id="rollouts-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="rollout-detail"):
            yield Static(id="rollout-summary")
            yield Vertical(id="rollout-clusters")
            yield Static(id="rollout-projection")
        yield Horizontal(id="rehearsals")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in _COLUMNS:
            table.add_column(column, key=column)
        self.query_one("#rehearsals").display = False
        self._message(None)
        self._timer = self.set_interval(REFRESH_SECONDS, self.action_refresh_rollouts, pause=True)
        table.focus()

    def on_screen_resume(self) -> None:
        self.action_refresh_rollouts()
        if self._timer is not None:
            self._timer.resume()
        fleet = self.guardrail.session.fleet_file
        if fleet is not None and not self._rehearsed_once:
            self._rehearsed_once = True
            self.rehearse(fleet)

    def on_screen_suspend(self) -> None:
        if self._timer is not None:
            self._timer.pause()

    def _message(self, text: str | None, tone: Tone = Tone.BAD) -> None:
        message = self.query_one("#rollouts-message", Static)
        message.display = bool(text)
        message.update(inert(text or "", tone, self.app.theme_variables))

    # -- the runs -------------------------------------------------------------------------------------

    def action_refresh_rollouts(self) -> None:
        run_service(self, self.guardrail.session.rollouts, self._show, self._message, group="rollouts")

    def _show(self, views: list[RunView]) -> None:
        self._views = views
        table = self.query_one(DataTable)
        theme = self.app.theme_variables
        table.clear()
        for view in views:
            record = view.record
            table.add_row(
                inert(view.id),
                inert(record.status.value, STATUS_TONES.get(record.status, Tone.PLAIN), theme),
                inert(record.subject),
                inert(view.where),
                inert(record.updated_at.strftime("%Y-%m-%d %H:%M:%S"), Tone.MUTED, theme),
                key=view.id,
            )
        if not views:
            self._message("No rollouts yet. Press h to rehearse a fleet file.", Tone.MUTED)
            self._detail(None)
            return
        if self._selected not in {v.id for v in views}:
            self._selected = views[0].id
        table.move_cursor(row=[v.id for v in views].index(self._selected))
        self._detail(self._view())

    def _view(self) -> RunView | None:
        return next((v for v in self._views if v.id == self._selected), None)

    @on(DataTable.RowHighlighted, "#rollouts-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None and event.row_key.value != self._selected:
            self._selected = event.row_key.value
            self._detail(self._view())

    def _detail(self, view: RunView | None) -> None:
        theme = self.app.theme_variables
        summary = self.query_one("#rollout-summary", Static)
        clusters = self.query_one("#rollout-clusters", Vertical)
        clusters.remove_children()
        if view is None:
            summary.update("")
            self.query_one("#rollout-projection", Static).update("")
            return
        tone = STATUS_TONES.get(view.record.status, Tone.PLAIN)
        summary.update(_lines(summary_lines(view), tone, theme))
        clusters.mount_all([ClusterCard(cluster, theme) for cluster in view.clusters])
        projection = _lines(projection_lines(view.projection), Tone.PLAIN, theme)
        self.query_one("#rollout-projection", Static).update(projection)

    # -- actions --------------------------------------------------------------------------------------

    def _chosen(self) -> RunView | None:
        view = self._view()
        if view is None:
            self._message("No rollout selected.", Tone.MUTED)
        elif not view.record.status.active:
            self._message(f"Rollout {view.id} has ended ({view.record.status.value}).", Tone.MUTED)
            return None
        return view

    def action_pause(self) -> None:
        view = self._chosen()
        if view is not None:
            modal = ConfirmModal(ModalText(f"Pause {view.id}", pause_words(view.id), "Pause"))
            self.app.push_screen(modal, partial(self._pause, view.id))

    def _pause(self, run_id: str, confirmed: bool | None) -> None:
        if confirmed:
            call = partial(self.guardrail.session.pause_rollout, run_id)
            run_service(self, call, self._changed, self._failed, group="rollout-action")

    def action_resume(self) -> None:
        view = self._chosen()
        if view is not None:
            modal = ConfirmModal(ModalText(f"Resume {view.id}", resume_words(view.id), "Resume"))
            self.app.push_screen(modal, partial(self._resume, view.id))

    def _resume(self, run_id: str, confirmed: bool | None) -> None:
        if confirmed:
            self._message(f"Driving {run_id} from this terminal…", Tone.ACCENT)
            call = partial(self.guardrail.session.resume_rollout, run_id)
            self.driving = run_driver(self, call, self._changed, self._failed)

    def action_abort(self) -> None:
        view = self._chosen()
        if view is not None:
            modal = ConfirmModal(
                ModalText(f"Abort {view.id}", abort_words(view.id), "Abort and roll back", danger=True)
            )
            self.app.push_screen(modal, partial(self._abort, view.id))

    def _abort(self, run_id: str, confirmed: bool | None) -> None:
        if confirmed:
            self._message(f"Aborting {run_id}…", Tone.ACCENT)
            call = partial(self.guardrail.session.abort_rollout, run_id)
            self.driving = run_driver(self, call, self._changed, self._failed)

    def _changed(self, record: RunRecord) -> None:
        words = f"Rollout {record.id}: {record.status.value}" + (
            f", {record.requested.value} requested" if record.requested is not None else ""
        )
        self._message(None)
        tell(self, words, title="Rollouts")
        self.action_refresh_rollouts()

    def _failed(self, problem: str) -> None:
        self._message(problem)
        tell(self, problem, title="Rollouts", severity="error")
        self.action_refresh_rollouts()

    # -- rehearsals -----------------------------------------------------------------------------------

    def action_rehearse(self) -> None:
        default = self.guardrail.session.fleet_file or DEFAULT_FLEET
        path = FormField("fleet", "Fleet file", required=True, value=str(default), placeholder=str(DEFAULT_FLEET))
        body = "Rehearse the fleet file on a simulated fleet, guarded and naive, side by side: nothing changes."
        self.app.push_screen(ActionModal(ModalText("Rehearse", body, "Rehearse", fields=(path,))), self._rehearse_form)

    def _rehearse_form(self, values: dict[str, str] | None) -> None:
        if values:
            self.rehearse(Path(values["fleet"]))

    def rehearse(self, fleet: Path) -> None:
        """Rehearse `fleet` both ways in a worker; the panels appear when both are done."""
        self._message(f"Rehearsing {fleet} guarded and naive…", Tone.ACCENT)
        call = partial(self.guardrail.session.rehearse_fleet, fleet)
        run_service(self, call, self._rehearsed, self._failed, group="rehearse")

    def _rehearsed(self, reports: tuple[RehearsalReport, RehearsalReport]) -> None:
        self._message(None)
        panels = self.query_one("#rehearsals", Horizontal)
        panels.remove_children()
        panels.mount_all([RehearsalPanel(report, self.app.theme_variables) for report in reports])
        panels.display = True


def _lines(lines: list[str], tone: Tone, theme: Mapping[str, str]) -> Text:
    """Inert lines, one under the other (inert alone would show a newline as an escape)."""
    return Text("\n", end="").join(inert(line, tone, theme) for line in lines)

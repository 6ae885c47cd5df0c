"""The Nodes screen: node-pool cycles from the store and rehearsals of simulated pools; the selected one in
full (per-stratum progress, phase timings against budgets, why it halted); pause, resume and abort, each
confirmed first. Cycles are read again every few seconds while the screen is shown."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Static

from guardrail.core.runs import RunStatus
from guardrail.services.nodes_cycle import SUBJECT_PREFIX
from guardrail.services.nodes_rehearse import Rehearsal
from guardrail.services.nodes_runs import CycleView
from guardrail.tui.calls import run_service, tell
from guardrail.tui.inert import Tone, inert
from guardrail.tui.widgets.cycle_detail import STATUS_TONES, ShownCycle, cycle_text
from guardrail.tui.widgets.modals import ActionModal, ConfirmModal, FormField, ModalText
from guardrail.tui.wording import cycle_request_words, when

if TYPE_CHECKING:
    from guardrail.tui.app import GuardrailApp

_COLUMNS = ("run", "pool", "status", "cycled", "updated")
REFRESH_SECONDS = 5.0
DEFAULT_POOL_FILE = Path("examples/nodes/outage.yaml")
_ASK = {"pause": "Pause", "resume": "Resume", "abort": "Abort"}
_EMPTY = "No node cycles in the store. Press h to rehearse a simulated pool."


class NodesScreen(Screen[None]):
    """GPU node-pool cycles: watch them, and pause, resume or abort them from here."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "ask('pause')", "Pause"),
        Binding("r", "ask('resume')", "Resume"),
        Binding("x", "ask('abort')", "Abort"),
        Binding("h", "rehearse", "Rehearse pool"),
        Binding("ctrl+r", "refresh_cycles", "Refresh"),
    ]

    def __init__(self) -> None:
        super().__init__(id="nodes")
        self._runs: list[CycleView] = []
        self._rehearsals: list[tuple[Path, Rehearsal]] = []
        self._rows: list[ShownCycle] = []
        self._timer: Timer | None = None
        self._shown_message: str | None = None

    @property
    def guardrail(self) -> GuardrailApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(inert("Node-pool cycles", bold=True), id="nodes-title", classes="screen-title")
        yield Static(id="nodes-message")
        with Horizontal(id="nodes-body"):
            yield DataTable(id="cycles-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="cycle-detail"):
                yield Static(id="cycle-text")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in _COLUMNS:
            table.add_column(column, key=column)
        self._message(None)
        table.focus()
        self._timer = self.set_interval(REFRESH_SECONDS, self.action_refresh_cycles, pause=True)
        files = self.guardrail.session.pool_files
        if files:
            self._rehearse(files)

    def on_screen_resume(self) -> None:
        self.action_refresh_cycles()
        if self._timer is not None:
            self._timer.resume()

    def on_screen_suspend(self) -> None:
        if self._timer is not None:
            self._timer.pause()

    def _message(self, text: str | None, tone: Tone = Tone.BAD) -> None:
        self._shown_message = text
        message = self.query_one("#nodes-message", Static)
        message.display = bool(text)
        message.update(inert(text or "", tone, self.app.theme_variables))

    # -- the list -------------------------------------------------------------------------------------

    def action_refresh_cycles(self) -> None:
        run_service(self, self.guardrail.session.node_cycles, self._show_runs, self._failed, group="node-cycles")

    def _failed(self, problem: str) -> None:
        self._message(problem)

    def _show_runs(self, runs: list[CycleView]) -> None:
        self._runs = runs
        self._redraw()

    def _redraw(self) -> None:
        table = self.query_one(DataTable)
        selected = self._selected()
        self._rows = [
            *(ShownCycle(v.record, v.report, v.problem) for v in self._runs),
            *(
                ShownCycle(r.record, r.report, rehearsal=str(path), preflight=r.preflight)
                for path, r in self._rehearsals
            ),
        ]
        table.clear()
        theme = self.app.theme_variables
        for row in self._rows:
            record, report = row.record, row.report
            total = sum(s.nodes for s in report.strata) if report is not None else 0
            cycled = f"{report.nodes_cycled}/{total}" if report is not None else "?"
            run = "rehearsal" if row.rehearsal else record.id
            pool = row.rehearsal or record.subject.removeprefix(SUBJECT_PREFIX)
            status = inert(record.status.value, STATUS_TONES[record.status], theme)
            updated = "simulated" if row.rehearsal else when(record.updated_at)
            table.add_row(inert(run), inert(pool), status, inert(cycled), inert(updated), key=_key(row))
        if not self._rows:
            self._message(_EMPTY, Tone.MUTED)
        elif self._shown_message == _EMPTY:
            self._message(None)  # a problem stays shown until the next action says otherwise
        keys = [_key(row) for row in self._rows]
        if selected is not None and _key(selected) in keys:
            table.move_cursor(row=keys.index(_key(selected)))
        self._show_detail()

    def _selected(self) -> ShownCycle | None:
        table = self.query_one(DataTable)
        if not self._rows or table.cursor_row < 0 or table.cursor_row >= len(self._rows):
            return None
        return self._rows[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        shown = self._selected()
        text = self.query_one("#cycle-text", Static)
        if shown is None:
            text.update(inert("Select a cycle to see its strata and phase timings.", Tone.MUTED))
            return
        text.update(cycle_text(shown, self.app.theme_variables))

    # -- rehearsals -----------------------------------------------------------------------------------

    def action_rehearse(self) -> None:
        files = self.guardrail.session.pool_files
        default = str(files[0] if files else DEFAULT_POOL_FILE)
        field = FormField("path", "Pool file", required=True, value=default, placeholder="examples/nodes/outage.yaml")
        body = "Cycle a simulated pool with the real engine, in simulated time; nothing is stored or changed."
        self.app.push_screen(ActionModal(ModalText("Rehearse a pool", body, "Rehearse", fields=(field,))), self._path)

    def _path(self, values: dict[str, str] | None) -> None:
        if values:
            self._rehearse((Path(values["path"]),))

    def _rehearse(self, files: tuple[Path, ...]) -> None:
        self._message(f"Rehearsing {', '.join(str(f) for f in files)}...", Tone.MUTED)
        session = self.guardrail.session

        def rehearse_all() -> list[tuple[Path, Rehearsal]]:
            return [(path, session.rehearse_pool(path)) for path in files]

        run_service(self, rehearse_all, self._rehearsed, self._failed, group="rehearse")

    def _rehearsed(self, done: list[tuple[Path, Rehearsal]]) -> None:
        self._message(None)
        paths = {path for path, _ in done}
        self._rehearsals = [r for r in self._rehearsals if r[0] not in paths] + done
        self._redraw()
        table = self.query_one(DataTable)
        table.move_cursor(row=len(self._rows) - 1)  # the rehearsal just made
        self._show_detail()

    # -- pause, resume, abort -------------------------------------------------------------------------

    def action_ask(self, action: str) -> None:
        shown = self._selected()
        if shown is None or shown.rehearsal:
            tell(self, "Select a node cycle of the store first (a rehearsal has ended).", severity="warning")
            return
        record = shown.record
        if not record.status.active:
            tell(self, f"Run {record.id} has ended ({record.status.value}).", severity="warning")
            return
        in_hand = sum(s.in_hand for s in shown.report.strata) if shown.report is not None else 0
        words = cycle_request_words(action, record.id, record.subject, in_hand)
        text = ModalText(f"{_ASK[action]} this node cycle?", words, _ASK[action], danger=action == "abort")
        self.app.push_screen(ConfirmModal(text), partial(self._confirmed, action, record.id))

    def _confirmed(self, action: str, run_id: str, yes: bool | None) -> None:
        if not yes:
            return
        session = self.guardrail.session
        call = {"pause": session.pause_cycle, "resume": session.resume_cycle, "abort": session.abort_cycle}[action]
        run_service(self, partial(call, run_id), partial(self._asked, action), self._refused, group="cycle-request")

    def _asked(self, action: str, view: CycleView) -> None:
        self._message(None)
        record = view.record
        if record.status is RunStatus.ABORTED:
            words = f"Run {record.id} aborted: the pool is free"
        else:
            words = f"{_ASK[action]} asked of run {record.id}: the process driving it acts at its next step"
        tell(self, words, title="Nodes")
        self.action_refresh_cycles()

    def _refused(self, problem: str) -> None:
        self._message(problem)
        tell(self, problem, title="Nodes", severity="error")


def _key(row: ShownCycle) -> str:
    return f"rehearsal:{row.rehearsal}" if row.rehearsal else row.record.id

"""The operator's app: five screens over one session of services, switched with 1-5 or the palette.

`make_app` builds it for `guardrail tui` and for the tests. The app owns the plan under review; the
screens watch it. Every service call runs in a worker thread (see calls.run_service).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen

from guardrail.services.session import OperatorSession, Review
from guardrail.tui.calls import run_service
from guardrail.tui.screens.approvals import ApprovalsScreen
from guardrail.tui.screens.audit import AuditScreen
from guardrail.tui.screens.locks import LocksScreen
from guardrail.tui.screens.nodes import NodesScreen
from guardrail.tui.screens.review import ReviewScreen
from guardrail.tui.screens.rollouts import RolloutsScreen
from guardrail.tui.widgets.modals import ActionModal, FormField, ModalText

SCREENS = {
    "review": "Review",
    "locks": "Locks",
    "approvals": "Approvals",
    "audit": "Audit",
    "rollouts": "Rollouts",
    "nodes": "Nodes",
}


class GuardrailApp(App[int]):
    """Review a change, its blast radius and findings; manage locks, approvals and the audit log; watch,
    pause and abort node-pool cycles."""

    CSS_PATH = "app.tcss"
    TITLE = "guardrail"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show('review')", "Review"),
        Binding("2", "show('locks')", "Locks"),
        Binding("3", "show('approvals')", "Approvals"),
        Binding("4", "show('audit')", "Audit"),
        Binding("5", "show('rollouts')", "Rollouts"),
        Binding("6", "show('nodes')", "Nodes"),
        Binding("o", "open_plan", "Open plan"),
        Binding("q", "quit", "Quit"),
    ]

    review: reactive[Review | None] = reactive(None, always_update=True, init=False)
    review_problem: reactive[str | None] = reactive(None, init=False)
    loading_plan: reactive[str | None] = reactive(None, init=False)

    def __init__(self, session: OperatorSession, plans: Sequence[Path] = ()) -> None:
        super().__init__()
        self.session = session
        self.plans = list(plans)
        self.plan: Path | None = None
        for name, screen in (
            ("review", ReviewScreen),
            ("locks", LocksScreen),
            ("approvals", ApprovalsScreen),
            ("audit", AuditScreen),
            ("rollouts", RolloutsScreen),
            ("nodes", NodesScreen),
        ):
            self.add_mode(name, screen)

    def on_mount(self) -> None:
        self.switch_mode("review")
        # Open (and on first use create) the store while the plan is being checked, not after.
        run_service(self, self.session.store, _ignore, _ignore, group="store")
        if self.plans:
            self.open_plan(self.plans[0])

    def on_unmount(self) -> None:
        self.session.close()

    # -- the plan under review ------------------------------------------------------------------------

    def open_plan(self, plan: Path) -> None:
        """Check `plan` in a worker; the screens show it when it is ready."""
        self.plan = plan
        self.loading_plan = str(plan)
        self.review_problem = None
        run_service(self, partial(self.session.review, plan), self._reviewed, self._review_failed, group="review")

    def reload_plan(self) -> None:
        if self.plan is not None:
            self.open_plan(self.plan)

    def resettle(self) -> None:
        """Settle the plan again after locks or approvals changed (no new parse, no new rules run)."""
        current = self.review
        if current is not None:
            call = partial(self.session.settle, current.plan, current.unsettled)
            run_service(self, call, self._reviewed, self._review_failed, group="review")

    def _reviewed(self, review: Review) -> None:
        self.loading_plan = None
        self.review = review

    def _review_failed(self, problem: str) -> None:
        self.loading_plan = None
        self.review_problem = f"Cannot check {self.plan}: {problem}"

    # -- actions and the command palette --------------------------------------------------------------

    def action_show(self, mode: str) -> None:
        if self.current_mode != mode:
            self.switch_mode(mode)

    def action_open_plan(self) -> None:
        body = "Check another plan: plan JSON, a binary plan file or a directory (planned with terraform)."
        if self.plans:
            body += " Given on the command line: " + ", ".join(str(p) for p in self.plans)
        path = FormField("path", "Plan", required=True, value=str(self.plan or ""), placeholder="path/to/plan.json")
        self.push_screen(ActionModal(ModalText("Open plan", body, "Open", fields=(path,))), self._open_answer)

    def _open_answer(self, values: dict[str, str] | None) -> None:
        if values:
            self.open_plan(Path(values["path"]))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, title in SCREENS.items():
            yield SystemCommand(f"Show {title}", f"Switch to the {title} screen", partial(self.action_show, mode))
        yield SystemCommand("Open plan…", "Check another plan", self.action_open_plan)
        for plan in self.plans:
            yield SystemCommand(f"Open plan: {plan}", "Check this plan and review it", partial(self.open_plan, plan))
        yield SystemCommand("Reload plan", "Check the current plan again", self.reload_plan)
        yield SystemCommand("Rehearse a fleet…", "Guarded and naive, side by side (simulated)", self.rehearse_fleet)
        yield SystemCommand("Rehearse a node pool…", "Cycle a simulated pool on the Nodes screen", self.rehearse_pool)

    def rehearse_fleet(self) -> None:
        """The Rollouts screen, asking which simulated fleet to rehearse."""
        self._ask_rehearsal("rollouts")

    def rehearse_pool(self) -> None:
        """The Nodes screen, asking which simulated pool to rehearse."""
        self._ask_rehearsal("nodes")

    def _ask_rehearsal(self, mode: str) -> None:
        self.action_show(mode)
        self.call_after_refresh(self._ask_on_screen)

    def _ask_on_screen(self) -> None:
        screen = self.screen
        if isinstance(screen, (RolloutsScreen, NodesScreen)):
            screen.action_rehearse()


def _ignore(_: object) -> None:
    """A result nobody waits for: the screens that need the store report its errors themselves."""


def make_app(session: OperatorSession, plans: Sequence[Path] = ()) -> GuardrailApp:
    """The app for `guardrail tui` and the tests: `plans[0]` is opened first, the rest are one command away.
    The session's rehearsal files are rehearsed when their screen (Rollouts, Nodes) is first shown."""
    return GuardrailApp(session, plans)

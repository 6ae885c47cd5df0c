"""Running a service call off the event loop and bringing its result (or error) back to the screen."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.worker import Worker, get_current_worker

from guardrail.adapters.render.common import neutralise
from guardrail.core.errors import GuardrailError

T = TypeVar("T")


def error_words(error: BaseException) -> str:
    """One line for the operator: guardrail's own errors as they are, anything else as what it is (a bug)."""
    if isinstance(error, GuardrailError):
        return str(error)
    return f"internal error: {type(error).__name__}: {error}"


def run_service(
    owner: DOMNode,
    call: Callable[[], T],
    done: Callable[[T], None],
    failed: Callable[[str], None],
    *,
    group: str,
) -> Worker[None]:
    """Run `call` in a thread worker; `done(result)` or `failed(message)` then run on the event loop.

    A newer call in the same `group` supersedes an older one: the older result is dropped, never shown
    over the newer. Nothing a service raises reaches Textual (it would end the app).
    """

    def work() -> None:
        outcome = _outcome(call, done, failed)
        if get_current_worker().is_cancelled:
            return
        try:
            owner.app.call_from_thread(outcome)
        except RuntimeError:  # the app closed while the call ran: nobody is left to tell
            return

    return owner.run_worker(work, name=group, group=group, thread=True, exclusive=True, exit_on_error=False)


def tell(owner: DOMNode, text: str, *, title: str = "", severity: SeverityLevel = "information") -> None:
    """A notification whose text (often from a plan or the store) is never read as markup."""
    owner.app.notify(neutralise(text), title=neutralise(title), severity=severity, markup=False)


def run_driver(
    owner: DOMNode, call: Callable[[], T], done: Callable[[T], None], failed: Callable[[str], None]
) -> threading.Thread:
    """Run `call`, which may drive a rollout for hours, on a daemon thread of its own: unlike a worker's, it
    never holds the app open when the operator quits. Quitting then leaves the rollout as a killed process
    would (`guardrail rollout resume` continues it from its last completed step)."""

    def work() -> None:
        outcome = _outcome(call, done, failed)
        try:
            owner.app.call_from_thread(outcome)
        except RuntimeError:  # the app closed meanwhile
            return

    thread = threading.Thread(target=work, name="rollout-driver", daemon=True)
    thread.start()
    return thread


def _outcome(call: Callable[[], T], done: Callable[[T], None], failed: Callable[[str], None]) -> Callable[[], None]:
    """Run `call` here; what the event loop must then run: `done(result)`, or `failed(message)`."""
    try:
        result = call()
    except Exception as error:  # shown on the screen, whatever it is
        return partial(failed, error_words(error))
    return partial(done, result)

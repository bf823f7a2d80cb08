"""Provides `AdminScreen`: what every screen shares, above all that no error passes unseen.

Screens read and act in thread workers so that a slow disk never freezes the keyboard.
A worker that raises shows the admin what went wrong in a dialog, in the service's own
words, and never a traceback over the screen (nor one in a log a customer's name could
reach: services raise messages without personal data).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from rich.text import Text
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from appliance.auth.permissions import Principal
from appliance.errors import GembokError
from appliance.runtime import Runtime
from appliance.store.db import close_connection
from tui.dialogs.notice import NoticeDialog
from tui.messages import Done

F = TypeVar("F", bound=Callable[..., Any])
A = TypeVar("A")


def own_connection(func: F) -> F:
    """Each worker closes its database connection when done.

    Textual's thread workers share a pool whose threads live on: a connection left open
    there would still hold the old key after a rekey, or the replaced file after a restore.
    """

    @wraps(func)
    def inner(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        finally:
            close_connection()

    return inner  # type: ignore[return-value]


def cells(*values: object) -> tuple[Text, ...]:
    """Table cells shown as typed: a name like "[/b]" is text, not markup to trip on."""
    return tuple(Text(str(v)) for v in values)


class AdminScreen(Screen[None]):
    NAME = ""

    def on_screen_resume(self) -> None:
        self.title = self.NAME
        self.sub_title = "1 Status 2 People 3 Keys 4 Audit 5 Backup  q Quit"

    @property
    def rt(self) -> Runtime:
        return self.app.rt  # type: ignore[attr-defined, no-any-return]

    @property
    def principal(self) -> Principal:
        """The administrator at this terminal, as the audit names them (`tui:<login>`)."""
        return self.app.principal  # type: ignore[attr-defined,no-any-return]

    def load(self) -> object:
        """Re-read what the screen shows; each screen fills it in (a worker, typically)."""
        return None

    def reload(self) -> None:
        """What timers and finished actions call: never in the middle of maintenance."""
        if not self.app.maintenance:  # type: ignore[attr-defined]
            self.load()

    def on_done(self, message: Done) -> None:
        self.app.push_screen(NoticeDialog(message.title, message.text, error=message.error))
        self.reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, GembokError):
            text = str(error)
        else:
            text = f"{type(error).__name__}: {error}\n\nRun `gembok doctor` to check the box."
        self.app.push_screen(NoticeDialog("Not done", text, error=True))


def if_given(action: Callable[[A], object]) -> Callable[[A | None], None]:
    """A dialog's callback: `action` with the answer, unless the dialog was cancelled."""

    def callback(answer: A | None) -> None:
        if answer:
            action(answer)

    return callback

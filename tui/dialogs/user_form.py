"""Provides `UserForm`: an account's name, role and divisions, for a new account or a change."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, SelectionList

ROLES = ("agent", "supervisor", "admin", "dpo")


@dataclass(frozen=True)
class UserFields:
    username: str
    display_name: str
    email: str
    role: str
    divisions: list[int] = field(default_factory=list)


class UserForm(ModalScreen[UserFields | None]):
    """Without `current` it asks for a new account; with it, only role and divisions change."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, divisions: list[tuple[str, int]],
                 current: UserFields | None = None) -> None:
        super().__init__()
        self.divisions, self.current = divisions, current

    def compose(self) -> ComposeResult:
        now = self.current
        with VerticalScroll(classes="dialog"):
            if now is None:
                yield Label("New account", classes="question")
                yield Input(id="username", placeholder="user name (letters, digits, . - _)")
                yield Input(id="display_name", placeholder="name colleagues see")
                yield Input(id="email", placeholder="e-mail (for new-device notices)")
            else:
                yield Label(f"Change {now.username} ({now.display_name})", classes="question")
            yield Label("Role:")
            yield Select([(r, r) for r in ROLES], value=now.role if now else "agent",
                         id="role", allow_blank=False)
            yield Label("Divisions (Space ticks one):")
            chosen = set(now.divisions) if now else set()
            yield SelectionList[int](*[(name, ident, ident in chosen)
                                       for name, ident in self.divisions], id="divisions")
            with Horizontal(classes="buttons"):
                yield Button("Save" if now else "Create", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "save":
            self.dismiss(None)
            return
        role = str(self.query_one("#role", Select).value)
        divisions = sorted(self.query_one("#divisions", SelectionList).selected)
        if self.current is not None:
            self.dismiss(UserFields(self.current.username, self.current.display_name,
                                    self.current.email, role, divisions))
            return
        self.dismiss(UserFields(self.query_one("#username", Input).value.strip(),
                                self.query_one("#display_name", Input).value.strip(),
                                self.query_one("#email", Input).value.strip(), role, divisions))

    def action_cancel(self) -> None:
        self.dismiss(None)

"""Provides `DivisionForm`: a division's name and how long its conversations are kept."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label


@dataclass(frozen=True)
class DivisionFields:
    name: str
    retention_days: int | None


class DivisionForm(ModalScreen[DivisionFields | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: DivisionFields | None = None) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        now = self.current
        with Vertical(classes="dialog"):
            yield Label(f"Change division {now.name}" if now else "New division",
                        classes="question")
            yield Label("Name:")
            yield Input(now.name if now else "", id="name", placeholder="Sales, Billing, ...")
            yield Label("Keep conversations for (days, 1 to 3650; empty: no limit):")
            yield Input(str(now.retention_days or "") if now else "", id="retention",
                        placeholder="no limit", restrict=r"[0-9]*", max_length=4)
            yield Label("", id="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_input_submitted(self, _: Input.Submitted) -> None:
        self._save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self._save()
        else:
            self.dismiss(None)

    def _save(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        days = self.query_one("#retention", Input).value.strip()
        if not name:
            self.query_one("#form-error", Label).update("A division needs a name.")
            return
        self.dismiss(DivisionFields(name, int(days) if days else None))

    def action_cancel(self) -> None:
        self.dismiss(None)

"""Provides `ConfirmDialog`: yes or no, or a word to type for what cannot be undone."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label


class ConfirmDialog(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, *, word: str = "", action: str = "Yes") -> None:
        super().__init__()
        self.question, self.word, self.action = question, word, action

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="question", markup=False)
            if self.word:
                yield Label(f"Type {self.word} to confirm:")
                yield Input(id="word", placeholder=self.word)
            with Horizontal(classes="buttons"):
                yield Button(self.action, id="yes", variant="error" if self.word else "primary",
                             disabled=bool(self.word))
                yield Button("Cancel", id="no")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#yes", Button).disabled = event.value.strip() != self.word

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.word:
            self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_cancel(self) -> None:
        self.dismiss(False)

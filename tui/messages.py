"""Provides the messages that thread workers post back to their screens."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class Loaded(Message):
    """A worker read something for the screen to show."""

    def __init__(self, payload: Any) -> None:
        super().__init__()
        self.payload = payload


class Done(Message):
    """A worker finished an action; `text` says what happened (or what went wrong)."""

    def __init__(self, text: str, *, title: str = "Done", error: bool = False) -> None:
        super().__init__()
        self.text, self.title, self.error = text, title, error

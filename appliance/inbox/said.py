"""Provides `Said`: one inbound message as Auto Reply reads it, in clear, in memory only.

The worker that applies a webhook batch has each message's text in clear already; it hands
them to Auto Reply in memory (`ingest.Outcome.handoff`), so that answering costs no second
read and no second decryption of what the batch just wrote (measured: reading them again
cost more than applying them, bench/ingest.py --auto-reply). A message Auto Reply meets
any other way (a job Redis lost, a waiting rule) is read and opened from the store into
the same shape. Never logged, never queued: `repr` shows ids only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Said:
    id: int
    conversation_id: int
    customer_id: int
    wamid: str | None
    kind: str
    created_at: datetime
    text: str
    reply_id: str | None  # the id of a tapped button or list row
    opted: bool | None = None  # ingest recorded it as an opt-in (True) or an opt-out (False)

    def __repr__(self) -> str:
        return f"Said(id={self.id}, kind={self.kind})"


def reply_id(payload: Mapping[str, Any]) -> str | None:
    """The id of a tapped reply button or list row, or a template button's payload."""
    interactive = payload.get("interactive")
    if isinstance(interactive, dict):
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        if isinstance(reply, dict) and reply.get("id"):
            return str(reply["id"])
    button = payload.get("button")
    if isinstance(button, dict) and button.get("payload"):
        return str(button["payload"])
    return None

"""Provides `Sender`: what Auto Reply sends, queued like any reply and labelled as its own.

Every message goes through the outbox (written with the message, sent by the worker, at
most once), inside WhatsApp's 24-hour window unless it is a template, and is labelled
with why it went ("Auto Reply · Tagihan", "· welcome", "· menu"), so an agent opening
the conversation sees who said what. Each send counts towards the loop guard.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from appliance.automation.batch import ACTOR, Facts
from appliance.inbox import window
from appliance.inbox.outbound import (
    queue_interactive,
    queue_linked_media,
    queue_template,
    queue_text,
)
from appliance.runtime import Runtime
from appliance.store import automation as store
from appliance.store.models import Conversation


class Sender:
    def __init__(self, rt: Runtime, facts: Facts) -> None:
        self.rt, self.facts = rt, facts
        self.outbox: list[int] = []

    def window_open(self, convo: Conversation) -> bool:
        return window.is_open(self.facts.last_inbound.get((convo.customer_id,
                                                           convo.number_id)))

    def language(self, convo: Conversation) -> str:
        return self.facts.language.get(convo.customer_id, "id")

    def text(self, convo: Conversation, body: str, label: str,
             rule_id: int | None = None) -> int | None:
        """Queues a text if the window is open; returns its outbox id, or None."""
        if not body.strip() or not self.window_open(convo):
            return None
        return self._sent(convo, queue_text(self.rt, convo.id, body, actor=ACTOR), label,
                          rule_id)

    def interactive(self, convo: Conversation, shown: str, content: Mapping[str, Any],
                    label: str, rule_id: int | None = None) -> int | None:
        if not self.window_open(convo):
            return None
        return self._sent(convo, queue_interactive(self.rt, convo.id, shown, content,
                                                   actor=ACTOR), label, rule_id)

    def media(self, convo: Conversation, kind: str, link: str, caption: str, label: str,
              rule_id: int | None = None) -> int | None:
        if not self.window_open(convo):
            return None
        return self._sent(convo, queue_linked_media(self.rt, convo.id, kind, link, caption,
                                                    actor=ACTOR), label, rule_id)

    def template(self, convo: Conversation, name: str, language: str, label: str,
                 rule_id: int | None = None) -> int | None:
        """A template goes in or out of the window (the only kind WhatsApp takes outside)."""
        outbox_id = queue_template(self.rt, self.facts.principal, convo.id, name, language, [])
        return self._sent(convo, outbox_id, label, rule_id)

    def _sent(self, convo: Conversation, outbox_id: int, label: str,
              rule_id: int | None) -> int:
        store.mark_sent(outbox_id, rule_id, label)
        self.outbox.append(outbox_id)
        self.facts.recent[convo.id] = self.facts.recent.get(convo.id, 0) + 1
        return outbox_id

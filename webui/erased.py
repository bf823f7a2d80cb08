"""Provides how the web shows an erased customer: words where their name and texts were,
and a 410 with words for whatever would need their destroyed key.

Erasure keeps the conversations and messages, sealed under a key that no longer exists;
services mark them `erased` and leave the fields blank. Before issue 11 (item 13) the
inbox showed a row with no name at all, and a thread, its media or export were a 500.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Response, abort, jsonify
from flask_babel import gettext

from appliance.inbox.conversations import CustomerPanel, Summary, Thread
from appliance.keys.customer_keys import CustomerKeysGone
from webui.answers import answer as _answer


def gone(_: CustomerKeysGone | None = None) -> Response:
    """The 410 for anything that would need an erased customer's key."""
    resp = jsonify(error=gettext(
        "This customer was erased: their messages, files and details are destroyed for "
        "good, and nothing of them can be shown, revealed or sent any more."), erased=True)
    resp.status_code = 410
    return resp


def answer(call: Any, ok: int = 200) -> Any:
    """`webui.answers.answer`, where a customer erased meanwhile is a 410 with words, not a
    422: there is nothing left to show, reveal or write to."""
    def unless_erased() -> Any:
        try:
            return call()
        except CustomerKeysGone:
            abort(gone())

    return _answer(unless_erased, ok)


def summary(row: Summary) -> Summary:
    """An erased customer's inbox row says so, in the reader's language."""
    return replace(row, customer_name=gettext("Erased customer")) if row.erased else row


def thread(found: Thread) -> Thread:
    """Every message and note of an erased customer's thread says it was erased."""
    if not found.conversation.erased:
        return found
    words = gettext("Erased with the customer")
    return replace(found, conversation=summary(found.conversation),
                   messages=[replace(m, text=words) for m in found.messages],
                   notes=[replace(n, text=words) for n in found.notes])


def panel(found: CustomerPanel) -> CustomerPanel:
    if not found.erased:
        return found
    return replace(found, name=gettext("Erased customer"),
                   conversations=[summary(c) for c in found.conversations])

"""Provides `without_customer`: a raw webhook body with one customer taken out of it.

Meta batches several customers' messages and statuses in one POST; erasing one of them
must not lose the others' messages still waiting to be applied. So the body is edited
as JSON: the customer's contacts, messages and statuses go, everything else stays.
"""

from __future__ import annotations

import json
from typing import Any

# Where a webhook names a customer: contacts, inbound messages, statuses of our messages.
_NAMED_BY = {"contacts": ("wa_id", "user_id"), "messages": ("from", "from_user_id"),
             "statuses": ("recipient_id", "recipient_user_id")}


def without_customer(raw: bytes, identity: set[str]) -> bytes | None:
    """The body without what names `identity` (WhatsApp ids, user ids); None when nothing
    of use is left, or when it is not a webhook that can be edited (then it goes whole)."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("entry"), list):
        return None
    left = 0
    for entry in doc["entry"]:
        for change in entry.get("changes", []) if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            left += _edit(value, identity)
    text = json.dumps(doc, ensure_ascii=False).encode()
    if left == 0 or any(name.encode() in text for name in identity):
        return None  # the customer is still named somewhere we do not understand: drop it
    return text


def _edit(value: dict[str, Any], identity: set[str]) -> int:
    """Removes the customer's items from one change's value; returns the items left."""
    left = 0
    for key, fields in _NAMED_BY.items():
        items = value.get(key)
        if not isinstance(items, list):
            continue
        kept = [item for item in items if not (isinstance(item, dict) and any(
            item.get(f) in identity for f in fields))]
        value[key] = kept
        if key != "contacts":
            left += len(kept)
    if not any(isinstance(value.get(k), list) for k in ("messages", "statuses")):
        left += 1  # an account update or another change: still of use
    return left

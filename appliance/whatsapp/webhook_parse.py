"""Provides the webhook parser: every entry, change, message and status of a Meta POST.

Peers read `entry[0].changes[0].value.messages[0]` and lose the rest of a batch; this
walks all of it. It is total: any JSON (or garbage) gives a `Parsed` with the updates it
could read and a list of problems (codes, never content), never an exception, so one
odd update cannot block the others in its batch. Unknown fields are ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MAX_DEPTH = 32
MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")


@dataclass(frozen=True, repr=False)
class Contact:
    wa_id: str | None
    user_id: str | None
    name: str | None


@dataclass(frozen=True, repr=False)
class InboundMessage:
    """A message from a customer. `payload` is the message object as Meta sent it."""

    wamid: str
    phone: str | None  # `from`: absent for a customer who uses a username
    user_id: str | None  # business-scoped user id (BSUID)
    name: str | None
    kind: str
    text: str | None  # what a person reads: the body, caption, title or emoji
    timestamp: datetime | None
    payload: dict[str, Any]
    media_id: str | None = None
    media_mime: str | None = None
    number: str | None = None  # the business number written to: metadata.phone_number_id

    def __repr__(self) -> str:
        return f"InboundMessage(wamid={self.wamid!r}, kind={self.kind!r})"


@dataclass(frozen=True)
class StatusUpdate:
    wamid: str
    status: str
    timestamp: datetime | None
    error_code: int | None
    callback: str | None  # biz_opaque_callback_data: ours, set when sending


@dataclass(frozen=True, repr=False)
class UserPreference:
    """Meta's `user_preferences` webhook: a person stopped or resumed a category of
    messages (`marketing_messages`) in WhatsApp's own settings (cloud-api.md section 11)."""

    wa_id: str | None
    user_id: str | None  # business-scoped user id, when Meta names the person by it
    category: str
    value: str  # stop, resume
    timestamp: datetime | None

    def __repr__(self) -> str:
        return f"UserPreference(category={self.category!r}, value={self.value!r})"


@dataclass(frozen=True)
class AccountUpdate:
    field: str
    value: dict[str, Any]
    account: str | None = None  # entry[].id: the WABA


@dataclass
class Parsed:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    account: list[AccountUpdate] = field(default_factory=list)
    preferences: list[UserPreference] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def depth_ok(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Checks nesting before json.loads, which would recurse on a hostile body."""
    if raw.count(b"{") + raw.count(b"[") <= limit:  # the common case, at C speed
        return True
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x7B, 0x5B):
            depth += 1
            if depth > limit:
                return False
        elif byte in (0x7D, 0x5D):
            depth -= 1
    return True


def parse(raw: bytes) -> Parsed:
    out = Parsed()
    if not depth_ok(raw):
        out.problems.append("too_deep")
        return out
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        out.problems.append("not_json")
        return out
    if not isinstance(doc, dict) or doc.get("object") != "whatsapp_business_account":
        out.problems.append("not_whatsapp")
        return out
    for entry in _dicts(doc.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            name = change.get("field")
            if not isinstance(value, dict) or not isinstance(name, str):
                out.problems.append("bad_change")
            elif name == "messages":
                _messages_value(value, out)
            elif name == "user_preferences":
                _preferences_value(value, out)
            else:
                out.account.append(AccountUpdate(name, value, _str(entry.get("id"))))
    return out


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _messages_value(value: dict[str, Any], out: Parsed) -> None:
    contacts = [Contact(_str(c.get("wa_id")), _str(c.get("user_id")),
                        _str((c.get("profile") or {}).get("name"))
                        if isinstance(c.get("profile"), dict) else None)
                for c in _dicts(value.get("contacts"))]
    meta = value.get("metadata")
    number = _str(meta.get("phone_number_id")) if isinstance(meta, dict) else None
    for message in _dicts(value.get("messages")):
        parsed = _message(message, contacts, number)
        if parsed is None:
            out.problems.append("bad_message")
        else:
            out.messages.append(parsed)
    for status in _dicts(value.get("statuses")):
        wamid, state = _str(status.get("id")), _str(status.get("status"))
        if wamid is None or state is None:
            out.problems.append("bad_status")
            continue
        errors = _dicts(status.get("errors"))
        code = errors[0].get("code") if errors else None
        out.statuses.append(StatusUpdate(
            wamid, state, _timestamp(status.get("timestamp")),
            code if isinstance(code, int) and not isinstance(code, bool) else None,
            _str(status.get("biz_opaque_callback_data"))))
    if value.get("errors") is not None:
        out.problems.append("value_errors")


def _preferences_value(value: dict[str, Any], out: Parsed) -> None:
    contacts = _dicts(value.get("contacts"))
    for item in _dicts(value.get("user_preferences")):
        wa_id, user_id = _str(item.get("wa_id")), _str(item.get("user_id"))
        category, choice = _str(item.get("category")), _str(item.get("value"))
        if user_id is None and wa_id is not None:  # the contact may carry the BSUID
            user_id = next((_str(c.get("user_id")) for c in contacts
                            if _str(c.get("wa_id")) == wa_id), None)
        if (wa_id is None and user_id is None) or category is None or choice is None:
            out.problems.append("bad_preference")
            continue
        out.preferences.append(UserPreference(wa_id, user_id, category, choice,
                                              _timestamp(item.get("timestamp"))))


def _message(m: dict[str, Any], contacts: list[Contact],
             number: str | None = None) -> InboundMessage | None:
    wamid, kind = _str(m.get("id")), _str(m.get("type"))
    phone, user_id = _str(m.get("from")), _str(m.get("from_user_id"))
    if wamid is None or kind is None or (phone is None and user_id is None):
        return None
    contact = next((c for c in contacts if (phone and c.wa_id == phone)
                    or (user_id and c.user_id == user_id)), None)
    if contact is None and len(contacts) == 1:
        contact = contacts[0]
    found = m.get(kind)
    body: dict[str, Any] = found if isinstance(found, dict) else {}
    media_id = _str(body.get("id")) if kind in MEDIA_TYPES else None
    return InboundMessage(
        wamid=wamid, phone=phone, user_id=user_id or (contact.user_id if contact else None),
        name=contact.name if contact else None, kind=kind, text=_readable_text(kind, body),
        timestamp=_timestamp(m.get("timestamp")), payload=m, media_id=media_id,
        media_mime=_str(body.get("mime_type")) if media_id else None, number=number)


def _readable_text(kind: str, body: dict[str, Any]) -> str | None:
    if kind == "text":
        return _str(body.get("body"))
    if kind in MEDIA_TYPES:
        return _str(body.get("caption"))
    if kind == "interactive":
        for reply in ("button_reply", "list_reply"):
            if isinstance(body.get(reply), dict):
                return _str(body[reply].get("title"))
        return None
    if kind == "button":
        return _str(body.get("text"))
    if kind == "reaction":
        return _str(body.get("emoji"))
    if kind == "location":
        return _str(body.get("name")) or _str(body.get("address"))
    if kind == "edit" and isinstance(body.get("message"), dict):  # the customer edited a message
        edited = body["message"]
        inner = edited.get(edited.get("type")) if isinstance(edited.get("type"), str) else None
        if isinstance(inner, dict):
            return _readable_text(str(edited["type"]), inner)
    if kind == "system":
        return _str(body.get("body"))
    return None

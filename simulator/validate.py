"""Provides the shape checks of an outbound message, with the limits and codes Meta applies.

Missing nested fields answer 131008, bad values 131009, and over-long text or captions
100 with Graph's "Param … must be at most N characters long" (reference §3.2), so a
client's validation can be tested against the same limits the real API enforces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.errors import GraphError

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
Check = Callable[[dict[str, Any], Callable[[str], bool]], None]


def check_message(body: dict[str, Any], media_exists: Callable[[str], bool]) -> str:
    """The message type, once its object is well formed; else the error Meta would give."""
    mtype = body.get("type", "text")  # `type` is optional and defaults to text
    if mtype == "contacts":
        check_contacts(body)
        return "contacts"
    if not isinstance(mtype, str) or mtype not in CHECKS:
        raise GraphError(131051, f"Message type {mtype!r} is not supported.")
    content = body.get(mtype)
    if not isinstance(content, dict):
        raise GraphError(100, f"The parameter {mtype} is required.")
    CHECKS[mtype](content, media_exists)
    return mtype


def _required(obj: dict[str, Any], key: str, where: str) -> Any:
    value = obj.get(key)
    if value is None or value == "" or value == []:
        raise GraphError(131008, f"The parameter {where}['{key}'] is required.")
    return value


def _max_len(value: Any, limit: int, where: str, *, code: int = 100) -> None:
    if not isinstance(value, str):
        raise GraphError(131009, f"{where} must be a string.")
    if len(value) > limit:
        if code == 100:
            raise GraphError(100, f"Param {where} must be at most {limit} characters long.")
        raise GraphError(code, f"{where} length invalid. Min length: 1, Max length: {limit}")


def _text(content: dict[str, Any], _: Callable[[str], bool]) -> None:
    _max_len(_required(content, "body", "text"), 4096, "text['body']")


def _media(kind: str) -> Check:
    def check(content: dict[str, Any], media_exists: Callable[[str], bool]) -> None:
        if "id" in content:
            if not isinstance(content["id"], str) or not media_exists(content["id"]):
                raise GraphError(131009, f"The parameter {kind}['id'] is not a valid media id "
                                 "uploaded on this phone number.")
        elif "link" in content:
            link = content["link"]
            if not isinstance(link, str) or not link.startswith(("http://", "https://")):
                raise GraphError(131009, f"The parameter {kind}['link'] must be an http(s) URL.")
        else:
            raise GraphError(131008, f"The parameter {kind}['id'] or {kind}['link'] is "
                             "required.")
        if "caption" in content:
            if kind in ("audio", "sticker"):
                raise GraphError(131009, f"The parameter {kind}['caption'] is not supported.")
            _max_len(content["caption"], 1024, f"{kind}['caption']")
    return check


def _reaction(content: dict[str, Any], _: Callable[[str], bool]) -> None:
    _required(content, "message_id", "reaction")
    if not isinstance(content.get("emoji", ""), str):
        raise GraphError(131009, "The parameter reaction['emoji'] must be a string.")


def _location(content: dict[str, Any], _: Callable[[str], bool]) -> None:
    for key, bound in (("latitude", 90), ("longitude", 180)):
        value = _required(content, key, "location")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise GraphError(131009, f"The parameter location['{key}'] must be a number.") \
                from None
        if not -bound <= number <= bound:
            raise GraphError(131009, f"The parameter location['{key}'] is out of range.")


def _template(content: dict[str, Any], _: Callable[[str], bool]) -> None:
    _required(content, "name", "template")
    language = _required(content, "language", "template")
    if not isinstance(language, dict) or not language.get("code"):
        raise GraphError(131008, "The parameter template['language']['code'] is required.")
    if not isinstance(content.get("components", []), list):
        raise GraphError(131009, "The parameter template['components'] must be a list.")


def _interactive(content: dict[str, Any], media_exists: Callable[[str], bool]) -> None:
    itype = _required(content, "type", "interactive")
    action = _required(content, "action", "interactive")
    if itype in ("button", "list"):
        body = _required(content, "body", "interactive")
        _max_len(_required(body, "text", "interactive['body']"),
                 1024 if itype == "button" else 4096, "interactive['body']['text']")
    if isinstance(content.get("footer"), dict):
        _max_len(content["footer"].get("text", ""), 60, "interactive['footer']['text']")
    header = content.get("header")
    if isinstance(header, dict) and header.get("type") == "text":
        _max_len(header.get("text", ""), 60, "interactive['header']['text']")
    if itype == "button":
        _buttons(action)
    elif itype == "list":
        _list(action)
    elif itype not in ("cta_url", "location_request_message", "flow", "product",
                       "product_list", "call_permission_request"):
        raise GraphError(131009, f"Interactive type {itype!r} is not valid.")


def _buttons(action: dict[str, Any]) -> None:
    buttons = _required(action, "buttons", "interactive['action']")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise GraphError(131009, "buttons count invalid. Min: 1, Max: 3")
    seen: set[str] = set()
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) else None
        if not isinstance(reply, dict):
            raise GraphError(131008, "The parameter interactive['action']['buttons'][]['reply'] "
                             "is required.")
        bid = _required(reply, "id", "reply")
        _max_len(bid, 256, "Button id", code=131009)
        title = _required(reply, "title", "reply")
        _max_len(title, 20, "Button title", code=131009)
        if bid in seen:
            raise GraphError(131009, "Buttons must have unique ids.")
        seen.add(bid)


def _list(action: dict[str, Any]) -> None:
    _max_len(_required(action, "button", "interactive['action']"), 20, "Button label",
             code=131009)
    sections = _required(action, "sections", "interactive['action']")
    if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
        raise GraphError(131009, "sections count invalid. Min: 1, Max: 10")
    rows = 0
    for section in sections:
        if not isinstance(section, dict):
            raise GraphError(131009, "Each section must be an object.")
        if len(sections) > 1:
            _required(section, "title", "section")
        if "title" in section:
            _max_len(section["title"], 24, "Section title", code=131009)
        for row in _required(section, "rows", "section"):
            rows += 1
            _max_len(_required(row, "id", "row"), 200, "Row id", code=131009)
            _max_len(_required(row, "title", "row"), 24, "Row title", code=131009)
            if "description" in row:
                _max_len(row["description"], 72, "Row description", code=131009)
    if rows > 10:
        raise GraphError(131009, "Total row count exceed max allowed count: 10")


CHECKS: dict[str, Check] = {
    "text": _text, "template": _template, "interactive": _interactive,
    "reaction": _reaction, "location": _location,
    **{kind: _media(kind) for kind in MEDIA_TYPES},
}


def check_contacts(body: dict[str, Any]) -> None:
    """`contacts` is the one type whose object is a list of vCard-like entries."""
    contacts = body.get("contacts")
    if not isinstance(contacts, list) or not contacts:
        raise GraphError(100, "The parameter contacts is required.")
    for c in contacts:
        name = c.get("name") if isinstance(c, dict) else None
        if not isinstance(name, dict) or not name.get("formatted_name"):
            raise GraphError(131008, "The parameter contacts[]['name']['formatted_name'] is "
                             "required.")

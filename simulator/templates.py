"""Provides the simulated WABA's message templates: defaults, lookup, parameter checks, listing.

Templates are kept in the shape `GET /{waba-id}/message_templates` returns, so the
config file, the listing and the send checks (132000, 132001, 132015, 132016) read one thing.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from simulator.errors import GraphError

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL",
            "PENDING_DELETION", "DELETED", "LIMIT_EXCEEDED", "ARCHIVED")

DEFAULT_TEMPLATES: tuple[dict[str, Any], ...] = (
    {"name": "hello_world", "language": "en_US", "category": "UTILITY", "status": "APPROVED",
     "id": "1000000000000001",
     "components": [{"type": "HEADER", "format": "TEXT", "text": "Hello World"},
                    {"type": "BODY", "text": "Welcome and congratulations!! This message "
                     "demonstrates your ability to send a WhatsApp message notification from "
                     "the Cloud API, hosted by Meta."},
                    {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"}]},
    {"name": "order_update", "language": "id", "category": "UTILITY", "status": "APPROVED",
     "id": "1000000000000002",
     "components": [{"type": "BODY", "text": "Halo {{1}}, pesanan Anda {{2}} sedang dikirim.",
                     "example": {"body_text": [["Siti", "INV-001"]]}},
                    {"type": "BUTTONS", "buttons": [
                        {"type": "QUICK_REPLY", "text": "Terima kasih"}]}]},
    {"name": "pengingat_pembayaran", "language": "id", "category": "MARKETING",
     "status": "APPROVED", "id": "1000000000000003",
     "components": [{"type": "BODY", "text": "Halo {{1}}, tagihan Anda sebesar {{2}} jatuh "
                     "tempo besok.", "example": {"body_text": [["Budi", "Rp150.000"]]}},
                    {"type": "BUTTONS", "buttons": [
                        {"type": "QUICK_REPLY", "text": "Berhenti promosi"}]}]},
    # Carries Gembok's number-health alerts to the admins (alerts.whatsapp_template).
    {"name": "gembok_alert", "language": "en_US", "category": "UTILITY", "status": "APPROVED",
     "id": "1000000000000004",
     "components": [{"type": "BODY", "text": "Gembok alert: {{1}}",
                     "example": {"body_text": [["The WhatsApp number is DISCONNECTED"]]}}]},
)


def normalise_template(raw: Mapping[str, Any], index: int) -> dict[str, Any]:
    """Checks one configured template and fills what Graph would add (id, parameter_format).

    Raises ValueError naming the template, so a typo in the config file stops the start.
    """
    t = copy.deepcopy(dict(raw))
    name = t.get("name")
    where = f"templates[{index}]"
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,512}", name):
        raise ValueError(f"{where}.name must be lower-case letters, digits and _")
    if not isinstance(t.get("language"), str) or not t["language"]:
        raise ValueError(f"{where}.language must be a language code such as en_US or id")
    if t.get("category") not in CATEGORIES:
        raise ValueError(f"{where}.category must be one of {', '.join(CATEGORIES)}")
    t.setdefault("status", "APPROVED")
    if t["status"] not in STATUSES:
        raise ValueError(f"{where}.status must be one of {', '.join(STATUSES)}")
    components = t.get("components")
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise ValueError(f"{where}.components must be a list of objects")
    t["id"] = str(t.get("id") or 1000000000000101 + index)
    if not t["id"].isdigit():
        raise ValueError(f"{where}.id must be digits")
    names = placeholders(t, "BODY")
    t.setdefault("parameter_format",
                 "POSITIONAL" if all(n.isdigit() for n in names) else "NAMED")
    return t


def placeholders(template: Mapping[str, Any], component: str) -> list[str]:
    """The distinct `{{…}}` names of one component (BODY or text HEADER), in order."""
    out: list[str] = []
    for comp in template.get("components", []):
        if str(comp.get("type", "")).upper() == component and isinstance(comp.get("text"), str):
            for name in PLACEHOLDER.findall(comp["text"]):
                if name not in out:
                    out.append(name)
    return out


def find(templates: Iterable[dict[str, Any]], name: str, language: str) -> dict[str, Any]:
    """The approved template a send names, or the error Meta answers with."""
    wanted = language.replace("-", "_")
    for t in templates:
        if t["name"] == name and t["language"].replace("-", "_") == wanted:
            if t["status"] == "PAUSED":
                raise GraphError(132015)
            if t["status"] == "DISABLED":
                raise GraphError(132016)
            if t["status"] != "APPROVED":
                break
            return t
    raise GraphError(132001, f"template name ({name}) does not exist in {language}")


def check_parameters(template: Mapping[str, Any], components: Sequence[Any]) -> None:
    """Raises 132000 when the body or header parameters do not match the template's."""
    for kind in ("BODY", "HEADER"):
        expected = placeholders(template, kind)
        given: list[Any] = []
        for comp in components:
            if isinstance(comp, dict) and str(comp.get("type", "")).upper() == kind:
                params = comp.get("parameters", [])
                if not isinstance(params, list):
                    raise GraphError(131009, f"{kind.lower()} parameters must be a list")
                given.extend(p for p in params if not (kind == "HEADER" and _is_media(p)))
        if len(given) != len(expected):
            raise GraphError(132000, f"{kind.lower()}: number of localizable_params "
                             f"({len(given)}) does not match the expected number of params "
                             f"({len(expected)})")
        if template.get("parameter_format") == "NAMED":
            names = {p.get("parameter_name") for p in given if isinstance(p, dict)}
            if names != set(expected):
                raise GraphError(132000, f"{kind.lower()}: parameter names do not match the "
                                 "template's named parameters")


def render(template: Mapping[str, Any], components: Sequence[Any]) -> dict[str, Any]:
    """The template as the customer's phone shows it: texts filled in, quick replies listed."""
    values: dict[str, list[Any]] = {"BODY": [], "HEADER": []}
    payloads: dict[int, str] = {}
    for comp in components:
        if not isinstance(comp, dict):
            continue
        kind = str(comp.get("type", "")).upper()
        params = [p for p in comp.get("parameters", []) if isinstance(p, dict)]
        if kind in values:
            values[kind].extend(params)
        elif kind == "BUTTON" and comp.get("sub_type") == "quick_reply" and params:
            payloads[int(comp.get("index", 0))] = str(params[0].get("payload", ""))
    out: dict[str, Any] = {"category": template["category"], "buttons": []}
    for comp in template["components"]:
        kind = str(comp.get("type", "")).upper()
        if kind in ("HEADER", "BODY", "FOOTER") and isinstance(comp.get("text"), str):
            out[kind.lower()] = _fill(comp["text"], values.get(kind, []))
        elif kind == "BUTTONS":
            for i, button in enumerate(comp.get("buttons", [])):
                if button.get("type") == "QUICK_REPLY":
                    text = str(button.get("text", ""))
                    out["buttons"].append({"text": text, "payload": payloads.get(i, text)})
    return out


def _fill(text: str, params: Sequence[dict[str, Any]]) -> str:
    by_name = {str(p.get("parameter_name")): p for p in params if p.get("parameter_name")}
    positional = list(params)

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        param = by_name.get(name)
        if param is None and name.isdigit() and 0 < int(name) <= len(positional):
            param = positional[int(name) - 1]
        if param is None:
            return match.group(0)
        for key in ("text", "payload"):
            if isinstance(param.get(key), str):
                return str(param[key])
        for key in ("currency", "date_time"):
            if isinstance(param.get(key), dict):
                return str(param[key].get("fallback_value", ""))
        return match.group(0)

    return PLACEHOLDER.sub(value, text)


def _is_media(param: Any) -> bool:
    return isinstance(param, dict) and param.get("type") in {"image", "video", "document",
                                                              "location"}


def listing(templates: Sequence[dict[str, Any]], query: Mapping[str, str],
            page_url: str) -> dict[str, Any]:
    """The body of `GET /{waba-id}/message_templates`: filters, fields, cursors, summary."""
    rows = [t for t in templates if _matches(t, query)]
    limit = _int(query.get("limit"), 25)
    start = _cursor(query.get("after"))
    page = rows[start:start + limit]
    fields = [f for f in query.get("fields", "").split(",") if f]
    data = [_select(t, fields) for t in page]
    body: dict[str, Any] = {"data": data}
    if page:
        cursors = {"before": _encode(start), "after": _encode(start + len(page) - 1)}
        body["paging"] = {"cursors": cursors}
        if start + len(page) < len(rows):
            body["paging"]["next"] = f"{page_url}?limit={limit}&after={_encode(start + limit - 1)}"
    if "summary" in query:
        body["summary"] = {"total_count": len(rows), "message_template_count": len(templates),
                           "message_template_limit": 250, "are_translations_complete": True}
    return body


def _matches(t: Mapping[str, Any], q: Mapping[str, str]) -> bool:
    for key in ("status", "category", "language"):
        if q.get(key) and t[key] not in q[key].split(","):
            return False
    return not (q.get("name") and q["name"] not in t["name"])


def _select(t: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    if not fields:
        keys = ["name", "parameter_format", "components", "language", "status", "category",
                "id"]
        return {k: copy.deepcopy(t[k]) for k in keys}
    return {k: copy.deepcopy(t[k]) for k in [*fields, "id"] if k in t}


def _int(value: str | None, default: int) -> int:
    try:
        return max(1, min(int(value), 1000)) if value else default
    except ValueError:
        raise GraphError(100, "Param limit must be an integer") from None


def _encode(index: int) -> str:
    return base64.urlsafe_b64encode(f"i:{index}".encode()).decode()


def _cursor(value: str | None) -> int:
    if not value:
        return 0
    try:
        return int(base64.urlsafe_b64decode(value.encode()).decode().removeprefix("i:")) + 1
    except (ValueError, UnicodeDecodeError):
        raise GraphError(100, "Invalid cursor") from None

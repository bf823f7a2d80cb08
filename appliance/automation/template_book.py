"""Provides the message templates as Broadcast knows them: synced, kept current by
webhooks, checked before a campaign may use one.

A template belongs to a WhatsApp Business Account: each WABA among the box's numbers is
synced with the token of one of its numbers, a template webhook changes the rows of the
account its `entry[].id` names, and a campaign sends only a template of its number's
account (Meta answers 132001, "does not exist", to any other).

Meta asks integrators to keep {template id, name, language, latest category} and to route
MARKETING to the Marketing Messages API, updating the map on a *completed*
`template_category_update` (an impending one, with `correct_category`, is a notice only);
`message_template_status_update` says approved, paused, disabled... (cloud-api.md §11).
A campaign reads the row at each slice it sends, so a pause or a re-categorisation takes
effect on the next slice, not at the next sync.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from peewee import fn

from appliance.clock import utcnow
from appliance.errors import GembokError
from appliance.runtime import Runtime
from appliance.store.broadcast import WaTemplate
from appliance.store.db import db
from appliance.whatsapp import numbers
from appliance.whatsapp.client import GraphError
from appliance.whatsapp.connection import NotConfigured, make_client

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
MARKETING = "MARKETING"
# Meta's words for what the status webhook says of a template, as Gembok stores them.
STATUS_EVENTS = {"APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "FLAGGED",
                 "IN_APPEAL", "PENDING_DELETION", "DELETED", "REINSTATED", "LIMIT_EXCEEDED",
                 "ARCHIVED"}
NOT_SENDABLE = {
    "PENDING": "still in Meta's review",
    "REJECTED": "rejected by Meta",
    "PAUSED": "paused by Meta after poor feedback from customers",
    "DISABLED": "disabled by Meta",
    "FLAGGED": "flagged by Meta for quality: it will be paused if feedback stays poor",
    "IN_APPEAL": "in appeal",
    "PENDING_DELETION": "being deleted",
    "DELETED": "deleted",
    "LIMIT_EXCEEDED": "over the WABA's template limit",
    "ARCHIVED": "archived",
}


class TemplateError(GembokError):
    """A template that cannot be used as asked: the message says why, in words."""


@dataclass(frozen=True)
class TemplateInfo:
    id: int
    waba_id: str
    meta_id: str
    name: str
    language: str
    category: str
    previous_category: str
    status: str
    reason: str
    header: str
    body: str
    footer: str
    buttons: tuple[str, ...]
    parameters: tuple[str, ...]  # the body's and text header's {{…}} names, in order
    named: bool

    @property
    def marketing(self) -> bool:
        return self.category == MARKETING

    @property
    def sendable(self) -> bool:
        return self.status == "APPROVED"

    @property
    def why_not(self) -> str:
        return "" if self.sendable else NOT_SENDABLE.get(self.status, self.status.lower())


def _view(row: WaTemplate) -> TemplateInfo:
    try:
        components = json.loads(row.components)
    except ValueError:
        components = []
    texts: dict[str, str] = {}
    buttons: list[str] = []
    for comp in components if isinstance(components, list) else []:
        if not isinstance(comp, dict):
            continue
        kind = str(comp.get("type", "")).upper()
        if kind in ("HEADER", "BODY", "FOOTER") and isinstance(comp.get("text"), str):
            texts[kind] = comp["text"]
        elif kind == "BUTTONS":
            buttons += [str(b.get("text", "")) for b in comp.get("buttons", [])
                        if isinstance(b, dict)]
    names: list[str] = []
    for kind in ("HEADER", "BODY"):
        for name in PLACEHOLDER.findall(texts.get(kind, "")):
            if name not in names:
                names.append(name)
    return TemplateInfo(int(row.id), str(row.waba_id), str(row.meta_id), str(row.name),
                    str(row.language),
                    str(row.category), str(row.previous_category), str(row.status),
                    str(row.reason), texts.get("HEADER", ""), texts.get("BODY", ""),
                    texts.get("FOOTER", ""), tuple(buttons), tuple(names),
                    row.parameter_format == "NAMED")


def all_templates() -> list[TemplateInfo]:
    return [_view(r) for r in WaTemplate.select().order_by(
        WaTemplate.name, WaTemplate.language, WaTemplate.waba_id)]


def get(template_id: int) -> TemplateInfo:
    row = WaTemplate.get_or_none(WaTemplate.id == template_id)
    if row is None:
        raise TemplateError("no such template: sync the templates, then choose one")
    return _view(row)


def usable(template_id: int) -> TemplateInfo:
    """The template, if a campaign may send it now; otherwise why not, in words."""
    t = get(template_id)
    if not t.sendable:
        raise TemplateError(f"template {t.name} ({t.language}) cannot be sent: it is "
                            f"{t.why_not}")
    return t


@dataclass(frozen=True)
class Synced:
    total: int
    added: int
    changed: int
    failed: tuple[str, ...] = ()  # "account (numbers): why", one per account not synced


def accounts(rt: Runtime) -> dict[str, list[numbers.Number]]:
    """The WhatsApp Business Accounts of the box's active numbers, each with its numbers
    (number 1's account first)."""
    found: dict[str, list[numbers.Number]] = {}
    for n in numbers.active(rt):
        if n.waba_id:
            found.setdefault(n.waba_id, []).append(n)
    return found


def account_names(rt: Runtime) -> dict[str, str]:
    """Each account by the numbers staff know it by ("Toko Gembok, Toko Jogja")."""
    return {waba: ", ".join(n.label for n in members)
            for waba, members in accounts(rt).items()}


def sync(rt: Runtime) -> Synced:
    """Every template of every account, as Meta lists them now (the "sync now" button, and
    the nightly job). One account that cannot be read (its token revoked) does not keep
    the others' current: it is named in `failed`, and only when none could be read is
    the first reason raised."""
    found = accounts(rt)
    if not found:
        raise TemplateError("the WhatsApp Business Account id is not set: "
                            "gembok whatsapp configure")
    first = numbers.get(rt, numbers.FIRST_NUMBER).waba_id
    total = added = changed = 0
    failed: list[str] = []
    for waba_id, members in found.items():
        try:
            with make_client(rt, members[0].id) as client:
                listed = client.templates(waba_id)
        except (GraphError, NotConfigured) as exc:
            if len(failed) + 1 == len(found):
                raise  # none could be read: the page and the job say why, as before
            failed.append(f"{waba_id} ({', '.join(n.label for n in members)}): {exc}")
            continue
        done = _sync_account(waba_id, listed, first=waba_id == first)
        total, added, changed = total + done.total, added + done.added, changed + done.changed
    return Synced(total, added, changed, tuple(failed))


def adopt(waba_id: str) -> None:
    """The rows from before templates had an account (m0017) are number 1's account's:
    its first sync or webhook takes them, so past campaigns keep their template."""
    other = WaTemplate.alias()
    taken = other.select(other.id).where(other.waba_id == waba_id,
                                         other.name == WaTemplate.name,
                                         other.language == WaTemplate.language)
    WaTemplate.update(waba_id=waba_id).where(WaTemplate.waba_id == "",
                                             ~fn.EXISTS(taken)).execute()


def _sync_account(waba_id: str, listed: list[dict[str, Any]], *, first: bool) -> Synced:
    added = changed = 0
    seen: set[int] = set()
    now = utcnow()
    mine = (WaTemplate.waba_id == waba_id)
    with db.atomic():  # one at a time: the scheduler's sync and the button's may cross
        if first:
            adopt(waba_id)
        for raw in listed:
            name, language = str(raw.get("name", "")), str(raw.get("language", ""))
            if not name or not language:
                continue
            fields: dict[str, Any] = {
                "meta_id": str(raw.get("id", "")),
                "category": str(raw.get("category", "")).upper(),
                "status": str(raw.get("status", "")).upper(),
                "components": json.dumps(raw.get("components", []), ensure_ascii=False),
                "parameter_format": str(raw.get("parameter_format", "POSITIONAL")).upper()}
            key = (mine, WaTemplate.name == name, WaTemplate.language == language)
            row = WaTemplate.get_or_none(*key)
            if row is None:
                WaTemplate.insert(waba_id=waba_id, name=name, language=language,
                                  synced_at=now, updated_at=now, previous_category="",
                                  reason="", **fields).on_conflict(
                    conflict_target=[WaTemplate.waba_id, WaTemplate.name, WaTemplate.language],
                    update={WaTemplate.synced_at: now}).execute()
                row = WaTemplate.get(*key)
                added += 1
            else:
                if row.category != fields["category"] and row.category:
                    fields["previous_category"] = row.category
                if any(getattr(row, k) != v for k, v in fields.items()):
                    changed += 1
                    fields["updated_at"] = now
                WaTemplate.update(synced_at=now, **fields).where(
                    WaTemplate.id == row.id).execute()
            seen.add(int(row.id))
        gone = WaTemplate.update(status="DELETED", updated_at=now).where(
            mine, WaTemplate.id.not_in(sorted(seen)) if seen else WaTemplate.id > 0,
            WaTemplate.status != "DELETED").execute()
    return Synced(len(seen), added, changed + int(gone))


def mark(template_id: int, status: str) -> None:
    """What Meta answered a send about the template (132015: paused), kept until its
    webhook or the next sync says more."""
    WaTemplate.update(status=status, updated_at=utcnow()).where(
        WaTemplate.id == template_id, WaTemplate.status == "APPROVED").execute()


def apply_update(field: str, value: dict[str, Any], account: str, *,
                 first: bool = False) -> bool:
    """A template webhook (status or category) of the account `entry[].id` names (`first`:
    number 1's, which takes the rows from before accounts): True when it changed a row."""
    if field == "message_template_status_update":
        status = str(value.get("event", "")).upper()
        if status == "REINSTATED":
            status = "APPROVED"
        if status not in STATUS_EVENTS:
            return False
        changes: dict[str, Any] = {"status": status,
                                   "reason": str(value.get("reason") or "")[:64]}
        category = str(value.get("message_template_category") or "").upper()
    elif field == "template_category_update":
        category = str(value.get("new_category") or "").upper()
        if not category:  # an impending change (`correct_category`): a notice only
            return False
        changes = {}
    else:
        return False
    if first:
        adopt(account)
    row = _find(value, account)
    if row is None:
        row = _placeholder(value, account, changes.get("status", "PENDING"))
        if row is None:
            return False
    if category in CATEGORIES and category != row.category:
        changes.update(category=category, previous_category=row.category)
    if not changes:
        return False
    WaTemplate.update(updated_at=utcnow(), **changes).where(WaTemplate.id == row.id).execute()
    return True


def _find(value: dict[str, Any], account: str) -> WaTemplate | None:
    meta_id = str(value.get("message_template_id") or "")
    if meta_id:
        row = WaTemplate.get_or_none(WaTemplate.meta_id == meta_id,
                                     WaTemplate.waba_id == account)
        if row is not None:
            return row
    name = value.get("message_template_name")
    language = value.get("message_template_language")
    if isinstance(name, str) and isinstance(language, str):
        return WaTemplate.get_or_none(WaTemplate.waba_id == account, WaTemplate.name == name,
                                      WaTemplate.language == language)
    return None


def _placeholder(value: dict[str, Any], account: str, status: str) -> WaTemplate | None:
    """A template created after the last sync: known by name until the next sync fills
    in its words."""
    name, language = value.get("message_template_name"), value.get("message_template_language")
    if not isinstance(name, str) or not isinstance(language, str) or not name or not language:
        return None
    now = utcnow()
    category = str(value.get("message_template_category") or value.get("new_category")
                   or "").upper()
    return WaTemplate.create(waba_id=account, meta_id=str(value.get("message_template_id") or ""),
                             name=name[:512], language=language[:16],
                             category=category if category in CATEGORIES else "",
                             previous_category="", status=status, reason="",
                             components="[]", parameter_format="POSITIONAL",
                             synced_at=now, updated_at=now)


def render(t: TemplateInfo, values: dict[str, str]) -> str:
    """The message as the customer will read it (the preview), header and body."""
    def fill(text: str) -> str:
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    return "\n".join(p for p in (fill(t.header), fill(t.body), t.footer) if p)


def components(t: TemplateInfo, values: dict[str, str]) -> list[dict[str, Any]]:
    """The `components` of a send: each header and body parameter, positional or named."""
    out: list[dict[str, Any]] = []
    for kind, text in (("header", t.header), ("body", t.body)):
        names: list[str] = []
        for name in PLACEHOLDER.findall(text):
            if name not in names:
                names.append(name)
        if not names:
            continue
        params = [{"type": "text", "text": values.get(n, ""),
                   **({"parameter_name": n} if t.named else {})} for n in names]
        out.append({"type": kind, "parameters": params})
    return out

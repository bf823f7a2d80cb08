"""Provides the webhook's routing: which of the business's numbers a verified body is for.

One URL serves every number. A body is first verified against the app secrets of the
numbers on the box (one HMAC per distinct secret, usually one); only then is it read for
the numbers it names, each change's `metadata.phone_number_id` (an account-level change
names its WABA as `entry[].id`). A body that names a number the box does not serve, or
one not signed by that number's own app, is refused whole: nothing of it is stored, Meta
retries it for up to 7 days (cloud-api.md 2.3), so adding the number in time loses
nothing, and the refusal is counted by the number's id (an id, not personal data) for
the status page, `gembok doctor` and the TUI.

The numbers are found with a regular expression over the raw bytes rather than a parse:
a key can only appear unescaped as a real key (inside a JSON string its quotes are
`\\"`), and a 1.5 KB message body takes 1.0 us this way against 6.8 us through
`json.loads` on this box, on the path that answers Meta up to 3,000 times a second.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from appliance.clock import utcnow
from appliance.store.db import db
from appliance.store.keystate import AppState
from appliance.whatsapp.signature import signature_ok

if TYPE_CHECKING:  # numbers forgets a number's refusals once it is added
    from appliance.whatsapp.numbers import Number

_NUMBER = re.compile(rb'"phone_number_id"\s*:\s*"([0-9]{1,32})"')
COUNTER = "webhook.unknown_number."


@dataclass(frozen=True)
class Verdict:
    status: int  # 200 accept, 401 not signed by any number's app, 404 not ours
    unknown: tuple[str, ...] = ()  # numbers the box does not serve: counted, to be added
    # numbers the box serves under another app, or accounts it does not serve: refused,
    # and nothing to add
    foreign: tuple[str, ...] = ()


def route(raw: bytes, header: str | None, numbers: Iterable[Number]) -> Verdict:
    served = [n for n in numbers if n.active]
    by_secret: dict[str, list[Number]] = {}
    for n in served:
        if n.app_secret:
            by_secret.setdefault(n.app_secret, []).append(n)
    signers = [n for secret, group in by_secret.items() if signature_ok(secret, raw, header)
               for n in group]
    if not signers:
        return Verdict(401)
    named = {m.decode() for m in _NUMBER.findall(raw)}
    if named:
        refused = named - {n.phone_number_id for n in signers}
        if not refused:
            return Verdict(200)
        ours = {n.phone_number_id for n in served}
        return Verdict(404, tuple(sorted(refused - ours)), tuple(sorted(refused & ours)))
    accounts = _accounts(raw)
    wabas = {n.waba_id for n in signers if n.waba_id}
    if accounts and wabas and not accounts & wabas:
        return Verdict(404, foreign=tuple(sorted(accounts)))
    return Verdict(200)  # an account change of a number whose WABA is not set, or garbage
    # that is signed: stored, and the worker marks it failed for a look


def _accounts(raw: bytes) -> set[str]:
    """The WABA ids of a body without numbers (account updates, template changes): rare."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return set()
    entries = doc.get("entry") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        return set()
    return {e["id"] for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)}


def count_refused(unknown: tuple[str, ...]) -> None:
    """One more refusal of each id, with when: what the admin sees."""
    now = utcnow().isoformat(timespec="seconds")
    with db.atomic():
        for number in unknown:
            name = COUNTER + number[:32]
            row = AppState.get_or_none(AppState.name == name)
            count = (json.loads(row.value).get("count", 0) if row else 0) + 1
            value = json.dumps({"count": count, "last": now})
            (AppState.insert(name=name, value=value, updated_at=utcnow())
             .on_conflict(conflict_target=[AppState.name],
                          update={AppState.value: value, AppState.updated_at: utcnow()})
             .execute())


@dataclass(frozen=True)
class Refused:
    phone_number_id: str
    count: int
    last: datetime


def refused() -> list[Refused]:
    """Numbers whose webhooks were refused, most recent first."""
    out = []
    for row in AppState.select().where(AppState.name.startswith(COUNTER)):
        value = json.loads(row.value)
        out.append(Refused(row.name[len(COUNTER):], int(value.get("count", 0)),
                           datetime.fromisoformat(value["last"])))
    return sorted(out, key=lambda r: r.last, reverse=True)


def forget(phone_number_id: str) -> None:
    """The number was added: its old refusals are history."""
    AppState.delete().where(AppState.name == COUNTER + phone_number_id).execute()

"""Provides `Facts`: what Auto Reply needs to know about a batch's messages, read at once.

Auto Reply answers a webhook batch of up to 500 messages in one transaction. Reading
per message cost a query per rule condition (Chatwoot's way: several per rule per
message); here a batch costs about a dozen queries whatever its size, and the rules run
in memory (bench/apply.py: with 1,000 rules, a commit per message held the worker to 160
messages a second).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from appliance.auth.permissions import Principal, service_principal
from appliance.automation.hours import Schedule
from appliance.automation.menu import Menu
from appliance.automation.schedules import load_schedules
from appliance.clock import utcnow
from appliance.crypto.aead import KeySet
from appliance.keys.customer_keys import customer_keysets
from appliance.privacy import notice
from appliance.runtime import Runtime
from appliance.store import automation as store
from appliance.store.automation import MenuState
from appliance.store.models import Conversation, Customer, Division
from appliance.store.sealed import open_text

ACTOR = "autoreply"
AWAY_EVERY = timedelta(hours=12)  # one away message per conversation per closed stretch


@dataclass
class Facts:
    convos: dict[int, Conversation]
    keys: dict[int, KeySet]
    first_in: dict[int, int]  # customer: their first inbound message's id
    first_today: dict[int, int]  # customer: their first inbound message's id today
    first_in_convo: dict[int, int]  # conversation: its first inbound message's id
    recent: dict[int, int]  # conversation: automatic replies in the last hour
    last_inbound: dict[int, datetime | None]  # customer: the window's start
    language: dict[int, str]  # customer: id or en, from their number's country
    schedules: dict[int | None, Schedule]
    menus: dict[int, MenuState]  # conversation: its menu, if it was sent one
    away_sent: set[int]  # conversations sent the away message lately
    notice: notice.Notice | None
    shown: dict[int, set[str]]  # customer: notice versions shown
    menu: Menu
    principal: Principal
    hour_ago: datetime
    loop_noted: set[int] = field(default_factory=set)
    opted: dict[str, bool] = field(default_factory=dict)  # wamid: opt-in (True) or out
    notify: list[tuple[int, str]] = field(default_factory=list)  # conversation, rule name


def load(rt: Runtime, conversation_ids: set[int], menu: Menu) -> Facts:
    convos = {c.id: c for c in Conversation.select().where(Conversation.id.in_(conversation_ids))}
    customers = {c.customer_id for c in convos.values()}
    now = utcnow()
    hour_ago, today = now - timedelta(hours=1), office_midnight(rt.settings.timezone)
    recent, noted = store.recent_replies(list(convos), hour_ago)
    divisions = sorted({c.division_id for c in convos.values() if c.division_id} | {0})
    keys = customer_keysets(rt.master, customers)
    rows = list(Customer.select(Customer.id, Customer.last_inbound_at, Customer.phone_sealed)
                .where(Customer.id.in_(customers)))
    current = notice.current()
    return Facts(
        convos=convos, keys=keys,
        first_in=store.first_inbound(sorted(customers)),
        first_today=store.first_inbound(sorted(customers), today),
        first_in_convo=store.first_inbound_of_conversations(sorted(convos)),
        recent=recent,
        last_inbound={c.id: c.last_inbound_at for c in rows},
        language={c.id: _language(keys.get(c.id), c) for c in rows},
        schedules=load_schedules([None if d == 0 else d for d in divisions]),
        menus={m.conversation_id: m for m in MenuState.select().where(
            MenuState.conversation.in_(sorted(convos)))},
        away_sent=store.recently_sent(sorted(convos), "away", now - AWAY_EVERY),
        notice=current,
        shown=notice.shown_versions(sorted(customers)) if current else {},
        menu=menu,
        principal=service_principal(ACTOR, (int(d.id) for d in Division.select(Division.id))),
        hour_ago=hour_ago, loop_noted=noted)


def _language(keys: KeySet | None, customer: Customer) -> str:
    """Indonesian for an Indonesian number (and when the number is not known), else English."""
    phone = open_text(keys, Customer, "phone", customer.id, customer.phone_sealed) \
        if keys is not None else None
    return "en" if phone and not phone.lstrip("+").startswith("62") else "id"


def office_midnight(timezone: str) -> datetime:
    """The start of today in the office's time zone, as the database keeps times."""
    now = utcnow()
    local = now.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(UTC).replace(tzinfo=now.tzinfo)

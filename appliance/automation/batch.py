"""Provides `Facts`: what Auto Reply needs to know about a batch's messages, read at once.

Auto Reply answers a webhook batch of up to 500 messages in one transaction. Reading
per message cost a query per rule condition (Chatwoot's way: several per rule per
message); here a batch costs a few queries whatever its size, and the rules run in
memory (bench/apply.py: with 1,000 rules, a commit per message held the worker to 160
messages a second). Each fact is read the first time something asks for it: a batch
whose rules use no "first message" trigger, with no menu, notice or away message, reads
none of those (bench/ingest.py --auto-reply: reading them all for every batch of first
contacts cost the box a third of its throughput).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from appliance.auth.permissions import Principal, service_principal
from appliance.automation import menu_book
from appliance.automation.hours import Schedule
from appliance.automation.matcher import RuleSet
from appliance.automation.menu import Menu
from appliance.automation.rule_book import COMPILED
from appliance.automation.schedules import load_schedules
from appliance.clock import utcnow
from appliance.crypto.aead import KeySet
from appliance.inbox import window
from appliance.keys.customer_keys import customer_keysets
from appliance.privacy import notice, requests
from appliance.runtime import Runtime
from appliance.store import automation as store
from appliance.store.automation import MenuState
from appliance.store.models import Conversation, Customer, Division
from appliance.store.sealed import open_text

ACTOR = "autoreply"
AWAY_EVERY = timedelta(hours=12)  # one away message per conversation per closed stretch


@dataclass(frozen=True)
class Parts:
    """What Auto Reply has to say at all, besides opt-out words: three small reads."""

    menu: Menu
    notice: notice.Notice | None
    away: bool  # some division has an away message

    @staticmethod
    def ready() -> tuple[RuleSet, Parts] | None:
        """As `now`, from what this process has compiled already; None if the rule book
        changed since (then the caller hands the work to a job that compiles it)."""
        rules_stamp, menu, notice_id, away = store.stamps()
        rules = COMPILED.ready(rules_stamp)
        if rules is None:
            return None
        return rules, Parts(menu_book.CURRENT.current(menu), notice.CURRENT.current(notice_id),
                            away)

    @staticmethod
    def now() -> tuple[RuleSet, Parts]:
        """The rules and parts as they stand: one read, and a rebuild only of what changed."""
        rules, menu, notice_id, away = store.stamps()
        return COMPILED.current(rules), Parts(menu_book.CURRENT.current(menu),
                                              notice.CURRENT.current(notice_id), away)


@dataclass
class Facts:
    rt: Runtime
    parts: Parts
    convos: dict[int, Conversation]
    known_keys: dict[int, KeySet]  # the customers' keys the caller holds already
    recent: dict[int, int]  # conversation: automatic replies in the last hour
    loop_noted: set[int]  # conversations whose loop guard spoke in the last hour
    opted: dict[str, bool] = field(default_factory=dict)  # wamid: opt-in (True) or out
    notify: list[tuple[int, str]] = field(default_factory=list)  # conversation, rule name

    @property
    def menu(self) -> Menu:
        return self.parts.menu

    @property
    def notice(self) -> notice.Notice | None:
        return self.parts.notice

    @cached_property
    def keys(self) -> dict[int, KeySet]:
        """customer: their keys (those not handed over are unwrapped here)"""
        missing = set(self.customers) - set(self.known_keys)
        return {**self.known_keys, **customer_keysets(self.rt.master, missing)}

    @cached_property
    def customers(self) -> list[int]:
        return sorted({c.customer_id for c in self.convos.values()})

    @cached_property
    def first_in(self) -> dict[int, int]:
        """customer: their first inbound message's id"""
        return store.first_inbound(self.customers)

    @cached_property
    def first_today(self) -> dict[int, int]:
        """customer: their first inbound message's id today"""
        return store.first_inbound(self.customers, office_midnight(self.rt.settings.timezone))

    @cached_property
    def first_in_convo(self) -> dict[int, int]:
        """conversation: its first inbound message's id"""
        return store.first_inbound_of_conversations(sorted(self.convos))

    @cached_property
    def _customer_rows(self) -> dict[int, Customer]:
        return {c.id: c for c in Customer.select(
            Customer.id, Customer.last_inbound_at, Customer.phone_sealed).where(
            Customer.id.in_(self.customers))}

    @cached_property
    def last_inbound(self) -> dict[tuple[int, int], datetime]:
        """(customer, number): the 24-hour window's start, on the number the conversation
        is held on"""
        return window.last_inbound_many((c.customer_id, c.number_id)
                                        for c in self.convos.values())

    @cached_property
    def language(self) -> dict[int, str]:
        """customer: id or en, from their number's country"""
        return {i: _language(self.keys.get(i), c) for i, c in self._customer_rows.items()}

    @cached_property
    def schedules(self) -> dict[int | None, Schedule]:
        divisions = sorted({c.division_id for c in self.convos.values() if c.division_id})
        return load_schedules([None, *divisions])

    @cached_property
    def menus(self) -> dict[int, MenuState]:
        """conversation: its menu, if it was sent one"""
        return {m.conversation_id: m for m in MenuState.select().where(
            MenuState.conversation.in_(sorted(self.convos)))}

    @cached_property
    def away_sent(self) -> set[int]:
        """conversations sent the away message lately"""
        return store.recently_sent(sorted(self.convos), "away", utcnow() - AWAY_EVERY)

    @cached_property
    def shown(self) -> dict[int, set[str]]:
        """customer: the notice versions shown"""
        return notice.shown_versions(self.customers) if self.notice else {}

    @cached_property
    def objected(self) -> set[int]:
        """customers who objected to automated processing (UU PDP): a person answers them"""
        return requests.objected(self.customers)

    @cached_property
    def principal(self) -> Principal:
        return service_principal(ACTOR, (int(d.id) for d in Division.select(Division.id)))


def load(rt: Runtime, conversation_ids: set[int], parts: Parts,
         keys: Mapping[int, KeySet] | None = None) -> Facts:
    convos = store.conversations(sorted(conversation_ids))
    recent, noted = store.recent_replies(list(convos), utcnow() - timedelta(hours=1))
    return Facts(rt, parts, convos, dict(keys or {}), recent, noted)


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

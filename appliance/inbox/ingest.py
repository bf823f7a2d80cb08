"""Provides `process_events`: stored webhooks turned into customers, messages and statuses.

Events are applied in one IMMEDIATE transaction together with marking them done, so a
worker killed halfway leaves them untouched for the sweeper, and two workers given the
same id (a duplicate enqueue) apply it once: the second sees it done. Messages are
idempotent on their wamid, so a webhook Meta redelivers adds nothing.

This is the hottest path of the appliance (up to 3,000 events/s), so a batch reads what
it needs in a few set queries, keeps customers, keys and conversations in memory for
the batch, and writes messages, statuses and event states with one statement each.
First contacts too: the batch's new customers are made together (`first_contacts`:
ids up front, one statement per table; 429 to over 2,000 first contacts/s processed on
the whole box, issue 11), and their conversations with them. Rare cases (a customer to
complete with a name or an identity, a number change, a status naming its message by
our callback, media, account events) take the plain model path; the batch's new
customers are written first, so that path finds them.

Each change names the business number it was written to (`metadata.phone_number_id`): a
conversation is a customer's on one number, lands in that number's division when new,
and the 24-hour window is written for the pair (`customer_window`, one upsert a batch).

Consent signals ride along at no cost to the rest: a "Stop promotions" tap is told from
the message in memory (`button` messages only), Meta's `user_preferences` webhook and a
131050 refusal are rare and read what they need themselves; the batch appends them to
the consent ledger in one statement, in the same transaction as the messages.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from appliance.automation import campaign_statuses, template_book
from appliance.clock import utcnow
from appliance.crypto.aead import KeySet
from appliance.inbox import changes
from appliance.inbox.customers import (
    NUMBER_CHANGED,
    changed_number,
    find_or_create_from_whatsapp,
    move_number,
    whatsapp_e164,
)
from appliance.inbox.first_contacts import FirstContacts
from appliance.inbox.routing import division_for_new_conversation
from appliance.inbox.said import Said, reply_id
from appliance.inbox.statuses import RANK, apply_status
from appliance.keys.customer_keys import customer_keysets
from appliance.privacy import consent, opt_words, requests
from appliance.runtime import Runtime
from appliance.store import bulk, bulk_reads
from appliance.store.db import db, writing
from appliance.store.models import Conversation, Media, Message
from appliance.store.numbers import FIRST_NUMBER
from appliance.store.sealed import where
from appliance.whatsapp import health, numbers
from appliance.whatsapp.webhook_events import open_sealed
from appliance.whatsapp.webhook_parse import (
    AccountUpdate,
    InboundMessage,
    Parsed,
    StatusUpdate,
    UserPreference,
    parse,
)

log = logging.getLogger(__name__)
FATAL_PROBLEMS = {"not_json", "not_whatsapp", "too_deep"}
MAX_ATTEMPTS = 5


@dataclass
class Outcome:
    """What a batch did: counts and ids only (it is logged)."""

    messages: int = 0
    duplicates: int = 0
    statuses: int = 0
    pending_statuses: int = 0
    account_updates: int = 0
    consent_events: int = 0  # grants and withdrawals appended to the consent ledger
    preferences: int = 0  # of them, Meta's stop or resume signals (Auto Reply confirms)
    media_ids: list[int] = field(default_factory=list)
    inbound_ids: list[int] = field(default_factory=list)  # new inbound messages, for actors
    unanswered: list[int] = field(default_factory=list)  # of them, those `then` failed on
    # What Auto Reply reads of them, handed over in memory by the worker that applied them
    # (never logged, never queued: it holds what customers wrote, and their keys)
    handoff: dict[int, Said] = field(default_factory=dict, repr=False)
    keys: dict[int, KeySet] = field(default_factory=dict, repr=False)
    health_rows: list[int] = field(default_factory=list)  # changes to alert staff about
    skipped: bool = False

    def add(self, other: Outcome) -> None:
        for name in ("messages", "duplicates", "statuses", "pending_statuses",
                     "account_updates", "consent_events", "preferences"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.media_ids += other.media_ids
        self.inbound_ids += other.inbound_ids
        self.unanswered += other.unanswered
        self.handoff.update(other.handoff)
        self.keys.update(other.keys)
        self.health_rows += other.health_rows
        self.skipped = self.skipped or other.skipped


def process_event(rt: Runtime, event_id: int) -> Outcome:
    return process_events(rt, [event_id])


def process_events(rt: Runtime, event_ids: list[int], *,
                   then: Callable[[Outcome], None] | None = None) -> Outcome:
    """Applies events in a few short transactions: one fsync for many (group commit).

    Transactions are kept short (about `TARGET_SECONDS`, sized from the last one) because
    the inbox writer waits for the write lock while one runs, and Meta waits for it. If a
    transaction fails, its events are retried one by one, so one event that cannot be
    applied (a bug, a poison payload) cannot hold the others back; after `MAX_ATTEMPTS`
    it is marked failed and left for an operator, never retried in a loop.
    """
    out = Outcome()
    todo = list(event_ids)
    while todo:
        chunk, todo = todo[:_sizer.size], todo[_sizer.size:]
        part = Outcome()
        try:
            held = _transaction(rt, chunk, part, then)  # counts only what was committed
        except Exception:
            if len(chunk) > 1:  # find the culprit: the same events again, one at a time
                log.warning("%d events failed together; applying them one by one", len(chunk))
                todo, _sizer.size = chunk + todo, 1
                continue
            bulk.count_failed_attempt(chunk[0], MAX_ATTEMPTS)
            if len(event_ids) == 1:
                raise  # the queue retries it with back-off
            log.exception("event %d could not be applied", chunk[0])
            continue
        _sizer.learn(len(chunk), held)
        out.add(part)
    log.debug("events %s: %d messages (%d duplicates), %d statuses (%d pending), %d account",
             _span(event_ids), out.messages, out.duplicates, out.statuses, out.pending_statuses,
             out.account_updates)
    return out


def _transaction(rt: Runtime, event_ids: list[int], out: Outcome,
                 then: Callable[[Outcome], None] | None = None) -> float:
    """Applies and commits; returns how long the write lock was held (waiting excluded).

    `then` (Auto Reply) runs on the batch's new messages in the same transaction, in a
    savepoint of its own: if it fails, what it wrote goes and the batch stays, with its
    messages listed as `unanswered` for the caller to hand on."""
    with writing(rt.settings.db_file):  # the clock starts once the lock is ours
        started = time.perf_counter()
        _Batch(rt, out).run(event_ids)
        if then is not None and out.inbound_ids:
            try:
                with db.atomic():
                    then(out)
            except Exception:
                log.exception("answering %d messages failed in their batch; they stay "
                              "applied and are answered apart", len(out.inbound_ids))
                out.unanswered += out.inbound_ids
    return time.perf_counter() - started


# How long one transaction may hold the write lock: the inbox writer (and so Meta's
# answer) waits at most about this long.
TARGET_SECONDS = 0.025
# A transaction costs about 3.5 ms of its own (first contacts; 1.6 ms with known customers):
# its commit encrypts and writes every page it dirtied. Below 32 events that cost is most
# of the work: 8 first contacts a transaction took 820 us of CPU each, 32 took 440, 64
# took 400. When the box is busy (the listener takes the cores), a transaction takes
# longer for the same events and a sizer without a floor shrank them to a handful: the
# worker fell to 200 first contacts/s, which made it slower still (issue 11).
MIN_EVENTS = 32


class _Sizer:
    """How many events fit in one short transaction, learned from the last one."""

    def __init__(self) -> None:
        self.size = MIN_EVENTS

    def learn(self, count: int, seconds: float) -> None:
        per_event = seconds / max(count, 1)
        self.size = max(MIN_EVENTS, min(500, int(TARGET_SECONDS / max(per_event, 1e-5))))


_sizer = _Sizer()


def _span(ids: list[int]) -> str:
    return f"#{ids[0]}" if len(ids) == 1 else f"#{min(ids)}..#{max(ids)} ({len(ids)})"


class _Batch:
    def __init__(self, rt: Runtime, out: Outcome) -> None:
        self.rt, self.out = rt, out
        self.customer_at: dict[bytes, int] = {}  # blind index -> customer id
        self.named: dict[int, bool] = {}  # customer already has a name
        self.keys: dict[int, KeySet] = {}
        # (customer, number) -> [conversation id, last message at]: one open conversation
        # per customer and business number, each held on (and answered from) its number
        self.convo: dict[tuple[int, int], list[Any]] = {}
        self.all_numbers = numbers.all_numbers(rt)
        self.numbers = {pnid: n.id for pnid, n in numbers.by_phone_number_id(rt).items()}
        self.divisions = {n.id: n.division_id for n in self.all_numbers}
        self.first = FirstContacts(rt)
        self.indexes: dict[tuple[str | None, str | None], tuple[bytes | None, bytes | None]] = {}
        self.new_convos: list[tuple[int, int]] = []  # conversations this batch makes
        self.convo_ids = bulk.Ids("conversation")
        self.touched_convos: set[tuple[int, int]] = set()
        self.last_inbound: dict[int, datetime] = {}
        self.windows: dict[tuple[int, int], datetime] = {}  # (customer, number): last wrote
        self.rows: list[tuple[Any, ...]] = []
        self.media: list[tuple[int, str, str]] = []
        self.wamids: set[str] = set()
        self.consent: list[consent.Entry] = []
        self.requests: list[tuple[int, str, datetime]] = []  # "DATA SAYA": UU PDP requests
        self.opt_words = opt_words.CURRENT.current()
        self.said: dict[int, Said] = {}

    def run(self, event_ids: list[int]) -> None:
        events = self._load(event_ids)
        self.out.skipped = len(events) < len(event_ids)
        if not events:
            return
        messages = [m for _, p in events for m in p.messages]
        self._prefetch(messages)
        self.message_ids = bulk.Ids("message")
        statuses: list[StatusUpdate] = []
        preferences: list[tuple[int, UserPreference]] = []
        for eid, parsed in events:
            for message in parsed.messages:
                self._inbound(message)
            statuses += parsed.statuses
            for update in parsed.account:
                self._account(update)
            preferences += [(eid, p) for p in parsed.preferences]
        self._flush_messages()
        if self.last_inbound:
            self._replies_to_campaigns()
        self._apply_statuses(statuses)
        if preferences:
            self._preferences(preferences)
        if self.consent:
            self.out.consent_events += consent.record_many(self.consent)
        if self.requests:
            requests.record_from_whatsapp(self.rt, self.requests)
        self._finish(events)

    # -- reading -------------------------------------------------------------------------
    def _load(self, event_ids: list[int]) -> list[tuple[int, Parsed]]:
        found = bulk_reads.waiting_events(event_ids)
        system = self.rt.keyring.system
        return [(eid, parse(open_sealed(system, uid, bytes(body)))) for eid, uid, body in found]

    def _prefetch(self, messages: list[InboundMessage]) -> None:
        self.wamids |= bulk_reads.known_wamids({m.wamid for m in messages})
        indexes = {i for m in messages for i in self._indexes(m) if i is not None}
        self._remember(bulk_reads.customers_by_index(indexes))
        self._load_customers(set(self.customer_at.values()))

    def _remember(self, rows: list[tuple[Any, ...]]) -> None:
        for cid, user_idx, phone_idx, nameless in rows:
            for idx in (user_idx, phone_idx):
                if idx is not None:
                    self.customer_at.setdefault(bytes(idx), cid)
            self.named[cid] = not nameless

    def _load_customers(self, ids: set[int]) -> None:
        ids -= set(self.keys)
        if not ids:
            return
        self.keys.update(customer_keysets(self.rt.master, ids))
        for cid, convo_id, last, number_id in bulk_reads.open_conversations(ids):
            self.convo[(cid, number_id)] = [convo_id, _as_datetime(last)]

    def _indexes(self, m: InboundMessage) -> tuple[bytes | None, bytes | None]:
        """The blind indexes a message names its customer by (each HMAC once a batch)."""
        found = self.indexes.get((m.user_id, m.phone))
        if found is None:
            user = self.rt.index("wa_user", m.user_id) if m.user_id else None
            phone = self.rt.index("phone", whatsapp_e164(m.phone)) if m.phone else None
            found = self.indexes[(m.user_id, m.phone)] = (user, phone)
        return found

    # -- applying ------------------------------------------------------------------------
    def _customer(self, m: InboundMessage) -> int:
        user, phone = self._indexes(m)
        cid = (self.customer_at.get(user) if user else None) or \
            (self.customer_at.get(phone) if phone else None)
        if cid is None:  # someone never seen
            return self._first_contact(m, user, phone)
        # Fast when every identity in the message is already this customer's (or another's:
        # a phone recycled to someone else is not moved) and there is no name to add.
        fast = (user is None or user in self.customer_at) \
            and (phone is None or phone in self.customer_at) \
            and (not m.name or self.named.get(cid, False))
        return cid if fast else self._model_path(m, user, phone)

    def _first_contact(self, m: InboundMessage, user: bytes | None, phone: bytes | None) -> int:
        """A new customer, made in bulk with the batch's other ones (written at the flush)."""
        new = self.first.add(phone=m.phone, user_id=m.user_id, name=m.name)
        for idx in (new.user_index, new.phone_index, user, phone):
            if idx is not None:
                self.customer_at.setdefault(idx, new.id)
        self.named[new.id] = new.name is not None
        self.keys[new.id] = new.keys
        return new.id

    def _model_path(self, m: InboundMessage, user: bytes | None, phone: bytes | None) -> int:
        """A customer to complete (a name, an identity) the plain model way, rare."""
        self.first.flush()  # it must find the batch's new customers
        cid = find_or_create_from_whatsapp(self.rt, phone=m.phone, user_id=m.user_id,
                                           name=m.name)
        self._remember(bulk_reads.customer_by_id(cid))
        for idx in (user, phone):  # an identity held by another customer stays theirs
            if idx is not None:
                self.customer_at.setdefault(idx, cid)
        self._load_customers({cid})
        return cid

    def _inbound(self, m: InboundMessage) -> None:
        if m.wamid in self.wamids:
            self.out.duplicates += 1
            return
        self.wamids.add(m.wamid)
        cid = self._customer(m)
        new_number = changed_number(m)
        if new_number is not None:  # a fixed line for everyone; the number itself moves
            self._number_changed(cid, new_number)
            m = replace(m, kind=NUMBER_CHANGED, text=None)
        at = m.timestamp or utcnow()
        if cid not in self.last_inbound or self.last_inbound[cid] < at:
            self.last_inbound[cid] = at
        # Meta names the number in every change; none (an old fixture) or one retired
        # since the webhook took it: number 1, so the message is kept all the same
        key = (cid, self.numbers.get(m.number or "", FIRST_NUMBER))
        if key not in self.windows or self.windows[key] < at:
            self.windows[key] = at
        if key not in self.convo:
            self.convo[key] = [self._new_conversation(key, at), at]
        convo = self.convo[key]
        if convo[1] < at:
            convo[1] = at
        self.touched_convos.add(key)
        message_id = self.message_ids.take()
        keys = self.keys[cid]
        body = None if m.text is None else keys.seal(m.text.encode(),
                                                     where(Message, "body", message_id))
        payload = keys.seal(json.dumps(m.payload, ensure_ascii=False).encode(),
                            where(Message, "payload", message_id))
        now = utcnow()
        self.rows.append((message_id, convo[0], m.wamid, m.kind[:24], body, payload,
                          None if m.timestamp is None else str(m.timestamp), str(now)))
        self.said[message_id] = Said(message_id, convo[0], cid, m.wamid, m.kind[:24], now,
                                     m.text or "", reply_id(m.payload))
        if m.media_id:
            self.media.append((message_id, m.media_id[:64], (m.media_mime or "")[:100]))
        if m.kind == "button" and consent.is_stop_button(m.kind, m.payload):
            self.consent.append(consent.Entry(cid, "marketing", False, "stop_button",
                                              consent.as_proof(m.wamid), at))
            self.said[message_id] = replace(self.said[message_id], opted=False)
        elif m.kind == "text" and \
                (opted := consent.opt_keyword(m.text, self.opt_words)) is not None:
            self.consent.append(consent.Entry(cid, "marketing", opted, "keyword",
                                              consent.as_proof(m.wamid), at))
            self.said[message_id] = replace(self.said[message_id], opted=opted)
        elif m.kind == "text" and (asked := requests.keyword_kind(m.text)) is not None:
            self.requests.append((cid, asked, at))
        self.out.messages += 1

    def _new_conversation(self, key: tuple[int, int], at: datetime) -> int:
        """Its id now; the row is written with the messages (`_flush_messages`)."""
        convo_id = self.convo_ids.take()
        self.new_convos.append(key)
        return convo_id

    def _number_changed(self, cid: int, wa_id: str) -> None:
        """The customer's number becomes the new one (sealed, blind index, search tokens),
        unless another customer already has it: then nothing moves (a supervisor merges)."""
        self.first.flush()  # the model path must see the batch's new customers
        if move_number(self.rt, cid, whatsapp_e164(wa_id)):
            self.customer_at[self.rt.index("phone", whatsapp_e164(wa_id))] = cid

    def _replies_to_campaigns(self) -> None:
        """Names the broadcast a customer answers, in a savepoint: a failure there costs
        the note, never the batch (the messages are what must not be lost)."""
        try:
            with db.atomic():
                campaign_statuses.note_replies(self.rt, {key[0]: self.convo[key][0]
                                                         for key in self.touched_convos})
        except Exception:  # logged; the batch goes on
            log.exception("replies to broadcasts not noted in this batch")

    def _account(self, update: AccountUpdate) -> None:
        self.out.account_updates += 1
        first = self.all_numbers[0].waba_id  # number 1's: an entry without an id is its
        account = update.account or first
        if template_book.apply_update(update.field, update.value, account,
                                      first=account == first):
            return
        seen = health.from_account_update(update.field, update.value)
        if seen is not None:
            for number_id in self._numbers_named(update):
                row_id = health.record(seen[0], source="webhook", event=seen[1],
                                       number_id=number_id)
                if row_id is not None:
                    self.out.health_rows.append(row_id)

    def _numbers_named(self, update: AccountUpdate) -> list[int]:
        """The numbers an account change is about: the one its `display_phone_number`
        names (quality, limits), else every number of its WABA (an offboarding, a ban),
        else number 1."""
        shown = _digits(str(update.value.get("display_phone_number") or ""))
        named = [n.id for n in self.all_numbers
                 if shown and _digits(n.display_phone_number) == shown]
        if not named and update.account:
            named = [n.id for n in self.all_numbers if n.waba_id == update.account]
        return named or [FIRST_NUMBER]

    def _flush_messages(self) -> None:
        self.first.flush()
        if self.new_convos:
            default = division_for_new_conversation(self.rt.settings)
            now = str(utcnow())
            bulk.insert_conversations(
                [(self.convo[key][0], key[0], self.divisions.get(key[1]) or default, now,
                  str(self.convo[key][1]), key[1]) for key in self.new_convos])
        if self.rows:
            bulk.insert_inbound_messages(self.rows)
            self.out.inbound_ids += [int(row[0]) for row in self.rows]
            self.out.handoff.update(self.said)
            self.out.keys.update({s.customer_id: self.keys[s.customer_id]
                                  for s in self.said.values()})
        for message_id, media_id, mime in self.media:
            self.out.media_ids.append(int(Media.create(message=message_id, wa_media_id=media_id,
                                                       mime_type=mime).id))
        changes.record_many((self.convo[c][0], "message") for c in self.touched_convos)
        if self.touched_convos:
            bulk.advance_conversations([(str(self.convo[c][1]), self.convo[c][0],
                                         str(self.convo[c][1])) for c in self.touched_convos])
        if self.last_inbound:
            bulk.advance_last_inbound(
                [(str(at), cid, str(at)) for cid, at in self.last_inbound.items()])
            bulk.advance_windows([(cid, number_id, str(at))
                                  for (cid, number_id), at in self.windows.items()])

    def _apply_statuses(self, statuses: list[StatusUpdate]) -> None:
        """Applies statuses in arrival order; never backwards (read stays read)."""
        if not statuses:
            return
        campaign, statuses = campaign_statuses.ours(statuses)
        if campaign:  # a broadcast's messages: found by their callback, never pending
            self.out.statuses += len(campaign)
            self.consent += campaign_statuses.apply(campaign)
        if not statuses:
            return
        current: dict[str, list[Any]] = {}
        for mid, wamid, state, direction, convo in bulk_reads.messages_by_wamid(
                {s.wamid for s in statuses}):
            current[wamid] = [mid, state, direction, None, None, False, convo]
        for s in statuses:
            self.out.statuses += 1
            row = current.get(s.wamid)
            if row is None:
                if apply_status(s):  # unknown wamid: maybe our callback names the message
                    continue
                self.out.pending_statuses += 1
                continue
            if row[2] != "out" or s.status not in RANK or RANK[s.status] <= RANK.get(row[1], 0):
                continue
            row[1], row[3], row[5] = s.status, s.timestamp or utcnow(), True
            row[4] = s.error_code if s.status == "failed" else None
        changed = [(r[1], str(r[3]), r[4], r[0]) for r in current.values() if r[5]]
        if changed:
            bulk.update_message_statuses(changed)
            changes.record_many({(r[6], "status") for r in current.values() if r[5]})
            self._marketing_refused([(r[6], w, r[3]) for w, r in current.items()
                                     if r[5] and r[4] == consent.MARKETING_STOPPED])

    def _marketing_refused(self, refused: list[tuple[int, str, datetime]]) -> None:
        """Meta refused our marketing send (131050): the person stopped marketing, so the
        ledger records a withdrawal, proved by the wamid of our send."""
        if not refused:
            return
        query: Any = (Conversation.select(Conversation.id, Conversation.customer)
                      .where(Conversation.id.in_(sorted({c for c, _, _ in refused}))))
        owner: dict[int, int] = {int(c): int(who) for c, who in query.tuples()}
        self.consent += [consent.Entry(int(owner[convo]), "marketing", False, "error_131050",
                                       consent.as_proof(wamid), at)
                         for convo, wamid, at in refused if convo in owner]

    def _preferences(self, preferences: list[tuple[int, UserPreference]]) -> None:
        """Meta's `user_preferences`: marketing stopped or resumed in WhatsApp's settings.
        `resume` is the person's own act, recorded as a grant; someone the box has never
        met has nothing to record (and no marketing can reach them from here)."""
        wanted = {(p.user_id, p.wa_id): self._person_indexes(p.user_id, p.wa_id)
                  for _, p in preferences}
        missing = {i for pair in wanted.values() for i in pair
                   if i is not None and i not in self.customer_at}
        if missing:
            self._remember(bulk_reads.customers_by_index(missing))
        for eid, p in preferences:
            if p.category != "marketing_messages" or p.value not in ("stop", "resume"):
                continue
            user, phone = wanted[(p.user_id, p.wa_id)]
            cid = (self.customer_at.get(user) if user else None) or \
                (self.customer_at.get(phone) if phone else None)
            if cid is not None:
                self.consent.append(consent.Entry(cid, "marketing", p.value == "resume",
                                                  "meta_user_preferences", f"webhook:{eid}",
                                                  p.timestamp))
                self.out.preferences += 1

    def _person_indexes(self, user_id: str | None,
                        wa_id: str | None) -> tuple[bytes | None, bytes | None]:
        user = self.rt.index("wa_user", user_id) if user_id else None
        phone = self.rt.index("phone", whatsapp_e164(wa_id)) if wa_id else None
        return user, phone

    def _finish(self, events: list[tuple[int, Parsed]]) -> None:
        """Marks the events applied and, in the same transaction, drops their bodies: what
        a customer wrote now lives only under their own key, which erasure destroys. One
        that cannot be applied keeps its body for `inbox.failed_days`, then the purge."""
        now = str(utcnow())
        bulk.finish_events(
            [("failed" if failed else "done", ",".join(sorted(set(p.problems)))[:64], now,
              failed, eid)
             for eid, p in events for failed in [bool(FATAL_PROBLEMS & set(p.problems))]])


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    text = str(value)
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(text, fmt)

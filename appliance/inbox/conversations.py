"""Provides reading the inbox: lists, one thread, search, counts, export, the customer panel.

Every path goes through the same scope: lists, searches and counts filter with
`permissions.visible`, single objects go through `authorize`, and anything else answers
as if the object did not exist. What leaves here is already masked (phones always,
sensitive patterns in bodies) unless a reveal was asked for; reads are audited by id.

An erased customer's conversations stay, sealed under a key that no longer exists: they
come out marked `erased`, with no name, number or text (the faces say so in words), and
their media raise CustomerKeysGone (issue 11: they were a 500, and a row with no name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from peewee import fn

from appliance.auth import rate_limit
from appliance.auth.permissions import Denied, Principal, authorized, require, visible
from appliance.clock import utcnow
from appliance.crypto.blind_index import InvalidPhoneNumber
from appliance.errors import GembokError, TooSoon
from appliance.inbox import window
from appliance.inbox.search_tokens import TAIL, number_query, query_tokens
from appliance.inbox.work import NoteView, labels_of, notes_of
from appliance.keys.customer_keys import CustomerKeysGone, customer_keysets
from appliance.privacy import consent
from appliance.privacy.consent import Record as ConsentRecord
from appliance.privacy.masking import mask_phone, mask_text
from appliance.runtime import Runtime
from appliance.store.automation import sent_labels
from appliance.store.chatroom import ConversationLabel, ConversationRead, CustomerToken, Label
from appliance.store.db import tuples
from appliance.store.models import Conversation, Customer, Division, Media, Message, User
from appliance.store.sealed import open_text
from appliance.whatsapp import numbers
from appliance.whatsapp.error_text import plain_words
from appliance.whatsapp.media import open_media

PAGE = 50
MAX_ID = 2**63 - 1  # SQLite's INTEGER
FILTERS = ("all", "mine", "unassigned")


@dataclass(frozen=True)
class Summary:
    id: int
    customer_id: int
    customer_name: str
    phone: str  # masked
    division_id: int | None
    division: str
    assignee_id: int | None
    assignee: str
    status: str
    labels: list[str]
    unread: int
    window_seconds_left: int  # 0: only a template may be sent
    last_message_at: str
    erased: bool = False  # the customer was erased: no name, number or text is left
    number_id: int = 1  # the business number it is held on (and answered from)
    number: str = ""  # that number's label


@dataclass(frozen=True)
class Line:
    id: int
    direction: str
    kind: str
    text: str  # masked
    status: str
    failure: str  # Meta's refusal in plain words, if any
    at: str
    media_id: int | None
    author_id: int | None
    automated: str = ""  # what Auto Reply sent: the rule's name, or welcome, menu, away


@dataclass(frozen=True)
class Thread:
    conversation: Summary
    messages: list[Line]
    notes: list[NoteView]
    has_more: bool


def summaries(rt: Runtime, principal: Principal, convos: list[Conversation]) -> list[Summary]:
    """Views of many conversations with a handful of queries (one page of the inbox)."""
    if not convos:
        return []
    ids = [c.id for c in convos]
    customers = {c.id: c for c in Customer.select().where(
        Customer.id.in_([c.customer_id for c in convos]))}
    keys = customer_keysets(rt.master, set(customers))
    divisions = {d.id: d.name for d in Division.select()}
    windows = window.last_inbound_many((c.customer_id, c.number_id) for c in convos)
    number_labels = numbers.labels(rt)
    people = {u.id: u.display_name for u in User.select(User.id, User.display_name).where(
        User.id.in_([c.assignee_id for c in convos if c.assignee_id]))}
    unread: dict[int, int] = {}
    seen = (ConversationRead.select(ConversationRead.last_message_id)
            .where(ConversationRead.user == principal.user_id,
                   ConversationRead.conversation == Message.conversation))
    for convo_id, count in tuples(Message.select(Message.conversation, fn.COUNT(Message.id))
                                  .where(Message.conversation.in_(ids), Message.direction == "in",
                                         Message.id > fn.COALESCE(seen, 0))
                                  .group_by(Message.conversation)):
        unread[convo_id] = count
    labels: dict[int, list[str]] = {}
    for convo_id, name in tuples(ConversationLabel.select(ConversationLabel.conversation,
                                                          Label.name)
                                 .join(Label).where(ConversationLabel.conversation.in_(ids))
                                 .order_by(Label.name)):
        labels.setdefault(convo_id, []).append(name)
    now = utcnow()
    out = []
    for c in convos:
        customer = customers[c.customer_id]
        ks = keys.get(customer.id)
        erased = ks is None or customer.erased_at is not None
        name = None if ks is None or erased else \
            open_text(ks, Customer, "name", customer.id, customer.name_sealed)
        phone = None if ks is None or erased else \
            open_text(ks, Customer, "phone", customer.id, customer.phone_sealed)
        left = 0 if erased else window.seconds_left(windows.get((customer.id, c.number_id)),
                                                     now)
        out.append(Summary(c.id, customer.id, name or "", mask_phone(phone), c.division_id,
                           divisions.get(c.division_id or 0, ""), c.assignee_id,
                           people.get(c.assignee_id or 0, ""), c.status, labels.get(c.id, []),
                           unread.get(c.id, 0), left, str(c.last_message_at), erased,
                           c.number_id, number_labels.get(c.number_id, "")))
    return out


def list_conversations(rt: Runtime, principal: Principal, *, show: str = "all",
                       status: str | None = None, division: int | None = None,
                       label: int | None = None, before: str | None = None,
                       number: int | None = None) -> list[Summary]:
    """Newest activity first, a page at a time: `before` is the last row's cursor."""
    require(principal, "conversation.read")
    query = Conversation.select().where(visible(principal))
    if show == "mine":
        query = query.where(Conversation.assignee == principal.user_id)
    elif show == "unassigned":
        query = query.where(Conversation.assignee.is_null())
    if status:
        query = query.where(Conversation.status == status)
    if division is not None:
        query = query.where(Conversation.division == division)
    if number is not None:
        query = query.where(Conversation.number_id == number)
    if label is not None:
        query = query.where(Conversation.id.in_(
            ConversationLabel.select(ConversationLabel.conversation)
            .where(ConversationLabel.label == label)))
    if before:
        when, last_id = parse_cursor(before)
        query = query.where((Conversation.last_message_at < when)
                            | ((Conversation.last_message_at == when)
                               & (Conversation.id < last_id)))
    query = query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    return summaries(rt, principal, list(query.limit(PAGE)))


def cursor_of(summary: Summary) -> str:
    return f"{summary.last_message_at}|{summary.id}"


class CursorError(GembokError):
    """A `before` cursor that `cursor_of` did not write."""


def parse_cursor(cursor: str) -> tuple[datetime, int]:
    """`cursor_of`'s time and id, or CursorError: ASCII digits within SQLite's INTEGER,
    since `int()` takes Arabic-Indic digits and SQLite overflows past 2^63-1 (both were
    a 500)."""
    at, bar, last_id = cursor.partition("|")
    if not bar or not last_id.isascii() or not last_id.isdigit() \
            or len(last_id) > 19 or int(last_id) > MAX_ID:
        raise CursorError("not a cursor of this inbox: its id is not one")
    try:
        return datetime.fromisoformat(at), int(last_id)
    except ValueError:
        raise CursorError("not a cursor of this inbox: its time is not one") from None


def open_conversation(rt: Runtime, principal: Principal, conversation_id: int,
                      before_id: int | None = None, language: str = "id") -> Thread:
    """The latest 50 messages (or the 50 before `before_id`), masked; the read is audited.

    A failed message says why in the reader's language ("id" or "en").
    """
    convo = authorized(principal, "conversation.read", Conversation, conversation_id)
    summary = summaries(rt, principal, [convo])[0]
    keys = None if summary.erased else \
        customer_keysets(rt.master, {convo.customer_id}).get(convo.customer_id)
    query = Message.select().where(Message.conversation == convo.id)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    rows = list(query.order_by(Message.id.desc()).limit(PAGE + 1))
    has_more = len(rows) > PAGE
    rows = list(reversed(rows[:PAGE]))
    media = {m.message_id: m.id for m in Media.select(Media.id, Media.message).where(
        Media.message.in_([r.id for r in rows]))}
    automated = sent_labels([r.id for r in rows if r.direction == "out" and r.author_id is None])
    lines = [Line(m.id, m.direction, m.kind,
                  mask_text(open_text(keys, Message, "body", m.id, m.body_sealed))
                  if keys else "",
                  m.status, plain_words(m.error_code, language) if m.status == "failed" else "",
                  str(m.created_at), media.get(m.id), m.author_id, automated.get(m.id, ""))
             for m in rows]
    rt.audit_read(actor=principal.actor, action="conversation.read",
                  target=f"conversation:{convo.id}")
    return Thread(summary, lines, notes_of(rt, convo), has_more)


SEARCHES_PER_MINUTE = 20  # a person types far fewer; a script trying numbers far more
MAX_QUERY = 200


class SearchError(GembokError):
    """A search that cannot be run as typed; the message says what to type instead."""


def search(rt: Runtime, principal: Principal, query: str) -> list[Summary]:
    """By name (every word), the whole number, or exactly its last four digits; scoped,
    throttled per user, and audited (that a search happened, never what was typed)."""
    require(principal, "conversation.read")
    query = query.strip()
    if not query:
        return []
    if len(query) > MAX_QUERY:
        raise SearchError(f"a search is at most {MAX_QUERY} characters")
    wait = rate_limit.take(f"search:{principal.user_id}", SEARCHES_PER_MINUTE)
    if wait:
        raise TooSoon(f"too many searches in a minute: try again in {wait} s", wait)
    rt.audit_read(actor=principal.actor, action="inbox.searched", target="")
    customers: set[int] = set()
    digits = number_query(query)
    if digits is not None and len(digits) > TAIL:
        try:
            whole = rt.index.phone(query, rt.settings.region)
        except InvalidPhoneNumber:
            raise SearchError("type the whole number, or only its last four digits") from None
        customers |= {c.id for c in Customer.select(Customer.id).where(
            Customer.phone_index == whole)}
    tokens = query_tokens(rt, query)
    if tokens:
        matches = (CustomerToken.select(CustomerToken.customer)
                   .where(CustomerToken.token.in_(tokens))
                   .group_by(CustomerToken.customer)
                   .having(fn.COUNT(fn.DISTINCT(CustomerToken.token)) == len(set(tokens))))
        customers |= {row.customer_id for row in matches}
    if not customers:
        return []
    rows = (Conversation.select().where(visible(principal),
                                        Conversation.customer.in_(sorted(customers)))
            .order_by(Conversation.last_message_at.desc()).limit(PAGE))
    return summaries(rt, principal, list(rows))


def counts(principal: Principal) -> dict[str, int]:
    require(principal, "conversation.read")
    scope = Conversation.select().where(visible(principal), Conversation.status != "resolved")
    return {
        "open": scope.count(),
        "unassigned": scope.where(Conversation.assignee.is_null()).count(),
        "mine": scope.where(Conversation.assignee == principal.user_id).count(),
    }


def export(rt: Runtime, principal: Principal, conversation_id: int) -> Thread:
    """The thread to hand over as a file, masked like the screen; audited as an export."""
    convo = authorized(principal, "conversation.export", Conversation, conversation_id)
    thread = open_conversation(rt, principal, convo.id)
    rt.audit(actor=principal.actor, action="conversation.exported",
             target=f"conversation:{convo.id}")
    return thread


def media_content(rt: Runtime, principal: Principal, media_id: int) -> tuple[str, bytes]:
    media = authorized(principal, "conversation.read", Media, media_id)
    if media.state != "stored":
        raise Denied()
    customer_id = Conversation.get_by_id(Message.get_by_id(media.message_id).conversation_id
                                         ).customer_id
    if Customer.get_by_id(customer_id).erased_at is not None:
        raise CustomerKeysGone(f"media {media.id} was erased with its customer")
    rt.audit_read(actor=principal.actor, action="media.read", target=f"media:{media.id}")
    return str(media.mime_type), open_media(rt, media.id, customer_id)


@dataclass(frozen=True)
class CustomerPanel:
    customer_id: int
    name: str
    phone: str  # masked
    labels: list[str]
    consent: dict[str, str]  # purpose -> granted, withdrawn or unknown (derived from history)
    conversations: list[Summary]
    erased: bool = False
    consent_history: list[ConsentRecord] = field(default_factory=list)  # oldest first


def customer_panel(rt: Runtime, principal: Principal, customer_id: int) -> CustomerPanel:
    customer = authorized(principal, "customer.read", Customer, customer_id)
    convos = list(Conversation.select().where(Conversation.customer == customer.id,
                                              visible(principal))
                  .order_by(Conversation.last_message_at.desc()).limit(PAGE))
    if not convos:
        raise Denied()
    views = summaries(rt, principal, convos)
    rt.audit_read(actor=principal.actor, action="customer.read", target=f"customer:{customer.id}")
    labels = sorted({name for c in convos for name in labels_of(c.id)})
    return CustomerPanel(customer.id, views[0].customer_name, views[0].phone, labels,
                         consent.states(customer.id), views, views[0].erased,
                         consent.history(customer.id))


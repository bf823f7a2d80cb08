"""Provides data-subject requests (UU PDP Pasal 30-33, 40-43) with their 3 x 24-hour clocks.

A request is recorded when it arrives: the customer writes a keyword ("DATA SAYA"), an
agent records it for the customer they are serving, or the DPO records one that came by
letter or phone. The law gives the business 3 x 24 hours for access, correction,
withdrawal of consent and erasure; Gembok holds an objection to automated processing
to the same clock (the law names none; the shortest is the safe one). The DPO's queue is
sorted by time left; a request turns amber with two days left and red with one, and the
DPOs get an e-mail `privacy.reminder_hours` before the deadline. Done, the customer is
told in their chat (if WhatsApp's 24-hour window is still open: otherwise the request
says so and the DPO tells them another way). Every step is audited, by ids only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from appliance.auth.permissions import Denied, Principal, authorize, box_admin, require
from appliance.automation.normalise import normalise
from appliance.clock import utcnow
from appliance.errors import GembokError
from appliance.inbox.outbound import WindowClosedError, queue_text
from appliance.notify.email import EmailError, send_email
from appliance.privacy import consent
from appliance.privacy.erasure import erase_customer
from appliance.privacy.holds import held_customers, on_hold
from appliance.runtime import Runtime
from appliance.store import customer_data
from appliance.store.db import db
from appliance.store.models import Conversation, Customer, Outbox, User
from appliance.store.privacy import REQUEST_KINDS, PrivacyRequest

log = logging.getLogger(__name__)

DEADLINE = timedelta(hours=72)  # 3 x 24 hours (Pasal 30-33, 40-43)
CHANNELS = ("whatsapp", "agent", "dpo")
# What the law calls each right, in the words the DPO and the customer read.
KIND_WORDS = {
    "access": "access to their data and a copy (Pasal 32)",
    "correction": "correction of their data (Pasal 30)",
    "erasure": "erasure of their data (Pasal 43)",
    "withdrawal": "withdrawal of consent (Pasal 40)",
    "objection": "objection to automated processing (Pasal 10)",
}
# Whole messages that make a request, normalised as Auto Reply compares keywords.
KEYWORDS = {
    "data saya": "access", "minta data saya": "access", "my data": "access",
    "ubah data saya": "correction", "koreksi data saya": "correction",
    "hapus data saya": "erasure", "delete my data": "erasure",
    "tarik persetujuan": "withdrawal", "cabut persetujuan": "withdrawal",
    "tolak otomatis": "objection",
}
_LONGEST = max(len(k) for k in KEYWORDS) + 8
# What the customer is told when their request is answered (their chat is in Indonesian).
ANSWERS = {
    "access": "Permintaan akses data Anda (nomor {id}) sudah selesai. Petugas pelindungan "
              "data kami akan menyerahkan salinan data Anda; kata sandinya diberikan "
              "terpisah.",
    "correction": "Data Anda sudah kami perbaiki sesuai permintaan Anda (nomor {id}).",
    "erasure": "Sesuai permintaan Anda (nomor {id}), data pribadi Anda kami hapus dari "
               "sistem kami. Pesan ini adalah pesan terakhir kami dalam percakapan ini.",
    "withdrawal": "Persetujuan Anda sudah kami catat sebagai ditarik (nomor {id}). Kami tidak "
                  "akan mengirim promosi lagi.",
    "objection": "Keberatan Anda atas pemrosesan otomatis sudah kami catat (nomor {id}); "
                 "mulai sekarang pesan Anda dijawab oleh petugas kami, bukan oleh mesin.",
    "refused": "Permintaan Anda (nomor {id}) tidak dapat kami penuhi: {why}. Hubungi kami "
               "untuk penjelasan.",
}
REFUSALS = {
    "legal_hold": "data Anda wajib kami simpan karena kewajiban hukum",
    "not_identified": "kami tidak dapat memastikan bahwa permintaan ini dari Anda",
    "duplicate": "permintaan yang sama sudah kami proses",
}
ERASE_AFTER = timedelta(minutes=10)  # longest wait for the confirmation to leave first


class RequestError(GembokError):
    """The request cannot be recorded or answered as asked; the message says why."""


@dataclass(frozen=True)
class Clock:
    """Time left of a request: `colour` red with a day or less (or overdue), amber with
    two days or less, green otherwise."""

    due_at: datetime
    seconds_left: int

    @property
    def colour(self) -> str:
        if self.seconds_left <= 24 * 3600:
            return "red"
        return "amber" if self.seconds_left <= 48 * 3600 else "green"

    @property
    def words(self) -> str:
        left = abs(self.seconds_left)
        hours, minutes = left // 3600, left % 3600 // 60
        text = f"{hours} h {minutes:02d} min"
        return f"overdue by {text}" if self.seconds_left < 0 else f"{text} left"


@dataclass(frozen=True)
class RequestView:
    id: int
    customer_id: int
    kind: str
    channel: str
    received_at: str
    state: str
    recorded_by: str
    clock: Clock
    outcome: str
    answer: str
    done_at: str
    on_hold: bool


def clock_of(due_at: datetime, now: datetime | None = None) -> Clock:
    return Clock(due_at, int((due_at - (now or utcnow())).total_seconds()))


def keyword_kind(text: str | None) -> str | None:
    """The request a whole message makes ("DATA SAYA": access), or None. Cheap enough to
    ask of every text: a message longer than any keyword is not normalised."""
    if not text or len(text) > _LONGEST:
        return None
    return KEYWORDS.get(normalise(text))


def record(rt: Runtime, principal: Principal, customer_id: int, kind: str, *,
           received_at: datetime | None = None) -> int:
    """A request on the customer's behalf: an agent's for a customer they serve, the DPO's
    for any customer. `received_at` (the DPO's letter came yesterday) starts the clock."""
    require(principal, "privacy.request")
    customer = Customer.get_or_none(Customer.id == customer_id)
    if customer is None:
        raise Denied()
    if not principal.can("privacy.manage"):
        authorize(principal, "customer.read", customer)  # an agent: a customer they see
    if kind not in REQUEST_KINDS:
        raise RequestError(f"the kind of request is one of {', '.join(REQUEST_KINDS)}")
    if customer.erased_at is not None:
        raise RequestError(f"customer {customer_id} was erased: nothing is held to ask about")
    now = utcnow()
    at = received_at or now
    if at > now or at < now - timedelta(days=30):
        raise RequestError("when the request arrived: a time in the last 30 days, not later "
                           "than now")
    channel = "dpo" if principal.can("privacy.manage") else "agent"
    return _create(rt, customer_id, kind, channel, at, principal.actor)


def _create(rt: Runtime, customer_id: int, kind: str, channel: str, at: datetime,
            actor: str) -> int:
    with db.atomic():
        row = PrivacyRequest.create(customer=customer_id, kind=kind, channel=channel,
                                    received_at=at, due_at=at + DEADLINE, recorded_by=actor)
        rt.audit(actor=actor, action="privacy.request_recorded", target=f"customer:{customer_id}",
                 detail={"request": row.id, "kind": kind, "channel": channel})
    return int(row.id)


def record_from_whatsapp(rt: Runtime, said: list[tuple[int, str, datetime]]) -> int:
    """Requests customers made by keyword in a webhook batch: (customer, kind, when). One
    open request per customer and kind: asking twice does not restart the clock."""
    made = 0
    for customer_id, kind, at in said:
        if PrivacyRequest.select().where(PrivacyRequest.customer == customer_id,
                                         PrivacyRequest.kind == kind,
                                         PrivacyRequest.state == "open").exists():
            continue
        _create(rt, customer_id, kind, "whatsapp", at, "webhook")
        made += 1
    return made


def objected(customer_ids: list[int]) -> set[int]:
    """Of these customers, those whose objection to automated processing was answered:
    Auto Reply leaves them to a person (one indexed read per webhook batch)."""
    if not customer_ids:
        return set()
    return {r.customer_id for r in PrivacyRequest.select(PrivacyRequest.customer).where(
        PrivacyRequest.customer.in_(customer_ids), PrivacyRequest.kind == "objection",
        PrivacyRequest.state == "done")}


def due_at(request_id: int) -> str:
    """The deadline of a request just recorded, for the one who recorded it (UTC)."""
    return str(PrivacyRequest.get_by_id(request_id).due_at)


def _view(row: PrivacyRequest, now: datetime, held: set[int]) -> RequestView:
    return RequestView(row.id, row.customer_id, row.kind, row.channel, str(row.received_at),
                       row.state, row.recorded_by, clock_of(row.due_at, now), row.outcome,
                       row.answer, str(row.done_at or ""), row.customer_id in held)


def queue(principal: Principal, *, finished: bool = False) -> list[RequestView]:
    """Open requests by time left (the most urgent first); `finished`: the last 200 done."""
    require(principal, "privacy.manage")
    now, held = utcnow(), held_customers()
    if finished:
        rows = (PrivacyRequest.select().where(PrivacyRequest.state.in_(("done", "refused")))
                .order_by(PrivacyRequest.done_at.desc()).limit(200))
    else:
        rows = (PrivacyRequest.select().where(PrivacyRequest.state.in_(("open", "erasing")))
                .order_by(PrivacyRequest.due_at, PrivacyRequest.id))
    return [_view(r, now, held) for r in rows]


def get(principal: Principal, request_id: int) -> RequestView:
    require(principal, "privacy.manage")
    row = PrivacyRequest.get_or_none(PrivacyRequest.id == request_id)
    if row is None:
        raise Denied()
    return _view(row, utcnow(), held_customers())


def _open_row(principal: Principal, request_id: int) -> PrivacyRequest:
    require(principal, "privacy.manage")
    row = PrivacyRequest.get_or_none(PrivacyRequest.id == request_id)
    if row is None:
        raise Denied()
    if row.state != "open":
        raise RequestError(f"request {request_id} is {row.state} already")
    return row


def _latest_conversation(customer_id: int) -> int | None:
    convo = (Conversation.select(Conversation.id).where(Conversation.customer == customer_id)
             .order_by(Conversation.last_message_at.desc()).first())
    return int(convo.id) if convo else None


def _tell(rt: Runtime, row: PrivacyRequest, text: str, actor: str) -> tuple[str, int | None]:
    """The answer in the customer's chat: ("sent", outbox id) or why it could not go."""
    convo = _latest_conversation(row.customer_id)
    if convo is None:
        return "no_chat", None
    try:
        return "sent", queue_text(rt, convo, text, actor=actor)
    except WindowClosedError:
        return "window_closed", None


def complete(rt: Runtime, principal: Principal, request_id: int, outcome: str
             ) -> int | None:
    """Marks a request answered (`outcome`: exported, corrected, withdrawn, objected...) and
    tells the customer; returns the outbox id of the answer, for a worker to send.

    An erasure request is answered by `erase` instead: the confirmation leaves first."""
    row = _open_row(principal, request_id)
    if row.kind == "erasure":
        raise RequestError("an erasure request is answered by erasing: use Erase")
    with db.atomic():
        if row.kind == "withdrawal":  # the ledger says it before the customer is told
            consent.record(row.customer_id, "marketing", False, source="dpo",
                           proof=f"request:{row.id}", actor=principal.actor)
        answer, outbox = _tell(rt, row, ANSWERS[row.kind].format(id=row.id), principal.actor)
        PrivacyRequest.update(state="done", done_at=utcnow(), done_by=principal.actor,
                              outcome=outcome[:32], answer=answer,
                              answer_outbox=str(outbox or "")).where(
            PrivacyRequest.id == row.id).execute()
        rt.audit(actor=principal.actor, action="privacy.request_done",
                 target=f"customer:{row.customer_id}",
                 detail={"request": row.id, "kind": row.kind, "outcome": outcome[:32],
                         "answer": answer})
    return outbox


def refuse(rt: Runtime, principal: Principal, request_id: int, why: str) -> int | None:
    """Refuses a request for one of the law's reasons (`REFUSALS`), telling the customer."""
    row = _open_row(principal, request_id)
    if why not in REFUSALS:
        raise RequestError(f"a refusal's reason is one of {', '.join(REFUSALS)}")
    with db.atomic():
        answer, outbox = _tell(rt, row, ANSWERS["refused"].format(id=row.id, why=REFUSALS[why]),
                               principal.actor)
        PrivacyRequest.update(state="refused", done_at=utcnow(), done_by=principal.actor,
                              outcome=f"refused:{why}", answer=answer,
                              answer_outbox=str(outbox or "")).where(
            PrivacyRequest.id == row.id).execute()
        rt.audit(actor=principal.actor, action="privacy.request_refused",
                 target=f"customer:{row.customer_id}", detail={"request": row.id, "why": why})
    return outbox


def erase(rt: Runtime, principal: Principal, request_id: int) -> int | None:
    """Answers an erasure request: the confirmation is queued to the customer and the
    erasure follows once it has left (or at once when WhatsApp allows no message now),
    by `finish_erasures`. Refused while the customer is on legal hold."""
    row = _open_row(principal, request_id)
    require(principal, "customer.erase")
    if row.kind != "erasure":
        raise RequestError(f"request {request_id} asks for {row.kind}, not erasure")
    if on_hold(row.customer_id):
        raise RequestError(f"customer {row.customer_id} is on legal hold: release the hold, "
                           "or refuse the request with the reason legal_hold")
    with db.atomic():
        answer, outbox = _tell(rt, row, ANSWERS["erasure"].format(id=row.id), principal.actor)
        PrivacyRequest.update(state="erasing", done_by=principal.actor, answer=answer,
                              answer_outbox=str(outbox or "")).where(
            PrivacyRequest.id == row.id).execute()
        rt.audit(actor=principal.actor, action="privacy.erasure_confirmed",
                 target=f"customer:{row.customer_id}", detail={"request": row.id,
                                                               "answer": answer})
    if outbox is None:
        finish_erasures(rt)
    return outbox


def finish_erasures(rt: Runtime) -> int:
    """Erases the customers of requests whose confirmation has left (or waited long
    enough); the scheduler runs it every minute. Returns how many were erased."""
    erased = 0
    for row in PrivacyRequest.select().where(PrivacyRequest.state == "erasing"):
        if row.answer_outbox:
            box = Outbox.get_or_none(Outbox.id == int(row.answer_outbox))
            if box is not None and box.state in ("queued", "sending") \
                    and utcnow() - box.updated_at < ERASE_AFTER:
                continue
        if on_hold(row.customer_id):  # held since it was answered: back to the DPO
            PrivacyRequest.update(state="open").where(PrivacyRequest.id == row.id).execute()
            continue
        with db.atomic():  # the request is done exactly when the erasure is
            if Customer.get_by_id(row.customer_id).erased_at is None:
                erase_customer(rt, box_admin(row.done_by or "system"), row.customer_id)
            PrivacyRequest.update(state="done", done_at=utcnow(), outcome="erased").where(
                PrivacyRequest.id == row.id).execute()
            rt.audit(actor=row.done_by or "system", action="privacy.request_done",
                     target=f"customer:{row.customer_id}",
                     detail={"request": row.id, "kind": "erasure", "outcome": "erased"})
        customer_data.reclaim_erased()
        erased += 1
    return erased


def dpo_addresses() -> list[str]:
    return sorted({u.email for u in User.select().where(User.role == "dpo", User.is_active,
                                                         User.email.is_null(False))
                   if u.email})


def remind(rt: Runtime) -> int:
    """E-mails the DPOs once per request that has `privacy.reminder_hours` or less left
    (ids, kinds and time left: no personal data leaves the box). Returns how many."""
    now = utcnow()
    soon = now + timedelta(hours=rt.settings.privacy.reminder_hours)
    due = list(PrivacyRequest.select().where(PrivacyRequest.state == "open",
                                             PrivacyRequest.due_at <= soon,
                                             PrivacyRequest.reminded_at.is_null())
               .order_by(PrivacyRequest.due_at))
    to = dpo_addresses()
    if not due or not to or not rt.settings.smtp.host:
        return 0
    lines = [f"- request {r.id}: {KIND_WORDS[r.kind]}, customer {r.customer_id}: "
             f"{clock_of(r.due_at, now).words} (due {r.due_at:%Y-%m-%d %H:%M} UTC)"
             for r in due]
    body = ("These data-subject requests are close to the law's 3 x 24 hours (UU PDP):\n\n"
            + "\n".join(lines) + "\n\nAnswer them in Gembok under Privacy.\n")
    try:
        send_email(rt.settings.smtp, to, f"Gembok: {len(due)} request(s) due soon", body,
                   zone=rt.settings.timezone)
    except EmailError as exc:
        log.warning("privacy reminder not sent: %s", exc)
        return 0
    PrivacyRequest.update(reminded_at=now).where(
        PrivacyRequest.id.in_([r.id for r in due])).execute()
    rt.audit(actor="system", action="privacy.reminded", target="",
             detail={"count": len(due), "first": due[0].id})
    return len(due)


def open_clocks() -> list[tuple[int, str, Clock]]:
    """(id, kind, clock) of every open request, most urgent first: the TUI's Status."""
    now = utcnow()
    return [(r.id, r.kind, clock_of(r.due_at, now)) for r in
            PrivacyRequest.select().where(PrivacyRequest.state.in_(("open", "erasing")))
            .order_by(PrivacyRequest.due_at)]

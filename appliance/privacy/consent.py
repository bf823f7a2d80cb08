"""Provides the consent ledger (UU PDP Pasal 20-24: the business must prove consent).

Append-only, per customer and purpose (`service`, `marketing`): each grant or withdrawal
with its time, its source and the id that proves it, plus every privacy notice shown
with its version. The current state of a purpose is derived, never stored: the latest
grant or withdrawal wins (by the time it happened, then by the order written); with none
it is `unknown`, which Broadcast must treat as "no marketing".

The four opt-out signals of cloud-api.md section 11 all land here: a keyword
(`keyword`, Auto Reply), Meta's `user_preferences` webhook (`meta_user_preferences`, the
proof is the stored webhook's row, whose signature was checked before it was stored),
the marketing template's "Stop promotions" quick-reply button in whatever language its
label arrives (`stop_button`, the proof is the wamid of the tap) and a marketing send
refused with 131050 (`error_131050`, the proof is the wamid of our send). Staff record
what a customer asks for (`agent`, audited, the acting user kept as `user:<id>`); CSV
imports carry their reference (`import`).

Ids only, never a name, a number or words: nothing here is sealed. Nothing updates or
deletes a row (the database refuses it, migration m0010), except erasure, which deletes
an erased customer's rows (privacy/erasure.py says why).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from appliance.auth.permissions import Principal, authorized
from appliance.automation.normalise import normalise
from appliance.clock import utcnow
from appliance.errors import GembokError
from appliance.runtime import Runtime
from appliance.store.consent import ConsentEvent
from appliance.store.db import db
from appliance.store.models import Customer

PURPOSES = ("service", "marketing")
SOURCES = ("keyword", "meta_user_preferences", "stop_button", "error_131050", "agent",
           "import", "auto_reply", "dpo")  # dpo: a data-subject request answered
GRANTED, WITHDRAWN, NOTICE_SHOWN, UNKNOWN = "granted", "withdrawn", "notice_shown", "unknown"
# A proof or a reference is an id (a wamid, `webhook:12`, `import:2026-12-01/7`), never words.
REFERENCE = re.compile(r"[A-Za-z0-9._:/=+#-]{1,160}")
MARKETING_STOPPED = 131050  # Meta refused a marketing send: the person stopped marketing

# The "Stop promotions" button of a marketing template. Meta sends the tap as an ordinary
# `button` message whose text is the label in the customer's language; its payload is
# whatever the business put in the template (ours: STOP_PROMO), the surest key. Matched
# casefolded. Only the English label is on Meta's pages; the others are likely wordings,
# not yet checked against a real tap: add the label a real tap carries when one shows up.
STOP_PAYLOADS = frozenset({"stop_promo", "stop_promotions", "stop promotions",
                           "marketing_opt_out", "unsubscribe"})
STOP_LABELS = frozenset({
    "stop promotions",  # en
    "hentikan promosi", "berhenti promosi", "stop promosi",  # id (and ms)
    "detener promociones",  # es
    "parar promoções",  # pt
    "arrêter les promotions",  # fr
})


# A customer's whole message, normalised as Auto Reply compares keywords: a withdrawal of
# marketing, or a grant. Whole messages only: "stop" inside "bus stop di mana?" is not one.
OPT_OUT_WORDS = frozenset({"stop", "berhenti", "unsubscribe", "jangan kirim lagi",
                           "stop promo", "berhenti promo", "stop promosi",
                           "berhenti berlangganan", "jangan kirim promo lagi"})
OPT_IN_WORDS = frozenset({"start", "mulai", "subscribe", "berlangganan"})
_OPT_LONGEST = max(len(w) for w in OPT_OUT_WORDS | OPT_IN_WORDS) + 8


@dataclass(frozen=True)
class OptWords:
    """The whole messages that withdraw (`out`) or grant (`in_`) marketing, normalised:
    the built-in ones and those the admin added (`privacy.opt_words`)."""

    out: frozenset[str] = OPT_OUT_WORDS
    in_: frozenset[str] = OPT_IN_WORDS
    longest: int = _OPT_LONGEST


BUILT_IN = OptWords()


def opt_keyword(text: str | None, words: OptWords = BUILT_IN) -> bool | None:
    """False for an opt-out keyword, True for an opt-in one, None for anything else.

    Pure and cheap: a message longer than any keyword (with room for punctuation) is not
    normalised at all, so ingest can ask it of every text."""
    if not text or len(text) > words.longest:
        return None
    said = normalise(text)
    if said in words.out:
        return False
    return True if said in words.in_ else None


class ConsentError(GembokError):
    """The ledger entry cannot be recorded as asked."""


@dataclass(frozen=True)
class Entry:
    """One grant or withdrawal to append (what ingest hands to `record_many`)."""

    customer_id: int
    purpose: str
    granted: bool
    source: str
    proof: str = ""
    at: datetime | None = None
    actor: str = ""


@dataclass(frozen=True)
class Record:
    """One ledger row as the faces show it: ids and words of the ledger, nothing else."""

    id: int
    at: str
    purpose: str  # empty for a notice shown
    event: str  # granted, withdrawn, notice_shown
    source: str
    proof: str
    notice_version: str
    actor: str


def is_stop_button(kind: str, payload: Mapping[str, Any]) -> bool:
    """Whether an inbound message is a tap on a template's "Stop promotions" button.

    Pure and in memory: ingest asks it of `button` messages only, with no query."""
    if kind != "button":
        return False
    button = payload.get("button")
    if not isinstance(button, dict):
        return False
    said = {str(button.get(k) or "").strip().casefold() for k in ("payload", "text")}
    return bool(said & STOP_PAYLOADS or said & STOP_LABELS)


def as_proof(value: str | None) -> str:
    """An id from Meta as a proof, or nothing when it is not id-shaped (a batch must not
    fail on an odd wamid: the signal counts more than its proof)."""
    return value if value and REFERENCE.fullmatch(value) else ""


def _check(purpose: str, source: str, proof: str) -> None:
    if purpose not in PURPOSES:
        raise ConsentError(f"“{purpose}” is not a purpose; use one of {', '.join(PURPOSES)}")
    if source not in SOURCES:
        raise ConsentError(f"“{source}” is not a source; use one of {', '.join(SOURCES)}")
    if proof and not REFERENCE.fullmatch(proof):
        raise ConsentError("a proof or reference is an id (a wamid, a record's reference) of "
                           "at most 160 letters, digits and . _ : / = + # -, never words")


def _row(entry: Entry, now: datetime) -> dict[str, Any]:
    _check(entry.purpose, entry.source, entry.proof)
    return {"customer": entry.customer_id, "purpose": entry.purpose,
            "event": GRANTED if entry.granted else WITHDRAWN, "source": entry.source,
            "proof": entry.proof, "actor": entry.actor, "at": entry.at or now,
            "recorded_at": now}


def record(customer_id: int, purpose: str, granted: bool, *, source: str, proof: str = "",
           at: datetime | None = None, actor: str = "") -> int:
    """Appends one grant or withdrawal; returns its row id. For the box's own signals
    (ingest, Auto Reply, imports): staff go through `record_on_request`."""
    row = _row(Entry(customer_id, purpose, granted, source, proof, at, actor), utcnow())
    return int(ConsentEvent.insert(**row).execute())


def record_many(entries: Iterable[Entry]) -> int:
    """Appends many in one statement (a webhook batch's signals); returns how many."""
    now = utcnow()
    rows = [_row(entry, now) for entry in entries]
    for start in range(0, len(rows), 1000):  # SQLite takes so many values per statement
        ConsentEvent.insert_many(rows[start:start + 1000]).execute()
    return len(rows)


def record_notice(customer_id: int, version: str, *, proof: str = "",
                  source: str = "auto_reply", at: datetime | None = None) -> int:
    """Appends "privacy notice `version` shown" (the proof: the wamid of the message)."""
    if not version or not REFERENCE.fullmatch(version) or len(version) > 32:
        raise ConsentError("a notice version is a short id such as 2026-12 or v3")
    _check(PURPOSES[0], source, proof)
    now = utcnow()
    return int(ConsentEvent.insert(customer=customer_id, purpose="", event=NOTICE_SHOWN,
                                   source=source, proof=proof, notice_version=version,
                                   at=at or now, recorded_at=now).execute())


def _latest(customer_ids: Iterable[int], purpose: str) -> Any:
    return (ConsentEvent.select()
            .where(ConsentEvent.customer.in_(sorted(set(customer_ids))),
                   ConsentEvent.purpose == purpose,
                   ConsentEvent.event.in_((GRANTED, WITHDRAWN)))
            .order_by(ConsentEvent.at, ConsentEvent.id))


def state(customer_id: int, purpose: str) -> str:
    """`granted`, `withdrawn` or `unknown`: the latest grant or withdrawal wins."""
    _check(purpose, SOURCES[0], "")
    last = _latest([customer_id], purpose).order_by(ConsentEvent.at.desc(),
                                                     ConsentEvent.id.desc()).first()
    return UNKNOWN if last is None else str(last.event)


def states(customer_id: int) -> dict[str, str]:
    return {purpose: state(customer_id, purpose) for purpose in PURPOSES}


def marketing_states(customer_ids: Iterable[int]) -> dict[int, str]:
    """Each customer's marketing state in one query (Broadcast reads its audience so)."""
    found = dict.fromkeys(customer_ids, UNKNOWN)
    for row in _latest(found, "marketing"):
        found[row.customer_id] = str(row.event)
    return found


def history(customer_id: int) -> list[Record]:
    """Every entry of the customer, oldest first."""
    return [Record(int(r.id), str(r.at), str(r.purpose), str(r.event), str(r.source),
                   str(r.proof), str(r.notice_version), str(r.actor))
            for r in ConsentEvent.select().where(ConsentEvent.customer == customer_id)
            .order_by(ConsentEvent.at, ConsentEvent.id)]


def record_on_request(rt: Runtime, principal: Principal, customer_id: int, purpose: str,
                      granted: bool, note_reference: str | None = None) -> int:
    """A staff member records what the customer asked for in the chat (`customer.consent`,
    in the customer's divisions), audited; `note_reference` names the proof: the wamid
    of the customer's message, or the reference of a signed form."""
    customer = authorized(principal, "customer.consent", Customer, customer_id)
    if not isinstance(granted, bool):  # from a face: after access, so ids stay unprobed
        raise ConsentError("say whether the customer agreed (granted: true) or stopped "
                           "(granted: false)")
    if customer.erased_at is not None:
        raise ConsentError("this customer was erased: there is nobody to record consent for")
    with db.atomic():
        entry_id = record(customer.id, purpose, granted, source="agent",
                          proof=note_reference or "", actor=principal.actor)
        rt.audit(actor=principal.actor,
                 action="consent.granted" if granted else "consent.withdrawn",
                 target=f"customer:{customer.id}",
                 detail={"purpose": purpose, "entry": entry_id})
    return entry_id


def forget_customer(customer_id: int) -> int:
    """Erasure only: deletes the erased customer's entries (the database refuses this for
    a customer not erased). Returns how many went."""
    return int(ConsentEvent.delete().where(ConsentEvent.customer == customer_id).execute())


def carry_over(from_id: int, to_id: int) -> int:
    """A merge of two records of one person (`inbox.number_change.merge`): the merged-away
    record's entries are appended to the kept one with their times, sources and proofs
    (an opt-out must survive the merge), then the old rows go, which the database allows
    once the merged-away record is marked erased. Returns how many moved."""
    rows = [{"customer": to_id, "purpose": r.purpose, "event": r.event, "source": r.source,
             "proof": r.proof, "notice_version": r.notice_version, "actor": r.actor,
             "at": r.at, "recorded_at": r.recorded_at}
            for r in ConsentEvent.select().where(ConsentEvent.customer == from_id)
            .order_by(ConsentEvent.id)]
    if rows:
        ConsentEvent.insert_many(rows).execute()
        forget_customer(from_id)
    return len(rows)


def keyword_signals(wamids: Iterable[str]) -> dict[str, bool]:
    """Which of these inbound messages were opt-outs (False) or opt-ins (True), keywords
    or taps on "Stop promotions", as ingest recorded them: Auto Reply confirms each to the
    customer."""
    proofs = [as_proof(w) for w in wamids]
    if not proofs:
        return {}
    rows = ConsentEvent.select(ConsentEvent.proof, ConsentEvent.event).where(
        ConsentEvent.source.in_(("keyword", "stop_button")), ConsentEvent.proof.in_(proofs))
    return {r.proof: r.event == "granted" for r in rows}

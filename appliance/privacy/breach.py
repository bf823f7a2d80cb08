"""Provides the breach report (UU PDP Pasal 46): which customers' data a compromised account
or address touched, and the notifications the law asks for, drafted in Indonesian.

The DPO records the incident: a time window and the accounts ("agent X's account was
used by someone else from 1 to 3 March") or the addresses it came from (which lead, by
the sign-in log, to the accounts signed in from them). The audit log then answers
"which customers' data was read, revealed or exported" exactly: every read of a
conversation, a customer panel or a photo, every reveal and export is an entry with the
actor and an id, mapped here to the customer it belongs to. The law gives 3 x 24 hours
from the moment the breach is known to notify the customers and the authority; the clock
starts when the breach is recorded.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from appliance.auth.permissions import Denied, Principal, require
from appliance.clock import utcnow
from appliance.crypto.aead import place
from appliance.errors import GembokError
from appliance.privacy.requests import Clock, clock_of
from appliance.runtime import Runtime
from appliance.store.accounts import LoginEvent
from appliance.store.db import db
from appliance.store.models import AuditEntry, Conversation, Media, Message, User
from appliance.store.privacy import Breach

DEADLINE = timedelta(hours=72)
# What a person does to a customer's data that a breach may have exposed.
EXPOSING = ("conversation.read", "customer.read", "media.read", "conversation.exported",
            "customer.phone_revealed", "message.revealed", "customer.exported",
            "customer.export_downloaded")
ACTION_WORDS = {
    "conversation.read": "isi percakapan (pesan teks)",
    "customer.read": "nama dan nomor WhatsApp (tersamar)",
    "media.read": "foto atau berkas yang dikirim",
    "conversation.exported": "salinan percakapan",
    "customer.phone_revealed": "nomor WhatsApp lengkap",
    "message.revealed": "isi pesan yang tersamar",
    "customer.exported": "seluruh data pribadi (ekspor)",
    "customer.export_downloaded": "seluruh data pribadi (ekspor)",
}
MAX_DESCRIPTION = 2000


class BreachError(GembokError):
    """The breach cannot be recorded as typed; the message says what to fix."""


@dataclass(frozen=True)
class Exposed:
    customer_id: int
    actions: dict[str, int]
    first_at: str
    last_at: str


@dataclass(frozen=True)
class BreachReport:
    id: int
    starts_at: str
    ends_at: str
    accounts: list[str]  # "user:3 (budi)"
    addresses: list[str]
    description: str
    clock: Clock
    state: str
    customers: list[Exposed] = field(default_factory=list)
    to_customer: str = ""
    to_authority: str = ""


def _users(names: list[str]) -> list[int]:
    ids = []
    for name in names:
        user = User.get_or_none(User.username == name.strip())
        if user is None:
            raise BreachError(f"there is no account named {name.strip()!r}: type the user names "
                              "as they sign in, separated by commas")
        ids.append(int(user.id))
    return ids


def _addresses(texts: list[str]) -> list[str]:
    out = []
    for text in texts:
        try:
            out.append(str(ipaddress.ip_address(text.strip())))
        except ValueError:
            raise BreachError(f"{text.strip()[:40]!r} is not an IP address (such as "
                              "192.168.1.23)") from None
    return out


def record(rt: Runtime, principal: Principal, *, starts_at: datetime, ends_at: datetime,
           accounts: str, addresses: str, description: str) -> int:
    """Records an incident; its 3 x 24-hour clock starts now."""
    require(principal, "privacy.manage")
    if ends_at <= starts_at:
        raise BreachError("the window's end must come after its start")
    if starts_at > utcnow():
        raise BreachError("the window starts in the future: give when it began")
    users = _users([a for a in accounts.split(",") if a.strip()])
    ips = _addresses([a for a in addresses.split(",") if a.strip()])
    if not users and not ips:
        raise BreachError("name at least one account or one address that was used")
    description = description.strip()[:MAX_DESCRIPTION]
    now = utcnow()
    with db.atomic():
        row = Breach.create(recorded_by=principal.actor, starts_at=starts_at, ends_at=ends_at,
                            accounts=",".join(str(u) for u in users), addresses=",".join(ips),
                            due_at=now + DEADLINE, recorded_at=now)
        row.description_sealed = rt.keyring.system.seal(description.encode(),
                                                        place("breach", "description", row.id))
        row.save()
        rt.audit(actor=principal.actor, action="breach.recorded", target=f"breach:{row.id}",
                 detail={"accounts": len(users), "addresses": len(ips)})
    return int(row.id)


def _stamp(at: datetime) -> str:
    """A time as the audit log writes it, so that string order is time order."""
    return at.replace(tzinfo=UTC).isoformat(timespec="microseconds")


def accounts_of(breach: Breach) -> list[int]:
    """The accounts named, and those signed in from the addresses during the window (or
    within a session's length before it: a session begun earlier was still usable)."""
    users = {int(u) for u in breach.accounts.split(",") if u}
    ips = [a for a in breach.addresses.split(",") if a]
    if ips:
        since = breach.starts_at - timedelta(hours=24)
        users |= {e.user_id for e in LoginEvent.select(LoginEvent.user).where(
            LoginEvent.ip.in_(ips), LoginEvent.outcome == "ok", LoginEvent.at >= since,
            LoginEvent.at <= breach.ends_at, LoginEvent.user.is_null(False))}
    return sorted(users)


def _customers_of(targets: set[str]) -> dict[str, int]:
    """Audit targets (customer:N, conversation:N, message:N, media:N) -> customer id."""
    by_kind: dict[str, list[int]] = {}
    for target in targets:
        kind, _, rest = target.partition(":")
        if rest.isdigit():
            by_kind.setdefault(kind, []).append(int(rest))
    found = {f"customer:{c}": c for c in by_kind.get("customer", [])}
    for ids, query, kind in (
            (by_kind.get("conversation", []), Conversation.select(Conversation.id,
                                                                  Conversation.customer),
             "conversation"),
            (by_kind.get("message", []), Message.select(Message.id, Conversation.customer)
             .join(Conversation), "message"),
            (by_kind.get("media", []), Media.select(Media.id, Conversation.customer)
             .join(Message).join(Conversation), "media")):
        for start in range(0, len(ids), 500):
            model = query.model
            pairs: Any = query.where(model.id.in_(ids[start:start + 500])).tuples()
            for row_id, customer in pairs:
                found[f"{kind}:{row_id}"] = int(customer)
    return found


def exposed(breach: Breach) -> list[Exposed]:
    """Every customer whose data the breach's accounts read, revealed or exported in the
    window, with what and when, from the audit log."""
    actors = [f"user:{u}" for u in accounts_of(breach)]
    if not actors:
        return []
    entries = list(AuditEntry.select(AuditEntry.at, AuditEntry.action, AuditEntry.target)
                   .where(AuditEntry.actor.in_(actors), AuditEntry.action.in_(EXPOSING),
                          AuditEntry.at >= _stamp(breach.starts_at),
                          AuditEntry.at <= _stamp(breach.ends_at))
                   .order_by(AuditEntry.seq))
    owner = _customers_of({e.target for e in entries})
    actions: dict[int, Counter[str]] = {}
    times: dict[int, list[str]] = {}
    for e in entries:
        customer = owner.get(e.target)
        if customer is None:
            continue
        actions.setdefault(customer, Counter())[e.action] += 1
        times.setdefault(customer, []).append(e.at)
    return [Exposed(c, dict(actions[c]), min(times[c]), max(times[c]))
            for c in sorted(actions)]


def report(rt: Runtime, principal: Principal, breach_id: int) -> BreachReport:
    require(principal, "privacy.manage")
    breach = Breach.get_or_none(Breach.id == breach_id)
    if breach is None:
        raise Denied()
    description = rt.keyring.system.open(bytes(breach.description_sealed),
                                         place("breach", "description", breach.id)).decode() \
        if breach.description_sealed else ""
    names = {u.id: u.username for u in User.select(User.id, User.username)}
    accounts = [f"user:{u} ({names.get(u, '?')})" for u in accounts_of(breach)]
    customers = exposed(breach)
    what = sorted({ACTION_WORDS[a] for c in customers for a in c.actions})
    rt.audit(actor=principal.actor, action="breach.reported", target=f"breach:{breach.id}",
             detail={"customers": len(customers)})
    window = (f"{breach.starts_at:%d-%m-%Y %H:%M} sampai {breach.ends_at:%d-%m-%Y %H:%M} UTC")
    return BreachReport(
        breach.id, str(breach.starts_at), str(breach.ends_at), accounts,
        [a for a in breach.addresses.split(",") if a], description,
        clock_of(breach.due_at), breach.state, customers,
        _to_customer(window, what, description),
        _to_authority(window, what, description, len(customers), accounts))


def _to_customer(window: str, what: list[str], done: str) -> str:
    return (
        "Pemberitahuan Kegagalan Pelindungan Data Pribadi\n\n"
        "Dengan hormat,\n\n"
        "sesuai Pasal 46 Undang-Undang Nomor 27 Tahun 2022 tentang Pelindungan Data Pribadi, "
        "kami memberitahukan bahwa pada " + window + " akun salah satu petugas layanan "
        "pelanggan kami digunakan oleh pihak yang tidak berwenang. Data pribadi Anda yang "
        "dapat terlihat oleh pihak tersebut: " + (", ".join(what) or "-") + ".\n\n"
        "Yang sudah kami lakukan: " + (done or "akun tersebut telah kami nonaktifkan dan "
                                       "seluruh sesinya kami akhiri") + ".\n\n"
        "Jika Anda menerima pesan mencurigakan yang mengatasnamakan kami, jangan berikan "
        "kode OTP, kata sandi, atau data pembayaran. Untuk pertanyaan, hubungi petugas "
        "pelindungan data kami melalui percakapan WhatsApp ini.\n")


def _to_authority(window: str, what: list[str], done: str, count: int,
                  accounts: list[str]) -> str:
    return (
        "Kepada: Lembaga Pelindungan Data Pribadi (Kementerian Komunikasi dan Digital)\n"
        "Perihal: Pemberitahuan kegagalan pelindungan data pribadi (Pasal 46 UU 27/2022)\n\n"
        "1. Data pribadi yang terungkap: " + (", ".join(what) or "-") + ".\n"
        "2. Kapan: " + window + ".\n"
        "3. Bagaimana: akun petugas (" + ", ".join(accounts) + ") digunakan oleh pihak yang "
        "tidak berwenang; log audit sistem mencatat setiap akses ke data pelanggan.\n"
        f"4. Jumlah subjek data terdampak: {count} pelanggan.\n"
        "5. Upaya penanganan dan pemulihan: " + (done or "akun dinonaktifkan, sesi "
                                                 "diakhiri, kata sandi diganti") + ".\n"
        "6. Subjek data telah/akan diberitahu dalam 3 x 24 jam sejak kegagalan diketahui.\n")


def mark_notified(rt: Runtime, principal: Principal, breach_id: int) -> None:
    require(principal, "privacy.manage")
    with db.atomic():
        if not Breach.update(state="notified", notified_at=utcnow()).where(
                Breach.id == breach_id).execute():
            raise Denied()
        rt.audit(actor=principal.actor, action="breach.notified", target=f"breach:{breach_id}")


def list_breaches(principal: Principal) -> list[tuple[int, str, str, str, Clock]]:
    """(id, recorded at, window start, state, clock), newest first."""
    require(principal, "privacy.manage")
    return [(b.id, str(b.recorded_at), str(b.starts_at), b.state, clock_of(b.due_at))
            for b in Breach.select().order_by(Breach.id.desc())]

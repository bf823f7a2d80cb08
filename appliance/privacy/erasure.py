"""Provides erasure (UU PDP Pasal 43): a customer's data destroyed, and kept destroyed.

Erasing destroys the customer's keys (every copy of their ciphertexts becomes
unreadable), clears their sealed fields, blind indexes and search tokens, blanks the
reasons given for revealing their data, takes them out of every raw webhook still held
(waiting or failed ones: applied ones keep no body), and appends their id to the
erasure ledger: a file beside the database with ids and times only, never data. A
restore of an older backup re-applies the ledger, so an erased customer stays erased.

The test of it tries every sealed column with every key the box holds: after an
erasure none opens a byte the customer wrote (tests/process/test_erasure.py).

The consent ledger's rows of the customer are deleted, not kept unlinked. They hold no
sealed data, so shredding the key leaves them readable: the customer's id with when and
how they agreed or stopped, and wamids that Meta can tie to their number; that is
personal data about someone who asked to be forgotten (Pasal 43). Kept without the id
they would prove nothing (a consent of nobody), and a withdrawal is not needed to stop
marketing: an erased record cannot be sent to, and a person who writes again is a new
customer whose state is `unknown`, which Broadcast treats as "no marketing". What
erasure must prove is that it happened: the audit log and the erasure ledger say so. The
database refuses to delete ledger rows of a customer not erased (migration m0010), so
the rows go after `forget_record` has marked the customer erased; a restored backup is
re-erased the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

from appliance.auth.permissions import Principal, require
from appliance.clock import utcnow
from appliance.config import Settings
from appliance.crypto.aead import KeySet, SealError, place
from appliance.crypto.keyring import load_keyring
from appliance.crypto.masterkey import load_masters
from appliance.errors import GembokError
from appliance.inbox.customers import customer_record
from appliance.keys.customer_keys import CustomerKeysGone, shred_customer_keys
from appliance.privacy import consent, holds
from appliance.privacy.raw_events import without_customer
from appliance.runtime import Runtime
from appliance.store import backup, customer_data
from appliance.store.accounts import Reveal
from appliance.store.chatroom import CustomerToken
from appliance.store.db import db
from appliance.store.models import Conversation, Customer, InboxEvent, Message
from appliance.whatsapp import webhook_events


class ErasureError(GembokError):
    """The customer cannot be erased as asked."""


def ledger_path(settings: Settings) -> Path:
    return settings.data_dir / "erasure.ledger"


def ledger_ids(settings: Settings) -> set[int]:
    path = ledger_path(settings)
    if not path.exists():
        return set()
    return {int(line.split("\t")[0]) for line in path.read_text().splitlines()
            if line.strip() and line.split("\t")[0].isdigit()}


def _append(settings: Settings, customer_id: int) -> None:
    """One line, written and fsynced before the erasure is reported done."""
    fd = os.open(ledger_path(settings), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{customer_id}\t{utcnow().isoformat(timespec='seconds')}Z\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def erase_customer(rt: Runtime, principal: Principal, customer_id: int) -> None:
    require(principal, "customer.erase")
    row = Customer.get_or_none(Customer.id == customer_id)
    if row is None:
        raise ErasureError(f"there is no customer {customer_id}")
    if holds.on_hold(customer_id):
        raise ErasureError(f"customer {customer_id} is on legal hold: the DPO releases the "
                           "hold first (Privacy, the customer's page)")
    _append(rt.settings, customer_id)  # first: a crash after it re-erases, never forgets
    with db.atomic():
        identity = _shred(rt, customer_id)
        rt.audit(actor=principal.actor, action="customer.erased", target=f"customer:{customer_id}")
    customer_data.reclaim_erased()
    erase_in_backups(rt, [customer_id], identity)


def erase_in_backups(rt: Runtime, customer_ids: list[int], identity: set[str]) -> int:
    """Takes the customers out of every backup under the data dir (a backup made before
    the erasure holds their wrapped key, which the box's master key still unwraps);
    returns the backups changed. A backup no key of this box opens is left: nothing on
    the box can read it either."""
    changed = 0
    live = list(rt.keyring.keys["database"].values())
    for folder in backup.list_backups(rt.settings):
        keys, system = list(live), rt.keyring.system
        try:
            own = load_keyring(folder / "keyring.json", load_masters(rt.settings.master_key_path))
            keys += [k for k in own.keys["database"].values() if k not in keys]
            system = KeySet({**own.keys["system"], **rt.keyring.keys["system"]})
        except (GembokError, OSError, ValueError, KeyError):
            pass  # wrapped under a master the box no longer has: the live keys only

        def events(uid: str, body: bytes, system: KeySet = system) -> bytes | bool | None:
            try:
                raw = webhook_events.open_sealed(system, uid, body)
            except SealError:
                return False
            if not any(name.encode() in raw for name in identity):
                return False
            kept = without_customer(raw, identity)
            return None if kept is None else system.seal(kept, place("inbox_event", "body",
                                                                     uid))

        if backup.erase_in_backup(folder, keys, customer_ids, events):
            changed += 1
    return changed


def _shred(rt: Runtime, customer_id: int) -> set[str]:
    """Erases the customer in the live database; returns how webhooks named them."""
    identity = _identity(rt, customer_id)  # read while the keys still open it
    if identity:
        forget_in_raw_events(rt, identity)
    _blank_reveal_reasons(customer_id)
    shred_customer_keys(customer_id)
    CustomerToken.delete().where(CustomerToken.customer == customer_id).execute()
    customer_data.forget_record(customer_id, utcnow())
    consent.forget_customer(customer_id)  # allowed now that the record is marked erased
    return identity


def _identity(rt: Runtime, customer_id: int) -> set[str]:
    """How webhooks name the customer: WhatsApp id (digits of the phone) and user id."""
    row = Customer.get_by_id(customer_id)
    try:
        record = customer_record(rt, row)
    except CustomerKeysGone:
        return set()
    found = {record.wa_user_id} if record.wa_user_id else set()
    if record.phone:
        found.add(record.phone.lstrip("+"))
    return found


def _blank_reveal_reasons(customer_id: int) -> None:
    """Reasons sealed under the customer's key die with it; older ones (system key) are
    found by their target and blanked."""
    messages = (Message.select(Message.id).join(Conversation)
                .where(Conversation.customer == customer_id))
    targets = [f"customer:{customer_id}/phone"] + [f"message:{m.id}" for m in messages]
    for start in range(0, len(targets), 500):
        Reveal.update(reason_sealed=b"").where(
            (Reveal.customer_id == customer_id) | Reveal.target.in_(targets[start:start + 500])
        ).execute()


def forget_in_raw_events(rt: Runtime, identity: set[str]) -> int:
    """Takes the customer out of every raw webhook still held; returns the events changed.

    A waiting event may also carry other customers' messages (Meta batches them): those
    stay, re-sealed without this customer's contacts, messages and statuses. An event
    that held only them, or that does not parse (a failed one), is deleted.
    """
    system, changed = rt.keyring.system, 0
    for event in webhook_events.with_bodies():
        raw = webhook_events.open_event(system, event)
        if not any(name.encode() in raw for name in identity):
            continue
        kept = without_customer(raw, identity)
        if kept is None:
            InboxEvent.delete().where(InboxEvent.id == event.id).execute()
        else:
            InboxEvent.update(body_sealed=system.seal(kept, place("inbox_event", "body",
                                                                  event.uid))).where(
                InboxEvent.id == event.id).execute()
        changed += 1
    return changed


def reapply(rt: Runtime) -> list[int]:
    """Erases again every ledger customer a restored database still holds; returns them."""
    again = []
    with db.atomic():
        for customer_id in sorted(ledger_ids(rt.settings)):
            row = Customer.get_or_none(Customer.id == customer_id)
            if row is not None and (row.erased_at is None or row.name_sealed is not None):
                _shred(rt, customer_id)
                again.append(customer_id)
            elif row is not None:
                shred_customer_keys(customer_id)
        if again:
            rt.audit(actor="system", action="customer.re_erased", detail={"count": len(again)})
    customer_data.reclaim_erased()
    return again

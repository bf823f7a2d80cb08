"""Provides status tracking of outbound messages: sent, delivered, read, failed.

Meta may deliver statuses late, twice, out of order, or before Gembok has even stored
the wamid of its own send. So a status never moves backwards (a late `delivered`
leaves `read` alone), and one for an unknown wamid waits in `pending_status` until the
message shows up.
"""

from __future__ import annotations

from datetime import datetime

from appliance.clock import utcnow
from appliance.privacy import consent
from appliance.store.models import Conversation, Message, PendingStatus
from appliance.whatsapp.webhook_parse import StatusUpdate

# failed outranks sent (a sent message can still fail) but not delivered or read.
RANK = {"queued": 0, "accepted": 5, "sent": 10, "failed": 15, "delivered": 20, "read": 30,
        "played": 40}
CALLBACK_PREFIX = "gembok:msg:"


def callback_for(message_id: int) -> str:
    """The `biz_opaque_callback_data` a send carries: Meta echoes it in every status."""
    return f"{CALLBACK_PREFIX}{message_id}"


def apply_status(update: StatusUpdate) -> bool:
    """Applies one status; returns False when its message is not known yet (kept pending)."""
    message = Message.get_or_none(Message.wamid == update.wamid)
    if message is None and update.callback and update.callback.startswith(CALLBACK_PREFIX):
        suffix = update.callback[len(CALLBACK_PREFIX):]
        if suffix.isascii() and suffix.isdigit():
            message = Message.get_or_none((Message.id == int(suffix)) & Message.wamid.is_null()
                                          & (Message.direction == "out"))
            if message is not None:  # the send's answer was lost: the status tells the wamid
                message.wamid = update.wamid
                message.save()
    if message is None:
        PendingStatus.create(wamid=update.wamid, status=update.status,
                             status_at=update.timestamp, error_code=update.error_code)
        return False
    advance(message, update.status, update.timestamp, update.error_code)
    return True


def advance(message: Message, status: str, at: datetime | None, error_code: int | None) -> None:
    if status not in RANK or message.direction != "out":
        return
    if RANK[status] <= RANK.get(message.status, 0):
        return
    message.status = status
    message.status_at = at or utcnow()
    message.error_code = error_code if status == "failed" else None
    message.save()
    if message.error_code == consent.MARKETING_STOPPED:  # the ingest's batch path does the same
        customer_id = Conversation.get_by_id(message.conversation_id).customer_id
        consent.record(customer_id, "marketing", False, source="error_131050",
                       proof=consent.as_proof(message.wamid), at=message.status_at)


def apply_pending(message: Message) -> int:
    """Applies the statuses that arrived before this message's wamid was known."""
    if not message.wamid:
        return 0
    waiting = list(PendingStatus.select().where(PendingStatus.wamid == message.wamid)
                   .order_by(PendingStatus.id))
    for pending in waiting:
        advance(message, pending.status, pending.status_at, pending.error_code)
    PendingStatus.delete().where(PendingStatus.wamid == message.wamid).execute()
    return len(waiting)

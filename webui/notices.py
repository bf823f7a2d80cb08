"""Provides how the web app hands slow notices (e-mail) to a worker, or sends them itself."""

from __future__ import annotations

from flask import current_app

from appliance.notify.content_granted import send_content_granted_email
from appliance.notify.email import EmailError
from appliance.notify.new_device import send_new_device_email
from webui.access import queue, runtime


def notify_new_device(login_event_id: int) -> None:
    if not queue().notify_new_device(login_event_id):  # better late in this request than never
        send_new_device_email(runtime(), login_event_id)


def notify_content_granted(audit_seq: int) -> None:
    """Every admin hears that someone may now read messages; inline if the queue is down."""
    if queue().notify_content_granted(audit_seq):
        return
    try:
        send_content_granted_email(runtime(), audit_seq)
    except EmailError as exc:  # the grant stands and is audited; say loudly who was not told
        current_app.logger.error("content grant %d not e-mailed to the admins: %s",
                                 audit_seq, exc)


def send_reply(outbox_id: int) -> None:
    """Hands a reply to a worker; if the queue is down, the outbox sweeper sends it later."""
    queue().send_outbox(outbox_id)

"""Provides how the web app hands slow notices (e-mail) to a worker, or sends them itself."""

from __future__ import annotations

from flask import current_app

from appliance import tasks
from appliance.notify.content_granted import send_content_granted_email
from appliance.notify.email import EmailError
from appliance.notify.new_device import send_new_device_email
from webui.access import runtime


def notify_new_device(login_event_id: int) -> None:
    if current_app.config.get("GEMBOK_ENQUEUE", True):
        try:
            tasks.notify_new_device.send(login_event_id)
            return
        except Exception:  # Redis down: better late in this request than never
            current_app.logger.warning("queue unavailable; sending the new-device e-mail inline")
    send_new_device_email(runtime(), login_event_id)


def notify_content_granted(audit_seq: int) -> None:
    """Every admin hears that someone may now read messages; inline if the queue is down."""
    if current_app.config.get("GEMBOK_ENQUEUE", True):
        try:
            tasks.notify_content_granted.send(audit_seq)
            return
        except Exception:
            current_app.logger.warning("queue unavailable; sending the content e-mail inline")
    try:
        send_content_granted_email(runtime(), audit_seq)
    except EmailError as exc:  # the grant stands and is audited; say loudly who was not told
        current_app.logger.error("content grant %d not e-mailed to the admins: %s",
                                 audit_seq, exc)


def send_reply(outbox_id: int) -> None:
    """Hands a reply to a worker; if the queue is down, the outbox sweeper sends it later."""
    if not current_app.config.get("GEMBOK_ENQUEUE", True):
        return
    try:
        tasks.send_outbox.send(outbox_id)
    except Exception:
        current_app.logger.warning("queue unavailable; reply %d waits for the sweeper",
                                   outbox_id)

"""Provides kept WhatsApp alerts: held while the number cannot send, then sent marked late.

A health alert goes by WhatsApp from the business number itself. When that number is
disconnected, banned or restricted, Meta refuses it (133010, 131031, 368) and only the
e-mail reaches the admins: the alert is kept (`store.alerts.KeptAlert`) and goes out,
marked late, when the number is back. The same happens to an alert that Meta refuses with
one of those codes while Gembok still believed the number fine, and to one that found
WhatsApp not configured yet.

Never retried in a loop: a kept alert is tried once each time an alert finds the number
able to send (a health change the admins hear of anyway), not on a timer; a refusal puts
it back to wait for the next return. One worker claims a row before sending it, so two
alerts handled at once do not send it twice. After `KEEP_FOR` an alert is stale news:
it expires unsent (the e-mail told it long ago).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from appliance.clock import utcnow
from appliance.config import AlertSettings, Settings
from appliance.notify.alert_text import PARAMETER_MAX, health_alert_text, late_text
from appliance.store.alerts import KeptAlert
from appliance.store.models import NumberHealth
from appliance.whatsapp.client import CloudApiClient, GraphError, NumberUnavailable

log = logging.getLogger(__name__)

KEEP_FOR = timedelta(days=7)


def keep(health_row_id: int, reason: str) -> None:
    """Keeps the WhatsApp alert of one health change (once: a second keep changes nothing)."""
    KeptAlert.insert(health=health_row_id, reason=reason[:32]).on_conflict_ignore().execute()


def waiting() -> list[int]:
    """Health rows whose WhatsApp alert still waits, oldest first."""
    return [k.health_id for k in KeptAlert.select(KeptAlert.health)
            .where(KeptAlert.state == "waiting").order_by(KeptAlert.id)]


def send_by_whatsapp(client: CloudApiClient, alerts: AlertSettings, text: str,
                     reached: list[str]) -> None:
    """The alert template to every admin phone; each phone reached is added to `reached`."""
    for phone in alerts.phones:
        client.send({"to": phone, "type": "template", "template": {
            "name": alerts.whatsapp_template, "language": {"code": alerts.template_language},
            "components": [{"type": "body", "parameters": [
                {"type": "text", "text": text[:PARAMETER_MAX]}]}]}})
        reached.append(phone)


def flush(settings: Settings, client: CloudApiClient) -> list[int]:
    """Sends every waiting alert, oldest first, marked late; returns their health row ids."""
    (KeptAlert.update(state="expired")
     .where(KeptAlert.state == "waiting", KeptAlert.kept_at < utcnow() - KEEP_FOR).execute())
    sent: list[int] = []
    for kept in KeptAlert.select().where(KeptAlert.state == "waiting").order_by(KeptAlert.id):
        claimed = (KeptAlert.update(state="sending")
                   .where(KeptAlert.id == kept.id, KeptAlert.state == "waiting").execute())
        if claimed != 1:
            continue  # another worker has it
        _, body = health_alert_text(settings, kept.health_id)
        happened = NumberHealth.get_by_id(kept.health_id).at
        text = late_text(body, happened, utcnow(), settings.timezone)
        try:
            send_by_whatsapp(client, settings.alerts, text, [])
        except GraphError as exc:
            back = isinstance(exc, NumberUnavailable) or exc.retryable
            _settle(kept.id, "waiting" if back else "failed")
            log.error("late WhatsApp alert %d not sent: error %s%s", kept.health_id, exc.code,
                      "; kept for the next time the number is back" if back else "")
            if back:
                break  # the number is down again: the others wait with it
            continue
        _settle(kept.id, "sent")
        sent.append(kept.health_id)
    return sent


def _settle(kept_id: int, state: str) -> None:
    sent_at = utcnow() if state == "sent" else None
    KeptAlert.update(state=state, sent_at=sent_at).where(KeptAlert.id == kept_id).execute()

"""Provides number-health alerts: every change reaches the admins by e-mail and WhatsApp.

E-mail goes first because a disconnected number cannot carry its own alert. Each
channel fails on its own: one that is down does not stop the other. The text holds the
number's states and Meta's event code, nothing about any customer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from appliance.notify.email import EmailError, send_email
from appliance.runtime import Runtime
from appliance.store.models import NumberHealth
from appliance.whatsapp.client import CloudApiClient, GraphError
from appliance.whatsapp.health import TOKEN_REJECTED

log = logging.getLogger(__name__)


@dataclass
class AlertResult:
    emailed: list[str] = field(default_factory=list)
    whatsapped: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def health_alert_text(row_id: int) -> tuple[str, str]:
    row = NumberHealth.get_by_id(row_id)
    before = (NumberHealth.select().where(NumberHealth.id < row_id)
              .order_by(NumberHealth.id.desc()).first())
    was = "unknown" if before is None else (before.status or "unknown")
    quality = f", quality {row.quality}" if row.quality else ""
    limit = f", messaging limit {row.messaging_limit}" if row.messaging_limit else ""
    event = f" (Meta event {row.event})" if row.event else ""
    if row.event == TOKEN_REJECTED:
        return ("Gembok: WhatsApp refused the access token",
                f"At {row.at:%Y-%m-%d %H:%M} UTC the Cloud API refused Gembok's access token "
                "(error 190): nothing can be sent until an admin enters a new one with "
                "`gembok whatsapp configure`.")
    subject = f"Gembok: WhatsApp number is {row.status or 'changed'}"
    body = (f"The business WhatsApp number changed at {row.at:%Y-%m-%d %H:%M} UTC{event}: "
            f"{was} -> {row.status or 'unknown'}{quality}{limit}. "
            "Check it in WhatsApp Manager and `gembok whatsapp status`.")
    return subject, body


def send_health_alert(rt: Runtime, row_id: int,
                      client_factory: Callable[[], CloudApiClient] | None) -> AlertResult:
    subject, body = health_alert_text(row_id)
    result = AlertResult()
    alerts = rt.settings.alerts
    if alerts.emails:
        try:
            send_email(rt.settings.smtp, list(alerts.emails), subject, body)
            result.emailed = list(alerts.emails)
        except EmailError as exc:
            result.failures.append(f"email: {exc}")
    token_dead = NumberHealth.get_by_id(row_id).event == TOKEN_REJECTED
    if alerts.phones and client_factory is not None and not token_dead:
        try:
            with client_factory() as client:
                for phone in alerts.phones:
                    client.send({"to": phone, "type": "template", "template": {
                        "name": alerts.whatsapp_template,
                        "language": {"code": alerts.template_language},
                        "components": [{"type": "body", "parameters": [
                            {"type": "text", "text": body[:1000]}]}]}})
                    result.whatsapped.append(phone)
        except GraphError as exc:
            result.failures.append(f"whatsapp: error {exc.code}")
    for failure in result.failures:
        log.error("health alert %d not delivered by %s", row_id, failure)
    return result

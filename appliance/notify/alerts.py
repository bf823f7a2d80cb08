"""Provides number-health alerts: every change reaches the admins by e-mail and WhatsApp.

E-mail goes first because a disconnected number cannot carry its own alert: Meta refuses
what it sends (133010), so the WhatsApp copy of a disconnection never arrived and the
e-mail did not say so. Now, when the number's health says it cannot send, the e-mail says
the WhatsApp alert will follow, and that alert is kept (`kept_alerts`) and sent marked
late once an alert finds the number back; kept ones go first, oldest first, so the
admins' phone reads in the order things happened. Each channel fails on its own: one
that is down does not stop the other. The texts are in `alert_text`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from appliance.notify import kept_alerts
from appliance.notify.alert_text import health_alert_text, held_note
from appliance.notify.email import EmailError, send_email
from appliance.runtime import Runtime
from appliance.store.models import NumberHealth
from appliance.whatsapp import health
from appliance.whatsapp.client import CloudApiClient, GraphError, NumberUnavailable
from appliance.whatsapp.connection import NotConfigured

log = logging.getLogger(__name__)


@dataclass
class AlertResult:
    emailed: list[str] = field(default_factory=list)
    whatsapped: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    kept: bool = False  # the WhatsApp copy waits for the number to be back
    late: list[int] = field(default_factory=list)  # kept alerts sent now, by health row id


def send_health_alert(rt: Runtime, row_id: int,
                      client_factory: Callable[[], CloudApiClient] | None) -> AlertResult:
    subject, body = health_alert_text(rt.settings, row_id)
    result = AlertResult()
    alerts = rt.settings.alerts
    by_whatsapp = (bool(alerts.phones) and client_factory is not None
                   and NumberHealth.get_by_id(row_id).event != health.TOKEN_REJECTED)
    now = health.current()
    held = by_whatsapp and not health.can_send(now)
    if alerts.emails:
        text = f"{body}\n\n{held_note(now.status)}" if held else body
        try:
            send_email(rt.settings.smtp, list(alerts.emails), subject, text,
                       zone=rt.settings.timezone)
            result.emailed = list(alerts.emails)
        except EmailError as exc:
            result.failures.append(f"email: {exc}")
    if held:
        kept_alerts.keep(row_id, now.status)
        result.kept = True
        log.warning("WhatsApp alert %d kept: the number is %s; it follows, marked late, "
                    "once the number is back", row_id, now.status)
    elif by_whatsapp and client_factory is not None:
        _by_whatsapp(rt, row_id, body, client_factory, result)
    for failure in result.failures:
        log.error("health alert %d not delivered by %s", row_id, failure)
    return result


def _by_whatsapp(rt: Runtime, row_id: int, body: str,
                 client_factory: Callable[[], CloudApiClient], result: AlertResult) -> None:
    try:
        client = client_factory()
    except NotConfigured as exc:
        kept_alerts.keep(row_id, "not_configured")
        result.kept = True
        log.warning("WhatsApp alert %d kept until WhatsApp is configured: %s", row_id, exc)
        return
    with client:
        result.late = kept_alerts.flush(rt.settings, client)
        try:
            kept_alerts.send_by_whatsapp(client, rt.settings.alerts, body, result.whatsapped)
        except NumberUnavailable as exc:
            kept_alerts.keep(row_id, f"error_{exc.code}")
            result.kept = True
            log.warning("WhatsApp alert %d kept: Meta says the number cannot send (error %s); "
                        "it follows, marked late, once the number is back", row_id, exc.code)
        except GraphError as exc:
            result.failures.append(f"whatsapp: error {exc.code}")

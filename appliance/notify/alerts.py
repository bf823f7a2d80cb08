"""Provides number-health alerts: every change reaches the admins by e-mail and WhatsApp.

E-mail goes first because a disconnected number cannot carry its own alert: Meta refuses
what it sends (133010), so the WhatsApp copy of a disconnection never arrived and the
e-mail did not say so. Now, when the number's health says it cannot send, the e-mail says
the WhatsApp alert will follow, and that alert is kept (`kept_alerts`) and sent marked
late once an alert finds the number back; kept ones go first, oldest first, so the
admins' phone reads in the order things happened. With several numbers, an alert goes
from the number it is about if that one can send, else from another that can: a brand's
number cut off is told from the other brand's, and is kept only when none can send. Each
channel fails on its own: one that is down does not stop the other. The texts are in `alert_text`.
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
from appliance.whatsapp import health, numbers
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
                      client_factory: Callable[[int], CloudApiClient] | None) -> AlertResult:
    """`client_factory(number_id)` gives a client that sends from that number."""
    subject, body = health_alert_text(rt.settings, row_id)
    row = NumberHealth.get_by_id(row_id)
    served = numbers.active(rt)
    if len(served) > 1:  # say which number; the label is the business's own name for it
        label = numbers.get(rt, row.number_id).label
        subject, body = f"{label}: {subject}", f"{label}: {body}"
    result = AlertResult()
    alerts = rt.settings.alerts
    by_whatsapp = (bool(alerts.phones) and client_factory is not None
                   and row.event != health.TOKEN_REJECTED)
    sender = sending_number(rt, row.number_id)
    now = health.current(row.number_id)
    held = by_whatsapp and sender is None
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
    elif by_whatsapp and client_factory is not None and sender is not None:
        factory, chosen = client_factory, sender
        _by_whatsapp(rt, row_id, body, lambda: factory(chosen), result)
    for failure in result.failures:
        log.error("health alert %d not delivered by %s", row_id, failure)
    return result


def sending_number(rt: Runtime, about: int) -> int | None:
    """The number an alert about number `about` goes from: itself if it can send, else the
    first other active one that can; None when none can (the alert is kept)."""
    candidates = [about] + [n.id for n in numbers.active(rt) if n.id != about]
    return next((n for n in candidates if health.can_send(health.current(n))), None)


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

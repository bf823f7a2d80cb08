"""The IT admin is e-mailed once when customers' messages sit unprocessed (the worker is
down), and once more when they move again; the mail names no customer."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import timedelta

import pytest

from appliance.clock import utcnow
from appliance.config import load_settings
from appliance.inbox import ingest
from appliance.notify.backlog import BacklogAlarm
from appliance.store.models import InboxEvent
from appliance.whatsapp.webhook_events import backlog, oldest_waiting_seconds, store
from tests.conftest import free_port
from tests.whatsapp.conftest import text_message


@pytest.fixture
def alerting(wa_rt, smtpd):
    return load_settings({
        "GEMBOK_DATA_DIR": str(wa_rt.settings.data_dir), "GEMBOK_SMTP_HOST": "127.0.0.1",
        "GEMBOK_SMTP_PORT": str(smtpd.port), "GEMBOK_SMTP_SENDER": "gembok@toko.example",
        "GEMBOK_SMTP_CA_FILE": str(smtpd.ca_file), "GEMBOK_ALERTS_EMAILS": "it@toko.example"})


def mails(smtpd) -> list[tuple[str, str]]:
    out = []
    for mail in smtpd.handler.messages:
        parsed = email.message_from_bytes(mail.content, policy=email.policy.default)
        out.append((str(parsed["Subject"]), parsed.get_content()))
    return out


def customer_writes_while_the_worker_is_down(wa_rt, minutes_ago: int) -> int:
    raw = json.dumps(text_message(f"wamid.backlog{minutes_ago}")).encode()
    event_id = store(wa_rt.keyring.system, raw)
    InboxEvent.update(received_at=utcnow() - timedelta(minutes=minutes_ago)).where(
        InboxEvent.id == event_id).execute()
    return event_id


def test_messages_waiting_five_minutes_mail_the_admin_once_then_once_when_they_move(
        wa_rt, alerting, smtpd):
    alarm = BacklogAlarm()
    # A message that arrived a minute ago is just being processed: no alarm
    customer_writes_while_the_worker_is_down(wa_rt, minutes_ago=1)
    assert alarm.check(alerting, backlog(), oldest_waiting_seconds(), now=0) is None
    # Six minutes without the worker: one e-mail, and not one more at every check
    first = customer_writes_while_the_worker_is_down(wa_rt, minutes_ago=6)
    assert alarm.check(alerting, backlog(), oldest_waiting_seconds(), now=30) == "raised"
    assert alarm.check(alerting, backlog(), oldest_waiting_seconds(), now=60) is None
    [(subject, text)] = mails(smtpd)
    assert subject == "Gembok: customers' messages are waiting"
    assert "2 WhatsApp event(s)" in text and "waited 6 min" in text
    # The worker is back and works through them: one e-mail says so
    for event in InboxEvent.select().where(InboxEvent.state == "new").order_by(InboxEvent.id):
        ingest.process_event(wa_rt, event.id)
    assert backlog() == 0 and oldest_waiting_seconds() is None
    assert alarm.check(alerting, backlog(), oldest_waiting_seconds(), now=90) == "cleared"
    assert [s for s, _ in mails(smtpd)][1] == "Gembok: messages are moving again"
    assert InboxEvent.get_by_id(first).state != "new"
    # Nothing in either mail about the customer who wrote
    for _, body in mails(smtpd):
        assert not [w for w in ("Siti", "6281234567890", "pesanan") if w in body]


def test_a_mail_server_that_refuses_is_tried_again_later_not_at_every_check(wa_rt, smtpd):
    down = load_settings({
        "GEMBOK_DATA_DIR": str(wa_rt.settings.data_dir), "GEMBOK_SMTP_HOST": "127.0.0.1",
        "GEMBOK_SMTP_PORT": str(free_port()), "GEMBOK_ALERTS_EMAILS": "it@toko.example"})
    alarm = BacklogAlarm()
    customer_writes_while_the_worker_is_down(wa_rt, minutes_ago=10)
    assert alarm.check(down, backlog(), oldest_waiting_seconds(), now=0) is None
    assert alarm.failed_at == 0 and not alarm.raised
    assert alarm.check(down, backlog(), oldest_waiting_seconds(), now=30) is None
    assert alarm.failed_at == 0  # not tried again so soon
    assert alarm.check(down, backlog(), oldest_waiting_seconds(), now=700) is None
    assert alarm.failed_at == 700  # ten minutes later it was

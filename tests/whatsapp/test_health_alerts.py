"""The IT admin hears at once when the WhatsApp number disconnects, by e-mail (real SMTP)."""

from __future__ import annotations

import email
import email.policy
import json

import pytest

from appliance.config import load_settings
from appliance.notify import alerts
from appliance.notify.email import EmailError, send_email
from appliance.runtime import Runtime
from appliance.store.models import NumberHealth
from appliance.whatsapp import health, ingest
from appliance.whatsapp.inbox import store
from tests.conftest import free_port
from tests.whatsapp.conftest import envelope


@pytest.fixture
def alerting_rt(wa_rt, smtpd):
    settings = load_settings({
        "GEMBOK_DATA_DIR": str(wa_rt.settings.data_dir), "GEMBOK_SMTP_HOST": "127.0.0.1",
        "GEMBOK_SMTP_PORT": str(smtpd.port), "GEMBOK_SMTP_SENDER": "gembok@toko.example",
        "GEMBOK_SMTP_CA_FILE": str(smtpd.ca_file),
        "GEMBOK_ALERTS_EMAILS": "it@toko.example,owner@toko.example"})
    return Runtime(settings, wa_rt.keyring, wa_rt.index)


def test_a_disconnection_webhook_emails_every_alert_recipient(alerting_rt, smtpd):
    # Given the number was connected
    health.record(health.HealthState(status="CONNECTED", quality="GREEN"), source="poll")
    # When Meta says the account was offboarded
    raw = json.dumps(envelope({"event": "ACCOUNT_OFFBOARDED"}, field="account_update")).encode()
    outcome = ingest.process_event(alerting_rt, store(alerting_rt.keyring.system, raw))
    [row_id] = outcome.health_rows
    result = alerts.send_health_alert(alerting_rt, row_id, client_factory=None)
    # Then both admins get one e-mail over STARTTLS naming the change
    assert result.failures == [] and len(result.emailed) == 2
    [mail] = smtpd.handler.messages
    assert sorted(mail.rcpt_tos) == ["it@toko.example", "owner@toko.example"]
    parsed = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert parsed["Subject"] == "Gembok: WhatsApp number is DISCONNECTED"
    text = parsed.get_content()
    assert "CONNECTED -> DISCONNECTED" in text and "ACCOUNT_OFFBOARDED" in text


def test_a_poll_that_sees_nothing_new_alerts_no_one(wa_rt):
    assert health.record(health.HealthState(status="CONNECTED"), source="poll") is None
    assert health.record(health.HealthState(status="CONNECTED"), source="poll") is None
    assert health.record(health.HealthState(status="FLAGGED"), source="poll") is not None
    assert NumberHealth.select().count() == 2


def test_an_unreachable_mail_server_is_reported_not_raised(wa_rt):
    settings = load_settings({
        "GEMBOK_DATA_DIR": str(wa_rt.settings.data_dir), "GEMBOK_SMTP_HOST": "127.0.0.1",
        "GEMBOK_SMTP_PORT": str(free_port()), "GEMBOK_ALERTS_EMAILS": "it@toko.example"})
    rt = Runtime(settings, wa_rt.keyring, wa_rt.index)
    row_id = health.record(health.HealthState(status="DISCONNECTED"), source="webhook",
                           event="ACCOUNT_OFFBOARDED")
    result = alerts.send_health_alert(rt, row_id, client_factory=None)
    assert result.emailed == [] and result.failures[0].startswith("email: cannot send")


def test_plain_smtp_is_refused_when_starttls_is_required(smtpd):
    settings = load_settings({"GEMBOK_SMTP_HOST": "127.0.0.1", "GEMBOK_SMTP_PORT": str(smtpd.port),
                              "GEMBOK_SMTP_STARTTLS": "false"})
    with pytest.raises(EmailError):
        send_email(settings.smtp, ["it@toko.example"], "x", "y")


def test_a_refused_access_token_alerts_by_email_once_an_hour(alerting_rt, smtpd):
    settings = load_settings({"GEMBOK_DATA_DIR": str(alerting_rt.settings.data_dir),
                              "GEMBOK_SMTP_HOST": "127.0.0.1", "GEMBOK_SMTP_PORT": str(smtpd.port),
                              "GEMBOK_SMTP_CA_FILE": str(smtpd.ca_file),
                              "GEMBOK_ALERTS_EMAILS": "it@toko.example",
                              "GEMBOK_ALERTS_PHONES": "+6281299990000"})
    rt = Runtime(settings, alerting_rt.keyring, alerting_rt.index)
    # Given Meta refuses the token on every call
    first = health.token_rejected()
    assert health.token_rejected() is None  # the second refusal within the hour is quiet
    # When the alert goes out, it is by e-mail only (WhatsApp cannot carry it now)
    result = alerts.send_health_alert(rt, first, client_factory=lambda: 1 / 0)
    assert result.failures == [] and result.whatsapped == []
    parsed = email.message_from_bytes(smtpd.handler.messages[0].content,
                                      policy=email.policy.default)
    assert parsed["Subject"] == "Gembok: WhatsApp refused the access token"
    assert "gembok whatsapp configure" in parsed.get_content()

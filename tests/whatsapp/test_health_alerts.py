"""The IT admin hears at once when the WhatsApp number disconnects, by e-mail (real SMTP),
and on her phone once the number can carry it again (the simulator plays Meta)."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from appliance import scheduler
from appliance.config import load_settings
from appliance.inbox import ingest
from appliance.notify import alerts, kept_alerts
from appliance.notify.alert_text import late_text
from appliance.notify.email import EmailError, send_email
from appliance.runtime import Runtime
from appliance.store.alerts import KeptAlert
from appliance.store.models import NumberHealth
from appliance.whatsapp import health
from appliance.whatsapp.client import CloudApiClient
from appliance.whatsapp.webhook_events import store
from simulator.app import create_simulator
from simulator.config import new_config
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
    result = alerts.send_health_alert(rt, first, client_factory=lambda number_id: 1 / 0)
    assert result.failures == [] and result.whatsapped == []
    parsed = email.message_from_bytes(smtpd.handler.messages[0].content,
                                      policy=email.policy.default)
    assert parsed["Subject"] == "Gembok: WhatsApp refused the access token"
    assert "gembok whatsapp configure" in parsed.get_content()


# -- the WhatsApp copy of an alert, when the number it goes from is the one that fell -----

ADMIN_PHONE = "+6281299990000"


@pytest.fixture
def sim():
    simulator = create_simulator(new_config(), background=False)
    yield simulator
    simulator.close()


@pytest.fixture
def admins_rt(wa_rt, smtpd, sim):
    """Ayu's shop: the IT admin hears by e-mail and on her phone, which WhatsApp knows."""
    settings = load_settings({
        "GEMBOK_DATA_DIR": str(wa_rt.settings.data_dir), "GEMBOK_SMTP_HOST": "127.0.0.1",
        "GEMBOK_SMTP_PORT": str(smtpd.port), "GEMBOK_SMTP_CA_FILE": str(smtpd.ca_file),
        "GEMBOK_ALERTS_EMAILS": "it@toko.example", "GEMBOK_ALERTS_PHONES": ADMIN_PHONE})
    control(sim, "/_sim/customers", {"phone": ADMIN_PHONE, "name": "Ayu (IT)"})
    return Runtime(settings, wa_rt.keyring, wa_rt.index)


class Counting(httpx.BaseTransport):
    """The simulator behind a counter of the sends that reached it."""

    def __init__(self, sim) -> None:
        self.inner, self.sends = httpx.WSGITransport(app=sim), 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sends += request.url.path.endswith("/messages")
        return self.inner.handle_request(request)


def connect(sim, transport: httpx.BaseTransport | None = None):
    """The client factory the worker would use, aimed at the simulator."""
    return lambda number_id=1: CloudApiClient(
        "http://sim.test", "v25.0", sim.config.phone_number_id, sim.config.access_token,
        backoff=0.01, transport=transport or httpx.WSGITransport(app=sim))


def control(sim, path: str, body: dict) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=sim), base_url="http://127.0.0.1",
                      headers={"X-Sim-Token": sim.config.control_token}) as c:
        c.post(path, json=body).raise_for_status()


def meta_tells(rt, sim) -> list[int]:
    """Ingests the account webhooks the simulator sent; returns the health rows to alert."""
    rows = []
    for post in sim.flush():
        raw = json.dumps(post["body"]).encode()
        rows += ingest.process_event(rt, store(rt.keyring.system, raw)).health_rows
    return rows


def admin_phone_reads(sim) -> list[str]:
    with httpx.Client(transport=httpx.WSGITransport(app=sim), base_url="http://127.0.0.1",
                      headers={"X-Sim-Token": sim.config.control_token}) as c:
        messages = c.get(f"/_sim/customers/{ADMIN_PHONE[1:]}/inbox").json()["messages"]
    return [m["rendered"]["body"] for m in messages]


def mail_text(smtpd, index: int = -1) -> str:
    parsed = email.message_from_bytes(smtpd.handler.messages[index].content,
                                      policy=email.policy.default)
    return parsed.get_content()


def today_utc(hour: int, minute: int) -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, hour=hour, minute=minute, second=0,
                                     microsecond=0)


def test_the_disconnection_email_says_the_whatsapp_alert_will_follow(admins_rt, sim, smtpd):
    # Given a connected number
    health.record(health.HealthState(status="CONNECTED"), source="poll")
    # When Meta disconnects it
    control(sim, "/_sim/number", {"status": "DISCONNECTED"})
    [gone] = meta_tells(admins_rt, sim)
    sends = Counting(sim)
    result = alerts.send_health_alert(admins_rt, gone, connect(sim, sends))
    # Then the e-mail says plainly that the WhatsApp alert cannot go now and will follow
    text = mail_text(smtpd)
    assert "cannot go out now" in text and "sent from this very number" in text
    assert "error 133010" in text and "marked late, as soon as the number is back" in text
    # and no send was even tried from the disconnected number: the alert is kept
    assert result.kept and result.whatsapped == [] and sends.sends == 0
    assert KeptAlert.get(KeptAlert.health == gone).state == "waiting"


def test_a_disconnection_alert_reaches_whatsapp_late_once_the_number_is_back(
        admins_rt, sim, smtpd, monkeypatch):
    # Given a connected number, disconnected by Meta at 14:05 WIB
    health.record(health.HealthState(status="CONNECTED"), source="poll")
    control(sim, "/_sim/number", {"status": "DISCONNECTED"})
    [gone] = meta_tells(admins_rt, sim)
    NumberHealth.update(at=today_utc(7, 5)).where(NumberHealth.id == gone).execute()
    assert alerts.send_health_alert(admins_rt, gone, connect(sim)).kept
    assert admin_phone_reads(sim) == []  # only the e-mail could reach Ayu
    # When the number is back at 14:35 WIB
    monkeypatch.setattr(kept_alerts, "utcnow", lambda: today_utc(7, 35))
    control(sim, "/_sim/number", {"status": "CONNECTED"})
    [back] = meta_tells(admins_rt, sim)
    result = alerts.send_health_alert(admins_rt, back, connect(sim))
    # Then her phone gets the disconnection first, marked late, then the reconnection
    assert result.late == [gone] and result.whatsapped == [ADMIN_PHONE]
    late, now = admin_phone_reads(sim)
    assert late.startswith("Gembok alert: (terlambat / late: sent at 14:35 WIB when the "
                           "number came back; happened at 14:05 WIB) ")
    assert "CONNECTED -> DISCONNECTED" in late
    assert "DISCONNECTED -> CONNECTED" in now and "terlambat" not in now
    # And it goes once: the next alert does not send it again
    row = health.record(health.HealthState(quality="YELLOW"), source="poll")
    assert alerts.send_health_alert(admins_rt, row, connect(sim)).late == []
    assert len(admin_phone_reads(sim)) == 3


def test_an_alert_meta_refuses_with_133010_waits_for_the_number_and_never_loops(
        admins_rt, sim, smtpd):
    # Given Gembok still believes the number connected, but Meta's webhook got lost
    health.record(health.HealthState(status="CONNECTED", quality="GREEN"), source="poll")
    control(sim, "/_sim/number", {"status": "DISCONNECTED"})
    sim.flush()
    # When a quality change is alerted, Meta refuses the WhatsApp copy with 133010
    sends = Counting(sim)
    first = health.record(health.HealthState(quality="YELLOW"), source="poll")
    result = alerts.send_health_alert(admins_rt, first, connect(sim, sends))
    # Then it is kept, after exactly one try (no retry loop), and the e-mail went
    assert result.kept and result.failures == [] and sends.sends == 1
    assert KeptAlert.get(KeptAlert.health == first).reason == "error_133010"
    # When another change comes while the number is still down: one try each, no more
    second = health.record(health.HealthState(quality="RED"), source="poll")
    alerts.send_health_alert(admins_rt, second, connect(sim, sends))
    assert sends.sends == 3 and admin_phone_reads(sim) == []
    # When the number is back, both reach the phone late, in the order they happened
    control(sim, "/_sim/number", {"status": "CONNECTED"})
    [back] = meta_tells(admins_rt, sim)
    result = alerts.send_health_alert(admins_rt, back, connect(sim))
    assert result.late == [first, second]
    reads = admin_phone_reads(sim)
    assert ["terlambat" in r for r in reads] == [True, True, False]
    assert "quality YELLOW" in reads[0] and "quality RED" in reads[1]


@pytest.mark.parametrize(("zone", "shown"), [
    ("Asia/Jakarta", "2026-03-02 14:05 WIB"),
    ("Asia/Makassar", "2026-03-02 15:05 WITA"),
    ("Asia/Jayapura", "2026-03-02 16:05 WIT"),
    ("Asia/Singapore", "2026-03-02 15:05 UTC+08"),
])
def test_alert_times_are_in_office_time(wa_rt, smtpd, zone, shown):
    settings = load_settings({
        "GEMBOK_DATA_DIR": str(wa_rt.settings.data_dir), "GEMBOK_TIMEZONE": zone,
        "GEMBOK_SMTP_HOST": "127.0.0.1", "GEMBOK_SMTP_PORT": str(smtpd.port),
        "GEMBOK_SMTP_CA_FILE": str(smtpd.ca_file), "GEMBOK_ALERTS_EMAILS": "it@toko.example"})
    rt = Runtime(settings, wa_rt.keyring, wa_rt.index)
    # Given the number was disconnected at 07:05 UTC, and later the token refused
    gone = health.record(health.HealthState(status="DISCONNECTED"), source="webhook",
                         event="ACCOUNT_OFFBOARDED")
    refused = health.token_rejected()
    NumberHealth.update(at=datetime(2026, 3, 2, 7, 5)).execute()
    # When the admins are told
    alerts.send_health_alert(rt, gone, client_factory=None)
    alerts.send_health_alert(rt, refused, client_factory=None)
    # Then every time they read is on the office's clock, never UTC
    for index in (0, 1):
        text = mail_text(smtpd, index)
        assert shown in text and "07:05" not in text and " UTC " not in f"{text} "
    date = email.message_from_bytes(smtpd.handler.messages[0].content)["Date"]
    offset = datetime.now(ZoneInfo(zone)).strftime("%z")
    assert date.endswith(offset)
    # and so is the late mark of a WhatsApp alert
    late = late_text("x", datetime(2026, 3, 2, 7, 5), datetime(2026, 3, 2, 7, 35), zone)
    assert f"happened at {shown[11:]}" in late and "sent at" in late and "07:" not in late


def test_a_kept_alert_goes_out_with_the_next_poll_once_the_number_can_send(
        admins_rt, sim, smtpd, monkeypatch):
    # Given an alert Meta refused with 133010 while Gembok believed the number fine
    health.record(health.HealthState(status="CONNECTED", quality="GREEN"), source="poll")
    control(sim, "/_sim/number", {"status": "DISCONNECTED"})
    sim.flush()
    first = health.record(health.HealthState(quality="YELLOW"), source="poll")
    assert alerts.send_health_alert(admins_rt, first, connect(sim)).kept
    # When the number is back without a change worth an alert of its own
    control(sim, "/_sim/number", {"status": "CONNECTED"})
    sim.flush()
    monkeypatch.setattr(scheduler, "make_client", lambda rt, number_id=1: connect(sim)())
    queued: list[int] = []
    scheduler.poll_health(admins_rt, queued.append)  # records what Meta now says
    scheduler.poll_health(admins_rt, queued.append)  # nothing new: the kept one goes
    # Then the admin's phone has it, marked late, and it is not kept any more
    assert ["terlambat" in r for r in admin_phone_reads(sim)] == [True]
    assert KeptAlert.get(KeptAlert.health == first).state == "sent"

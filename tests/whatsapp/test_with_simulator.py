"""The whole appliance against the Cloud API simulator, as a newcomer's `make run` would be.

A customer writes from the simulator's phone, Gembok stores it; an agent replies, the
reply goes out through the outbox and comes back as sent, delivered, read; the window
rule and Meta's failures show on the message; the number disconnects and the admins
hear of it by e-mail (a real SMTP server) and by WhatsApp (the simulator's phone).
"""

from __future__ import annotations

import base64
import time
from datetime import timedelta

import httpx
import pytest
from dramatiq.brokers.redis import RedisBroker

from appliance import tasks
from appliance.clock import utcnow
from appliance.config import load_settings
from appliance.inbox import outbound
from appliance.inbox.customers import find_by_phone
from appliance.inbox.messages import read_conversation
from appliance.runtime import open_runtime
from appliance.store.db import db
from appliance.store.models import Conversation, Customer, Media, Message, NumberHealth
from appliance.store.numbers import CustomerWindow
from appliance.whatsapp.media import open_media
from simulator.access import control_headers
from tests.running import appliance_env, eventually

pytestmark = pytest.mark.slow
ADMIN_PHONE = "+6281299990000"




@pytest.fixture
def appliance(tmp_path, start, smtpd):
    env = appliance_env(tmp_path / "var", GEMBOK_SMTP_HOST="127.0.0.1",
                        GEMBOK_SMTP_PORT=str(smtpd.port), GEMBOK_SMTP_CA_FILE=str(smtpd.ca_file),
                        GEMBOK_ALERTS_EMAILS="it@toko.example", GEMBOK_ALERTS_PHONES=ADMIN_PHONE)
    del env["GEMBOK_WHATSAPP_API_BASE_URL"]  # the quick start's own wiring to the simulator
    run = start(env)
    settings = load_settings({k: v for k, v in env.items() if k.startswith("GEMBOK_")})
    rt = open_runtime(settings)
    broker = RedisBroker(url=settings.broker_url)
    tasks.bind(broker)
    # The control API wants the token of the quick start's business file; `gembok run`
    # printed the phone page's link with the same token in its fragment
    headers = control_headers(settings.data_dir)
    assert f"/_sim/phone#t={headers['X-Sim-Token']}" in "".join(run.out)
    sim = httpx.Client(base_url=f"http://127.0.0.1:{env['GEMBOK_SIMULATOR_PORT']}",
                       headers=headers, timeout=10)
    yield rt, sim
    sim.close()
    broker.close()
    db.close()


def customer_writes(sim: httpx.Client, phone: str, body: dict) -> str:
    key = phone.lstrip("+").replace(" ", "")
    resp = sim.post(f"/_sim/customers/{key}/messages", json=body)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["wamid"])


def test_a_customer_writes_an_agent_replies_and_the_ticks_come_back(appliance):
    rt, sim = appliance
    # Given a customer on WhatsApp
    sim.post("/_sim/customers", json={"phone": "+62 812 3456 7890", "name": "Siti Rahayu"})
    # When she writes, Gembok stores her message, readable by an agent
    wamid = customer_writes(sim, "6281234567890", {"type": "text",
                                                   "text": {"body": "Paket saya di mana?"}})
    eventually(lambda: Message.get_or_none(Message.wamid == wamid))
    customer_id = find_by_phone(rt, "0812-3456-7890")
    convo = Conversation.get(Conversation.customer == customer_id)
    assert read_conversation(rt, convo.id, actor="user:1")[0].body == "Paket saya di mana?"
    # When an agent replies, it goes out through the outbox to her phone
    outbox_id = outbound.queue_text(rt, convo.id, "Sedang dikirim, kak", actor="user:1")
    tasks.send_outbox.send(outbox_id)
    inbox = eventually(lambda: sim.get("/_sim/customers/6281234567890/inbox").json()["messages"])
    assert (inbox[0]["type"], inbox[0]["message"]["body"]) == ("text", "Sedang dikirim, kak")
    reply = Message.get(Message.direction == "out")

    def status() -> str:
        return str(Message.get_by_id(reply.id).status)

    eventually(lambda: status() == "delivered")
    # And when she reads it, the blue ticks reach Gembok
    sim.post("/_sim/customers/6281234567890/read", json={})
    eventually(lambda: status() == "read")


def test_a_reply_after_24_hours_is_refused_here_and_meta_refuses_it_too(appliance):
    rt, sim = appliance
    sim.post("/_sim/customers", json={"phone": "+62 813 1111 2222", "name": "Budi"})
    wamid = customer_writes(sim, "6281311112222", {"type": "text", "text": {"body": "Halo"}})
    message = eventually(lambda: Message.get_or_none(Message.wamid == wamid))
    convo_id = message.conversation_id
    customer = Customer.get_by_id(Conversation.get_by_id(convo_id).customer_id)
    # Gembok's own rule: a day after the customer's last message, no free text
    CustomerWindow.update(last_inbound_at=utcnow() - timedelta(hours=25)) \
        .where(CustomerWindow.customer == customer.id).execute()
    with pytest.raises(outbound.WindowClosedError):
        outbound.queue_text(rt, convo_id, "Masih ada?", actor="user:1")
    # Meta's rule, when our clock and Meta's disagree: accepted, then failed with 131047
    CustomerWindow.update(last_inbound_at=utcnow()).where(
        CustomerWindow.customer == customer.id).execute()
    sim.post("/_sim/clock", json={"advance_seconds": 25 * 3600})
    tasks.send_outbox.send(outbound.queue_text(rt, convo_id, "Masih ada?", actor="user:1"))
    failed = eventually(lambda: Message.get_or_none(Message.direction == "out",
                                                    Message.status == "failed"))
    assert failed.error_code == 131047


def test_a_send_that_meta_fails_twice_with_500_still_goes_out_once(appliance):
    rt, sim = appliance
    sim.post("/_sim/customers", json={"phone": "+62 814 3333 4444", "name": "Citra"})
    wamid = customer_writes(sim, "6281433334444", {"type": "text", "text": {"body": "Tolong"}})
    message = eventually(lambda: Message.get_or_none(Message.wamid == wamid))
    sim.post("/_sim/faults", json={"path": "messages", "kind": "http_500", "count": 2})
    tasks.send_outbox.send(outbound.queue_text(rt, message.conversation_id, "Baik, kak",
                                               actor="user:1"))
    eventually(lambda: sim.get("/_sim/customers/6281433334444/inbox").json()["messages"])
    time.sleep(1)
    assert len(sim.get("/_sim/customers/6281433334444/inbox").json()["messages"]) == 1


def test_a_photo_from_a_customer_is_downloaded_and_sealed(appliance):
    rt, sim = appliance
    sim.post("/_sim/customers", json={"phone": "+62 815 5555 6666", "name": "Dewi"})
    picture = b"\xff\xd8\xff\xe0" + b"bukti transfer" * 100
    wamid = customer_writes(sim, "6281555556666", {
        "type": "image", "image": {"caption": "bukti transfer"}, "mime_type": "image/jpeg",
        "content_base64": base64.b64encode(picture).decode()})
    message = eventually(lambda: Message.get_or_none(Message.wamid == wamid))
    media = eventually(lambda: Media.get_or_none(Media.message == message.id,
                                                 Media.state == "stored"))
    customer_id = Conversation.get_by_id(message.conversation_id).customer_id
    assert open_media(rt, media.id, customer_id) == picture
    assert picture[4:30] not in bytes(media.content_sealed)


def test_a_disconnected_number_alerts_the_admins_by_email_and_whatsapp(appliance, smtpd):
    _, sim = appliance
    sim.post("/_sim/customers", json={"phone": ADMIN_PHONE, "name": "Admin IT"})
    # When the number is disconnected, then reconnected, on Meta's side
    sim.post("/_sim/number", json={"status": "DISCONNECTED"})
    eventually(lambda: NumberHealth.get_or_none(NumberHealth.status == "DISCONNECTED"))
    eventually(lambda: smtpd.handler.messages)
    sim.post("/_sim/number", json={"status": "CONNECTED"})
    eventually(lambda: NumberHealth.select().order_by(NumberHealth.id.desc()).get().status
               == "CONNECTED")
    # Then the admins got an e-mail for each, and the reconnection also by WhatsApp
    eventually(lambda: len(smtpd.handler.messages) >= 2)
    subjects = [m.content.decode(errors="replace") for m in smtpd.handler.messages]
    assert any("DISCONNECTED" in s for s in subjects) and any("CONNECTED" in s for s in subjects)
    inbox = eventually(lambda: sim.get(f"/_sim/customers/{ADMIN_PHONE[1:]}/inbox")
                       .json()["messages"])
    assert (inbox[-1]["type"], inbox[-1]["message"]["name"]) == ("template", "gembok_alert")



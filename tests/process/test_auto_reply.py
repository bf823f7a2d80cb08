"""Auto Reply's promises on the box as `gembok run` runs it: the worker's Dramatiq actor
answers what customers write on the simulator's phone, once, and knows when to keep quiet
(an agent has the conversation, another bot is answering), whatever the rules hold; and
every way a customer stops promotions lands in the consent ledger with its source.

Rules are saved through the rule book's service, as the admin's page does; everything
else goes through the real processes: the simulator's webhooks, the webhook face, the
worker, the outbox, the staff API.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from appliance.auth.permissions import BOX_ADMIN
from appliance.automation import rule_book
from appliance.automation.auto_reply import MAX_REPLIES_PER_HOUR, OPTED_IN, OPTED_OUT
from appliance.automation.rules import Action, Rule, Trigger
from appliance.privacy import consent
from appliance.store.automation import AutoReplyLog
from appliance.store.db import db
from appliance.store.models import Conversation, InboxEvent, Message, User
from tests.process.conftest import Office
from tests.running import eventually
from tests.staff_client import StaffClient

pytestmark = pytest.mark.slow

SHIPPING = "Ongkir ke seluruh Jawa Rp10.000, gratis di atas Rp200.000."
GREETING = "Halo! Ada yang bisa kami bantu?"
HOURS = "Kami buka setiap hari pukul 08.00-17.00 WIB."
# Exponential on a backtracking engine (Python's re: a second for 24 characters of
# "aaa...!", twice as long with each one more), linear on RE2; neither matches an ordinary
# message (the first is anchored, the second wants "xxy").
CATASTROPHIC = ("^(a+)+$", "(x+x+)+y")


@pytest.fixture(scope="module", autouse=True)
def rules(office: Office) -> dict[str, int]:
    """Sales (where new conversations land) and the admin's rules, first match."""
    office.division("Sales")
    db.close()
    saved = {name: rule_book.save_rule(office.rt, BOX_ADMIN, Rule(0, name, (trigger,), (
        Action("reply_text", text),))) for name, trigger, text in (
        ("Ongkir", Trigger("keyword", ("ongkir",)), SHIPPING),
        ("Sapa", Trigger("keyword", ("halo",), mode="whole_word"), GREETING),
        ("Pola rakus", Trigger("keyword", CATASTROPHIC, mode="regex"), "Pola cocok."),
        ("Jam buka", Trigger("keyword", ("jam buka",)), HOURS))}
    db.close()
    return saved


@pytest.fixture(scope="module")
def dedi(office: Office) -> StaffClient:
    """Dedi, an agent of Sales."""
    return office.staff("dedi", "Sales")


def meets(office: Office, phone: str, name: str) -> None:
    """A new customer on the simulator's phone."""
    resp = office.sim.post("/_sim/customers", json={"phone": phone, "name": name})
    assert resp.status_code == 201, resp.text


def conversation_of(wamid: str) -> int:
    db.close()
    return int(Message.get(Message.wamid == wamid).conversation_id)


def writes(office: Office, phone: str, text: str | None = None, **message: Any) -> str:
    """The customer sends a text (or another kind of message); returns its wamid."""
    body = message or {"type": "text", "text": {"body": text}}
    resp = office.sim.post(f"/_sim/customers/{phone}/messages", json=body)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["wamid"])


def phone_got(office: Office, phone: str) -> list[str]:
    """The texts the customer's phone received from the business, oldest first."""
    resp = office.sim.get(f"/_sim/customers/{phone}/inbox")
    assert resp.status_code == 200, resp.text
    return [str(m["message"].get("body", "")) for m in resp.json()["messages"]
            if m["type"] == "text"]


def handled(wamid: str) -> str:
    """Waits until Auto Reply has handled the message; returns its outcome."""

    def outcome() -> str | None:
        """Auto Reply handled the message"""
        row = (AutoReplyLog.select(AutoReplyLog.outcome).join(
            Message, on=AutoReplyLog.message == Message.id).where(Message.wamid == wamid)
            .first())
        return None if row is None else str(row.outcome)

    return str(eventually(outcome, timeout=30))


def receives(office: Office, phone: str, count: int) -> list[str]:
    """Waits until the phone has received `count` texts; returns them."""

    def got() -> list[str] | None:
        """the phone received the answers"""
        texts = phone_got(office, phone)
        return texts if len(texts) >= count else None

    return list(eventually(got, timeout=30,
                           explain=lambda: f"received: {phone_got(office, phone)}"))


def automated(person: StaffClient, convo: int) -> list[str]:
    """What the conversation shows Auto Reply sent (each labelled with its rule)."""
    thread = person.get(f"/api/conversations/{convo}")
    assert thread.status_code == 200, thread.text
    return [m["automated"] for m in thread.json()["messages"] if m["direction"] == "out"]


def inbound(post: dict[str, Any]) -> list[dict[str, Any]]:
    """The customers' messages in a webhook POST of the simulator's log."""
    return [m for e in post["body"]["entry"] for c in e["changes"]
            for m in c["value"].get("messages", [])]


def customer_of(convo: int) -> int:
    db.close()
    return int(Conversation.get_by_id(convo).customer_id)


def test_the_same_message_delivered_twice_gets_one_answer(office: Office,
                                                          dedi: StaffClient) -> None:
    # Given Meta in a mood to deliver every POST twice, byte for byte
    mode = office.sim.post("/_sim/webhooks/mode", json={"duplicate": True})
    assert mode.status_code == 200, mode.text
    try:
        # When Wati asks about shipping
        convo = office.customer_writes("6281377100001", "Wati", "Berapa ongkir ke Bogor?")

        def posts() -> list[dict[str, Any]] | None:
            """the simulator delivered her message twice"""
            found = [p for p in office.sim.get("/_sim/webhooks/log").json()["posts"]
                     if any(m.get("from") == "6281377100001" for m in inbound(p))]
            return found if len(found) == 2 and all(p["state"] == "delivered"
                                                    for p in found) else None

        original, twin = eventually(posts, timeout=30)
    finally:
        office.sim.post("/_sim/webhooks/mode", json={"duplicate": False})
    assert twin["duplicate_of"] == original["id"]
    # And the same body comes once more, and again in a new POST of its own (a new digest)
    body = json.dumps(original["body"], separators=(",", ":")).encode()
    assert office.post_webhook(body) == 200
    again = json.loads(body)
    again["entry"][0]["id"] = "again"
    assert office.post_webhook(json.dumps(again).encode()) == 200
    [wamid] = [m["id"] for m in inbound(original)]

    # Then every delivery is applied, and the message is stored and answered once
    assert handled(wamid) == "answered"

    def applied() -> bool:
        """every delivery is applied"""
        return not InboxEvent.select().where(InboxEvent.state == "new").exists()

    eventually(applied, timeout=30)
    assert receives(office, "6281377100001", 1) == [SHIPPING]
    db.close()
    assert Message.select().where(Message.wamid == wamid).count() == 1
    assert Message.select().where(Message.conversation == convo,
                                  Message.direction == "out").count() == 1
    time.sleep(2)  # a second answer, had one been queued, would be on the phone by now
    assert phone_got(office, "6281377100001") == [SHIPPING]
    # And the conversation shows the one answer, sent by Auto Reply's rule
    assert automated(dedi, convo) == ["Ongkir"]


def test_an_agent_who_takes_the_conversation_silences_the_bot(office: Office,
                                                              dedi: StaffClient) -> None:
    # Given Rina, whose greeting the bot answered
    phone = "6281377100002"
    convo = office.customer_writes(phone, "Rina", "Halo kak")
    assert receives(office, phone, 1) == [GREETING]
    db.close()
    dedi_id = int(User.get(User.username == "dedi").id)

    # When Dedi takes the conversation, and Rina greets again
    resp = dedi.post(f"/api/conversations/{convo}/assign", {"assignee_id": dedi_id})
    assert resp.status_code == 200, resp.text
    wamid = writes(office, phone, "Halo, masih di sana?")

    # Then the bot keeps quiet: Dedi answers her now
    assert handled(wamid) == "silenced"
    time.sleep(2)  # an answer, had one been queued, would be on the phone by now
    assert phone_got(office, phone) == [GREETING]
    assert automated(dedi, convo) == ["Sapa"]

    # When Dedi resolves it, and Rina writes again
    resp = dedi.post(f"/api/conversations/{convo}/status", {"status": "resolved"})
    assert resp.status_code == 200, resp.text
    wamid = writes(office, phone, "Halo, saya mau tanya lagi")

    # Then the bot answers her again
    assert handled(wamid) == "answered"
    assert receives(office, phone, 2) == [GREETING, GREETING]
    db.close()
    assert automated(dedi, conversation_of(wamid))[-1] == "Sapa"


def test_two_bots_talking_to_each_other_stop_after_n_replies(office: Office,
                                                            dedi: StaffClient) -> None:
    # Given another shop's bot, which greets back every greeting it gets
    phone = "6281377100003"
    greeting = "Halo! Ada yang bisa dibantu?"
    meets(office, phone, "Toko Sebelah Bot")
    outcomes = []

    # When the two bots greet each other, each answering the other's last message
    for n in range(MAX_REPLIES_PER_HOUR + 3):
        wamid = writes(office, phone, greeting)
        outcomes.append(handled(wamid))
        if outcomes[-1] == "answered":
            receives(office, phone, n + 1)
    convo = conversation_of(wamid)

    # Then ours stops after N replies
    assert outcomes == ["answered"] * MAX_REPLIES_PER_HOUR + ["loop_stopped"] * 3
    time.sleep(2)
    assert phone_got(office, phone) == [GREETING] * MAX_REPLIES_PER_HOUR
    # And a private note in the conversation says why, once
    thread = dedi.get(f"/api/conversations/{convo}").json()
    notes = [n["text"] for n in thread["notes"]]
    assert len(notes) == 1, notes
    assert f"{MAX_REPLIES_PER_HOUR} automatic replies" in notes[0]
    assert "another bot" in notes[0]
    assert automated(dedi, convo) == ["Sapa"] * MAX_REPLIES_PER_HOUR


def test_a_catastrophic_regular_expression_does_not_stall_the_worker(office: Office) -> None:
    # Given a rule whose patterns backtrack exponentially in engines that backtrack
    # When a customer sends 5,000 characters that fail both patterns at the very end
    phone = "6281377100004"
    meets(office, phone, "Ani")
    text = "a" * 2500 + "x" * 2499 + "!"
    assert len(text) == 5000
    long_one = writes(office, phone, text)
    # And then an ordinary question
    started = time.monotonic()
    ordinary = writes(office, phone, "Jam buka toko sampai kapan?")

    # Then the answer to the ordinary question arrives within the usual wait
    assert receives(office, phone, 1) == [HOURS]
    assert time.monotonic() - started < 20
    assert handled(long_one) == "no_rule"
    assert handled(ordinary) == "answered"


def test_berhenti_the_stop_button_and_metas_stop_webhook_each_opt_out_and_the_ledger_shows_which(
        office: Office) -> None:
    # Given three customers who wrote today (the 24-hour window is open for each)
    ayu, bima, citra = "6281377100005", "6281377100006", "6281377100007"
    who = {phone: customer_of(office.customer_writes(phone, name, "Selamat siang, mau tanya"))
           for phone, name in ((ayu, "Ayu"), (bima, "Bima"), (citra, "Citra"))}

    # When Ayu writes BERHENTI, Bima taps the "Stop promotions" button (its label in
    # Indonesian) and Citra stops marketing in WhatsApp's own settings (Meta's webhook)
    said = writes(office, ayu, "BERHENTI")
    tapped = writes(office, bima, type="button",
                    button={"payload": "STOP_PROMO", "text": "Hentikan promosi"})
    resp = office.sim.post(f"/_sim/customers/{citra}/opt_out", json={})
    assert resp.status_code == 200, resp.text

    # Then each is out of marketing, and the ledger shows which way, with its proof
    def ledger(phone: str) -> list[tuple[str, str, str]]:
        return [(r.event, r.source, r.proof) for r in consent.history(who[phone])
                if r.purpose == "marketing"]

    def recorded() -> bool:
        """each opt-out is in the ledger"""
        return all(ledger(p) for p in who)

    eventually(recorded, timeout=30, explain=lambda: str({p: ledger(p) for p in who}))
    assert ledger(ayu) == [("withdrawn", "keyword", said)]
    assert ledger(bima) == [("withdrawn", "stop_button", tapped)]
    [(event, source, proof)] = ledger(citra)
    assert (event, source) == ("withdrawn", "meta_user_preferences")
    assert proof.startswith("webhook:")
    assert {who[p]: consent.state(who[p], "marketing") for p in who} == dict.fromkeys(
        who.values(), "withdrawn")

    # When Ayu writes MULAI and Bima START
    back = {ayu: writes(office, ayu, "MULAI"), bima: writes(office, bima, "START")}

    # Then both are in again, by keyword, and Citra stays out
    for phone, wamid in back.items():
        handled(wamid)
        assert ledger(phone)[-1] == ("granted", "keyword", wamid)
        assert consent.state(who[phone], "marketing") == "granted"
    assert consent.state(who[citra], "marketing") == "withdrawn"

    # And each was told, in the open window, that they are out (and back in)
    expected = {ayu: sorted([OPTED_OUT["id"], OPTED_IN["id"]]),
                bima: sorted([OPTED_OUT["id"], OPTED_IN["id"]]), citra: [OPTED_OUT["id"]]}

    def told() -> dict[str, list[str]]:
        # Sorted: each confirmation goes in its own job, seconds apart here only because the
        # test taps and writes at once; WhatsApp does not promise the order of separate
        # messages either (reference section 11). Each must arrive, once.
        return {phone: sorted(phone_got(office, phone)) for phone in who}

    def confirmed() -> bool:
        """each customer received the confirmations"""
        return told() == expected

    eventually(confirmed, timeout=20, explain=lambda: f"received: {told()}; Auto Reply's "
               f"turn for Bima's tap: {handled(tapped)}")

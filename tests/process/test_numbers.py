"""Two WhatsApp numbers on one box as `gembok run` runs it: the business adds its second
brand's number, a customer writes to it, the conversation lands in that brand's division
and shows its number, and the agent's reply leaves from that number, not the first one.
A webhook for a number the box does not serve is refused (Meta retries it) and counted."""

from __future__ import annotations

import json

import pytest

from appliance.auth.permissions import BOX_ADMIN
from appliance.automation import campaigns, template_book
from appliance.automation.campaigns import CampaignError
from appliance.store.broadcast import Campaign
from appliance.store.db import db
from appliance.store.models import Conversation, Division
from appliance.store.numbers import WaNumber
from appliance.whatsapp import numbers
from tests.process.conftest import Office
from tests.running import eventually

PHONE = "6281377001234"


def test_a_customer_writing_to_the_second_brand_is_answered_from_its_number(
        office: Office) -> None:
    # Given the business's second number, Kopi Nusantara, served by the Billing division
    office.division("Sales")
    office.division("Billing")
    rina = office.staff("rina", "Billing")
    second = office.sim.post("/_sim/numbers", json={
        "display_phone_number": "6281100000077", "verified_name": "Kopi Nusantara"}).json()
    added = office.cli("whatsapp", "number", "add", second["phone_number_id"],
                       "--label", "Kopi Nusantara", "--division", "Billing")
    assert "number 2 (Kopi Nusantara) added" in added.stdout
    listed = office.cli("whatsapp", "numbers").stdout
    assert "Kopi Nusantara" in listed and second["phone_number_id"] in listed

    # When a customer writes to it (the listener takes the new number within 10 s; until
    # then it refuses the webhook and Meta, here the simulator, sends it again)
    assert office.sim.post("/_sim/customers", json={"phone": PHONE,
                                                    "name": "Ratna"}).status_code == 201
    assert office.sim.post(f"/_sim/customers/{PHONE}/messages", json={
        "type": "text", "text": {"body": "Pesanan kopi saya?"},
        "to_number": second["phone_number_id"]}).status_code == 201

    def written() -> int | None:
        """her message to the second number is stored"""
        db.close()
        row = Conversation.get_or_none(Conversation.number_id == 2)
        return None if row is None else int(row.id)

    convo_id = eventually(written, timeout=60)
    db.close()
    convo = Conversation.get_by_id(convo_id)
    assert convo.division_id == Division.get(Division.name == "Billing").id

    # Then Rina of Billing sees it with its number, and can filter the inbox by it
    rows = rina.get("/api/conversations", params={"number": 2, "status": ""}).json()
    assert [(r["id"], r["number"]) for r in rows["conversations"]] == [
        (convo_id, "Kopi Nusantara")]
    assert rina.get("/api/conversations", params={"number": 1}).json()["conversations"] == []
    assert [n["label"] for n in rina.get("/api/numbers").json()["numbers"]] == [
        "Nomor utama", "Kopi Nusantara"]

    # And her reply leaves from the second number
    assert rina.post(f"/api/conversations/{convo_id}/reply",
                     {"text": "Sedang dikirim, Kak"}).status_code == 202

    def answered() -> list[dict]:
        """the reply reached her phone"""
        inbox = office.sim.get(f"/_sim/customers/{PHONE}/inbox").json()["messages"]
        return [m for m in inbox if m["message"].get("body") == "Sedang dikirim, Kak"]

    [reply] = eventually(answered, timeout=30)
    assert reply["from_number"] == second["phone_number_id"]


def test_a_webhook_for_a_number_the_box_does_not_serve_is_refused_and_counted(
        office: Office) -> None:
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": {
                "display_phone_number": "6281100000099", "phone_number_id": "999000111222333"},
            "statuses": [{"id": "wamid.X", "status": "sent", "timestamp": "1764000000",
                          "recipient_id": "6281234567890"}]}}]}]}).encode()
    # Signed by the business's app, but for a number this box was never told of: refused,
    # so Meta keeps retrying it, and nothing of it is stored
    assert office.post_webhook(body) == 404
    assert office.post_webhook(body) == 404
    # The IT admin sees which number, how often, and what to do
    listed = office.cli("whatsapp", "numbers").stdout
    assert "REFUSED webhooks for number 999000111222333: 2" in listed
    assert "gembok whatsapp number add 999000111222333" in listed


APOTEK_ACCOUNT = "300000000000777"  # the pharmacy brand's own WhatsApp Business Account


def test_a_brand_on_its_own_business_account_keeps_its_own_templates(office: Office) -> None:
    # Given a number of the business in another WhatsApp Business Account, Apotek Sehat,
    # whose `order_update` Meta paused while the first brand's stays approved
    numbers.clear_cache()
    office.division("Apotek")
    wulan = office.staff("wulan", "Apotek")
    apotek = office.sim.post("/_sim/numbers", json={
        "display_phone_number": "6281100000088", "verified_name": "Apotek Sehat",
        "waba_id": APOTEK_ACCOUNT}).json()
    office.cli("whatsapp", "number", "add", apotek["phone_number_id"], "--label",
               "Apotek Sehat", "--waba", APOTEK_ACCOUNT, "--division", "Apotek")
    number_id = int(apotek_row(apotek["phone_number_id"]))
    template_book.sync(office.rt)
    db.close()
    assert office.sim.post("/_sim/templates", json={
        "waba_id": APOTEK_ACCOUNT, "name": "order_update", "language": "id",
        "status": "PAUSED"}).status_code == 200

    # When Meta's template webhook reaches the box (it names the account as entry[].id)
    def paused() -> list[tuple[str, str]]:
        """the pharmacy's order_update is paused"""
        db.close()
        return [(t.waba_id, t.status) for t in template_book.all_templates()
                if t.name == "order_update" and t.status == "PAUSED"]

    # Then only the pharmacy's is paused; each account keeps its own rows
    assert eventually(paused, timeout=30) == [(APOTEK_ACCOUNT, "PAUSED")]
    first = numbers.get(office.rt, 1).waba_id
    mine = {t.name: t for t in template_book.all_templates() if t.waba_id == first}
    theirs = {t.name: t for t in template_book.all_templates() if t.waba_id == APOTEK_ACCOUNT}
    assert mine["order_update"].sendable and set(mine) == set(theirs)
    assert mine["order_update"].id != theirs["order_update"].id

    # And an agent answering a pharmacy customer is offered the pharmacy's approved
    # templates only
    offered = wulan.get("/api/templates", params={"number": number_id}).json()["templates"]
    assert "order_update" not in {t["name"] for t in offered} and offered
    offered = wulan.get("/api/templates", params={"number": 1}).json()["templates"]
    assert "order_update" in {t["name"] for t in offered}

    # And a campaign of the pharmacy's template leaves from the pharmacy's number only
    reminder = theirs["pengingat_pembayaran"].id
    with pytest.raises(CampaignError, match="send it from Apotek Sehat"):
        campaigns.create(office.rt, BOX_ADMIN, name="Salah nomor", template_id=reminder,
                         parameters=[], audience_filter=None, number_id=1)
    db.close()
    cid = campaigns.create(office.rt, BOX_ADMIN, name="Pengingat apotek", template_id=reminder,
                           parameters=[{"name": "1", "source": "name"},
                                       {"name": "2", "source": "text", "value": "Rp50.000"}],
                           audience_filter=None, number_id=number_id)
    assert Campaign.get_by_id(cid).number_id == number_id
    db.close()


def apotek_row(phone_number_id: str) -> int:
    db.close()
    return int(WaNumber.get(WaNumber.phone_number_id == phone_number_id).id)

"""A customer's first contact on the box as `gembok run` runs it: the worker's Auto Reply
sends the privacy notice and the menu to the simulator's phone, a tap routes the
conversation, and the scheduler hands an unanswered menu to the default division.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from appliance.auth.permissions import BOX_ADMIN
from appliance.automation import menu_book
from appliance.automation.menu import Choice, Menu
from appliance.clock import utcnow
from appliance.privacy import consent, notice
from appliance.store.automation import MenuState
from appliance.store.db import db
from appliance.store.models import Conversation, Division
from tests.process.conftest import Office
from tests.running import eventually

NOTICE = ("Halo! PT Maju Jaya memproses nama, nomor dan pesan Anda untuk melayani Anda, "
          "selama 1 tahun. Balas BERHENTI untuk menarik persetujuan.")


@pytest.fixture(scope="module", autouse=True)
def set_up(office: Office) -> dict[str, int]:
    # Sales first: new conversations land there before the menu routes them
    office.division("Sales")
    office.division("Billing")
    db.close()
    ids = {d.name: int(d.id) for d in Division.select()}
    notice.publish(office.rt, BOX_ADMIN, "2026-12", summary_id=NOTICE,
                   full_id="Pemberitahuan lengkap.")
    menu_book.save_menu(office.rt, BOX_ADMIN, Menu(
        True, "Ada yang bisa kami bantu?", "",
        (Choice(ids["Billing"], "Tagihan"), Choice(ids["Sales"], "Penjualan")),
        default_division_id=ids["Billing"], timeout_minutes=10))
    db.close()
    return ids


def inbox(office: Office, phone: str) -> list[dict[str, Any]]:
    resp = office.sim.get(f"/_sim/customers/{phone}/inbox")
    assert resp.status_code == 200, resp.text
    return list(resp.json()["messages"])


def test_a_first_message_gets_the_notice_and_the_menu_and_choosing_tagihan_routes_to_billing(
        office: Office, set_up: dict[str, int]) -> None:
    # Given Dewi of Billing and Dedi of Sales
    dewi = office.staff("dewi", "Billing")
    dedi = office.staff("dedi", "Sales")
    # When Siti writes for the first time
    convo = office.customer_writes("6281234567001", "Siti Rahayu", "Selamat pagi")
    # Then her phone gets the privacy notice, then the menu's buttons
    got = eventually(lambda: (lambda m: m if len(m) >= 2 else None)(
        inbox(office, "6281234567001")), timeout=30)
    assert [m["type"] for m in got] == ["text", "interactive"]
    assert got[0]["message"]["body"] == NOTICE
    buttons = got[1]["message"]["action"]["buttons"]
    assert [b["reply"]["title"] for b in buttons] == ["Tagihan", "Penjualan", "Hubungi petugas"]
    # When she taps "Tagihan"
    resp = office.sim.post("/_sim/customers/6281234567001/messages", json={
        "type": "interactive", "interactive": {"type": "button_reply", "button_reply": {
            "id": buttons[0]["reply"]["id"], "title": "Tagihan"}}})
    assert resp.status_code == 201, resp.text

    # Then the conversation is in Billing's inbox, and not in Sales'
    def in_billing() -> bool:
        """the conversation moved to Billing"""
        db.close()
        return bool(Conversation.get_by_id(convo).division_id == set_up["Billing"])

    eventually(in_billing, timeout=30)
    assert convo in [c["id"] for c in dewi.get("/api/conversations").json()["conversations"]]
    assert convo not in [c["id"] for c in dedi.get("/api/conversations").json()["conversations"]]
    thread = dewi.get(f"/api/conversations/{convo}").json()
    assert [m["automated"] for m in thread["messages"] if m["direction"] == "out"][:2] == \
        ["privacy notice", "menu"]
    # And the ledger shows the notice she was shown, once, even as she writes again
    office.sim.post("/_sim/customers/6281234567001/messages",
                    json={"type": "text", "text": {"body": "Tagihan saya dobel"}})
    eventually(lambda: len(inbox(office, "6281234567001")) >= 3, timeout=30)  # the thank-you
    db.close()
    customer = Conversation.get_by_id(convo).customer_id
    shown = [r for r in consent.history(customer) if r.event == "notice_shown"]
    assert [r.notice_version for r in shown] == ["2026-12"]


def test_a_menu_nobody_answers_goes_to_the_default_division_by_the_scheduler(
        office: Office, set_up: dict[str, int]) -> None:
    # Given Budi, who wrote and got the menu, but chose nothing
    convo = office.customer_writes("6281234567002", "Budi Santoso", "Halo")
    eventually(lambda: MenuState.get_or_none(MenuState.conversation == convo), timeout=30)
    # When ten minutes pass (moved back here: the scheduler's clock is the real one)
    MenuState.update(sent_at=utcnow() - timedelta(minutes=11)).where(
        MenuState.conversation == convo).execute()
    db.close()

    # Then the scheduler hands the conversation to Billing, the default
    def routed() -> bool:
        """the conversation went to the default division"""
        db.close()
        return bool(Conversation.get_by_id(convo).division_id == set_up["Billing"])

    eventually(routed, timeout=60)
    db.close()
    assert MenuState.get_by_id(convo).outcome == "timeout"

"""A customer erased by the DPO shows as erased everywhere staff look, never as a 500 or a
blank name.

Erasure destroys the customer's keys and clears their fields; their conversations and
messages stay, sealed under a key that no longer exists. Before issue 11 (item 13),
opening such a thread, its media or its export ended in a 500, and the inbox showed a
row with no name at all.
"""

from __future__ import annotations

import json

import pytest

from appliance.auth.permissions import BOX_ADMIN
from appliance.privacy.erasure import erase_customer
from appliance.store.accounts import Reveal
from appliance.store.models import Conversation, User
from tests.conftest import BOTH_ENGINES
from tests.web.conftest import World, inbound, sign_in_as

pytestmark = BOTH_ENGINES

ERASED_ID, ERASED_EN = "Pelanggan dihapus", "Erased customer"
WORDS_SHE_WROTE = ["Rina", "3174091203870007", "Cempaka", "6281377001234", "7001234"]


@pytest.fixture(scope="module")
def rina(world: World) -> dict[str, int]:
    """Rina of Sales wrote her NIK and address, Dedi noted something about her, Budi
    revealed her number once; then the DPO erased her."""
    convo = inbound(world.rt, "wamid.RINA1", "6281377001234", "Rina Kusumawati",
                    "NIK 3174091203870007, Jl. Cempaka Putih 12")
    Conversation.update(division=world.divisions["Sales"]).where(
        Conversation.id == convo).execute()
    customer = Conversation.get_by_id(convo).customer_id
    dedi, budi = sign_in_as(world, "dedi"), sign_in_as(world, "budi")
    assert dedi.post(f"/api/conversations/{convo}/notes",
                     {"text": "Bu Rina minta ditelepon"}).status_code == 201
    assert dedi.upload(f"/api/conversations/{convo}/attachment", "ktp.jpg",
                       b"\xff\xd8\xff\xe0 KTP Rina", "image/jpeg").status_code == 202
    assert budi.post(f"/api/customers/{customer}/reveal-phone",
                     {"reason": "pelanggan minta ditelepon"}).status_code == 200
    thread = budi.get(f"/api/conversations/{convo}").get_json()
    media = next(m["media_id"] for m in thread["messages"] if m["media_id"])
    first = thread["messages"][0]["id"]
    erase_customer(world.rt, BOX_ADMIN, customer)
    return {"conversation": convo, "customer": customer, "media": media, "message": first}


def leaks(text: str) -> list[str]:
    return [word for word in WORDS_SHE_WROTE if word in text]


def test_the_inbox_shows_an_erased_customer_as_erased_not_as_a_blank_name(world, rina):
    # When Budi looks at his inbox
    budi = sign_in_as(world, "budi")
    resp = budi.get("/api/conversations")
    row = next(r for r in resp.get_json()["conversations"] if r["id"] == rina["conversation"])
    # Then Rina's row says she was erased, in his language, with nothing of hers
    assert row["erased"] is True
    assert row["customer_name"] == ERASED_ID
    assert row["phone"] == "" and row["window_seconds_left"] == 0
    assert leaks(resp.get_data(as_text=True)) == []
    # And in English for whoever reads English
    User.update(language="en").where(User.id == world.users["budi"]).execute()
    try:
        rows = budi.get("/api/conversations").get_json()["conversations"]
        assert next(r for r in rows if r["id"] == rina["conversation"])[
            "customer_name"] == ERASED_EN
    finally:
        User.update(language="").where(User.id == world.users["budi"]).execute()


def test_opening_an_erased_customers_thread_shows_every_message_and_note_as_erased(world,
                                                                                 rina):
    # When Dedi opens the conversation he worked on before the erasure
    resp = sign_in_as(world, "dedi").get(f"/api/conversations/{rina['conversation']}")
    # Then it opens, says who it was with, and every message and note says it was erased
    assert resp.status_code == 200
    thread = resp.get_json()
    assert thread["conversation"]["customer_name"] == ERASED_ID
    assert thread["conversation"]["erased"] is True
    assert len(thread["messages"]) >= 2 and thread["notes"]
    assert {m["text"] for m in thread["messages"]} == {"Dihapus bersama pelanggan"}
    assert {n["text"] for n in thread["notes"]} == {"Dihapus bersama pelanggan"}
    assert leaks(resp.get_data(as_text=True)) == []


def test_an_erased_customers_picture_is_gone_and_says_so(world, rina):
    resp = sign_in_as(world, "dedi").get(f"/api/media/{rina['media']}")
    assert resp.status_code == 410
    assert "dihapus" in resp.get_json()["error"]


def test_exporting_an_erased_conversation_gives_an_export_marked_erased(world, rina):
    resp = sign_in_as(world, "budi").get(f"/api/conversations/{rina['conversation']}/export")
    assert resp.status_code == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    export = json.loads(resp.get_data())
    assert export["conversation"]["erased"] is True
    assert export["conversation"]["customer_name"] == ERASED_ID
    assert {m["text"] for m in export["messages"]} == {"Dihapus bersama pelanggan"}
    assert leaks(resp.get_data(as_text=True)) == []


def test_the_customer_panel_says_the_customer_was_erased(world, rina):
    resp = sign_in_as(world, "dedi").get(f"/api/customers/{rina['customer']}")
    assert resp.status_code == 200
    panel = resp.get_json()
    assert panel["erased"] is True and panel["name"] == ERASED_ID and panel["phone"] == ""
    assert [c["id"] for c in panel["conversations"]] == [rina["conversation"]]


def test_revealing_an_erased_customers_number_or_message_is_gone_and_says_so(world, rina):
    # Given Budi, who revealed Rina's number before she was erased
    budi = sign_in_as(world, "budi")
    reveals = Reveal.select().count()
    # When he asks again, for her number and for her first message
    for path in (f"/api/customers/{rina['customer']}/reveal-phone",
                 f"/api/messages/{rina['message']}/reveal"):
        resp = budi.post(path, {"reason": "pelanggan minta ditelepon"})
        # Then there is nothing left to reveal, and the answer says why
        assert resp.status_code == 410, path
        assert "dihapus" in resp.get_json()["error"]
    # And no reveal was recorded, since nothing was seen
    assert Reveal.select().count() == reveals


def test_writing_to_an_erased_customer_is_refused_with_words(world, rina):
    dedi = sign_in_as(world, "dedi")
    convo = rina["conversation"]
    for resp in (dedi.post(f"/api/conversations/{convo}/reply", {"text": "Halo Bu"}),
                 dedi.post(f"/api/conversations/{convo}/notes", {"text": "catatan"}),
                 dedi.upload(f"/api/conversations/{convo}/attachment", "a.jpg",
                             b"\xff\xd8\xff\xe0", "image/jpeg")):
        assert resp.status_code == 410
        assert "dihapus" in resp.get_json()["error"]


def test_an_erased_customer_of_another_division_is_still_not_there(world, rina):
    # Citra of Billing never could see Rina: erasure tells her nothing either
    citra = sign_in_as(world, "citra")
    for resp in (citra.get(f"/api/conversations/{rina['conversation']}"),
                 citra.get(f"/api/media/{rina['media']}"),
                 citra.get(f"/api/customers/{rina['customer']}"),
                 citra.post(f"/api/messages/{rina['message']}/reveal",
                            {"reason": "pelanggan minta ditelepon"})):
        assert resp.status_code == 404

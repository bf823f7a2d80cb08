"""Two records of one person: a number change waits, then an administrator merges them."""

from __future__ import annotations

from appliance.auth.permissions import BOX_ADMIN
from appliance.inbox.customers import find_by_phone
from appliance.inbox.messages import read_conversation
from appliance.inbox.number_change import merge, pending_merges
from appliance.store.models import Conversation, Customer
from tests.web.conftest import sign_in_as


def test_a_merge_moves_the_other_records_conversations_and_closes_it(world):
    # Given Budi asked for Siti's number to be one that another record (Tono's) holds
    budi = sign_in_as(world, "budi")
    siti, tono = world.customers["sales"], world.customers["billing"]
    asked = budi.post(f"/api/customers/{siti}/phone",
                      {"phone": "0813-3333-3333", "reason": "satu orang, dua nomor"})
    assert asked.status_code == 202
    [waiting] = pending_merges(BOX_ADMIN)
    assert (waiting.customer_id, waiting.other_id) == (siti, tono)

    # When the administrator merges them on the box
    assert merge(world.rt, BOX_ADMIN, waiting.change_id) == tono

    # Then Tono's conversation is Siti's, still readable, and the number is hers
    convo = world.conversations["billing"]
    assert Conversation.get_by_id(convo).customer_id == siti
    bodies = [line.body for line in read_conversation(world.rt, convo, actor="user:1")]
    assert "Tagihan ganda" in bodies
    assert find_by_phone(world.rt, "+6281333333333") == siti
    assert Customer.get_by_id(tono).erased_at is not None
    assert pending_merges(BOX_ADMIN) == []

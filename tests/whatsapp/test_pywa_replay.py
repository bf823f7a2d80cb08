"""Webhook samples nobody here wrote go through the real listener and land right.

The samples are pywa's (MIT) and the examples of Meta's documentation. Each is signed
with the test app secret, POSTed over TLS to the gunicorn webhook
listener, then processed; the rows it must produce are worked out from the sample itself
by a walk independent of Gembok's parser: every message of every change becomes one
inbound message of its type, every status waits for its (unknown) outbound message.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from appliance.inbox import ingest
from appliance.inbox.customers import changed_number
from appliance.keys.customer_keys import customer_keys
from appliance.runtime import open_runtime
from appliance.store.db import db
from appliance.store.models import (
    Conversation,
    Customer,
    InboxEvent,
    Message,
    NumberHealth,
    PendingStatus,
)
from appliance.store.sealed import open_text
from appliance.whatsapp import numbers
from appliance.whatsapp.webhook_parse import InboundMessage, parse
from tests.whatsapp.conftest import FIXTURES, fixture_cases
from tests.whatsapp.harness import Appliance

pytestmark = pytest.mark.slow
META = Path(__file__).resolve().parents[1] / "data" / "meta-examples"
CASES = [(path.name, case) for path in sorted(FIXTURES.glob("*.json"))
         for case in fixture_cases(path.name)]
CASES += [(f"meta/{path.name}", "example") for path in sorted(META.glob("*.json"))]
HEALTH = {("account_update.json", "account_offboarded"): "DISCONNECTED",
          ("account_update.json", "partner_removed"): "DISCONNECTED",
          ("meta/account_update_reinstated.json", "example"): "CONNECTED",
          ("meta/account_update_restriction.json", "example"): "RESTRICTED"}


PNID = re.compile(r'"phone_number_id": "([0-9]+)"')


def sample(name: str, case: str) -> dict:
    if name.startswith("meta/"):
        return json.loads((META / name[5:]).read_text())
    return fixture_cases(name)[case]


@pytest.fixture(scope="module")
def listener(tmp_path_factory):
    box = Appliance(tmp_path_factory.mktemp("replay"))
    box.start("webhook")
    rt = open_runtime(box.settings)
    # The samples were written to other businesses' numbers: this box serves them all
    # (one app, one token), as a business with several numbers does
    named = {pnid for name, case in CASES for pnid in PNID.findall(json.dumps(sample(name, case)))}
    for pnid in sorted(named - {n.phone_number_id for n in numbers.all_numbers(rt)}):
        numbers.add(rt, phone_number_id=pnid, label=f"Sample {pnid}", actor="system")
    yield box, rt
    db.close()
    box.close()


def expected(body: dict) -> tuple[dict[str, dict], set[tuple[str, str]]]:
    """The inbound messages (by wamid) and statuses a sample holds, read without our parser."""
    messages: dict[str, dict] = {}
    statuses: set[tuple[str, str]] = set()
    for entry in body["entry"]:
        for change in entry["changes"]:
            if change["field"] != "messages":
                continue
            for message in change["value"].get("messages", []):
                if message.get("from") or message.get("from_user_id"):
                    messages.setdefault(message["id"], message)
            for status in change["value"].get("statuses", []):
                statuses.add((status["id"], status["status"]))
    return messages, statuses


def parse_one(raw: dict) -> InboundMessage:
    """The message as our parser reads it (for rules that look at its meaning)."""
    body = {"object": "whatsapp_business_account", "entry": [{"changes": [{
        "field": "messages", "value": {"messages": [raw]}}]}]}
    return parse(json.dumps(body).encode()).messages[0]


def forget_everything() -> None:
    """Two samples may be the same body: its digest would make the second a replay."""
    for model in (InboxEvent, PendingStatus, NumberHealth, Message, Conversation, Customer):
        model.delete().execute()


@pytest.mark.parametrize(("name", "case"), CASES, ids=[f"{n[:-5]}-{c}" for n, c in CASES])
def test_a_pywa_sample_produces_the_rows_it_must(listener, name, case):
    box, rt = listener
    body = sample(name, case)
    forget_everything()
    # When Meta (here: the sample, signed) posts it to the listener
    assert box.post(body) == 200
    event = InboxEvent.select().order_by(InboxEvent.id.desc()).get()
    ingest.process_event(rt, event.id)
    # Then the event is done and holds exactly the rows the sample implies
    assert InboxEvent.get_by_id(event.id).state == "done"
    messages, statuses = expected(body)
    stored = {m.wamid: m for m in Message.select()}
    assert set(stored) == set(messages)
    for wamid, raw in messages.items():
        row = stored[wamid]
        kind = "number_changed" if changed_number(parse_one(raw)) else raw["type"]
        assert (row.direction, row.kind) == ("in", kind)  # a number change names no number
        if raw["type"] == "text":
            customer = Customer.get_by_id(Conversation.get_by_id(row.conversation_id).customer_id)
            keys = customer_keys(rt.master, customer.id)
            assert open_text(keys, Message, "body", row.id, row.body_sealed) == \
                raw["text"]["body"]
    assert {(p.wamid, p.status) for p in PendingStatus.select()} == statuses
    if (name, case) in HEALTH:
        assert NumberHealth.select().order_by(NumberHealth.id.desc()).get().status == \
            HEALTH[(name, case)]


def test_every_sample_file_was_replayed():
    assert {name for name, _ in CASES} >= {"message.json", "message_status.json",
                                           "account_update.json", "callback_button.json"}
    assert len(CASES) > 80

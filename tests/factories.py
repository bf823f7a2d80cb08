"""Factories that write through the services, as the appliance itself would.

A customer's message enters as it does on the box: a signed-off webhook body, stored as a
raw event and applied by the ingest (issue 12), so that tests see the rows the product
writes (division routing, the window, search tokens), not a shortcut's.
"""

from __future__ import annotations

import json
import time

from appliance.inbox import ingest
from appliance.inbox.customers import create_customer, customer_record
from appliance.runtime import Runtime
from appliance.store.models import Customer, Message
from appliance.whatsapp.webhook_events import store
from tests.whatsapp.conftest import text_message


def make_customer(rt: Runtime, name: str = "Siti Rahayu", phone: str | None = "+62 812-3456-7890",
                  wa_user_id: str | None = None) -> int:
    return create_customer(rt, name=name, phone=phone, wa_user_id=wa_user_id, actor="system")


def deliver_text(rt: Runtime, *, wamid: str, body: str, wa_id: str | None,
                 user_id: str | None = None, name: str = "Siti Rahayu") -> int:
    """A customer's text as Meta posts it, stored and applied; the new message's id."""
    event = text_message(wamid, body=body, wa_id=wa_id, user_id=user_id, name=name,
                         timestamp=str(int(time.time())))
    ingest.process_event(rt, store(rt.keyring.system, json.dumps(event).encode()))
    return int(Message.get(Message.wamid == wamid).id)


def make_inbound(rt: Runtime, customer_id: int, body: str = "Halo, pesanan saya belum sampai",
                 wamid: str | None = None) -> int:
    """A message from a customer the box knows, through the webhook path."""
    wamid = wamid or f"wamid.TEST{customer_id}x{abs(hash(body)) % 10**9}"
    who = customer_record(rt, Customer.get_by_id(customer_id))
    return deliver_text(rt, wamid=wamid, body=body, name=who.name or "",
                        wa_id=who.phone.lstrip("+") if who.phone else None,
                        user_id=who.wa_user_id)


def deliver_choice(rt: Runtime, *, wamid: str, reply_id: str, title: str, wa_id: str,
                   kind: str = "list_reply") -> int:
    """A customer's tap on a list row or a reply button, as Meta posts it, applied."""
    event = text_message(wamid, wa_id=wa_id, user_id=None, timestamp=str(int(time.time())))
    message = event["entry"][0]["changes"][0]["value"]["messages"][0]
    del message["text"]
    message["type"] = "interactive"
    message["interactive"] = {"type": kind, kind: {"id": reply_id, "title": title}}
    ingest.process_event(rt, store(rt.keyring.system, json.dumps(event).encode()))
    return int(Message.get(Message.wamid == wamid).id)

"""Provides signed, WhatsApp-shaped webhook bodies for wrk (`wrk_bodies.lua` cycles them).

Customer `n` has the same phone, business-scoped id and name in every workload, so the
customers that the first-contacts run makes are the known customers of the daily mix.
A file holds more bodies than wrk can send in its run: a body sent twice would be a
replay, acknowledged but not stored, and every acknowledged event must be a row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from appliance.whatsapp.signature import sign

SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "106540352242922"
TEXT = "Halo kak, pesanan nomor {n} belum sampai. " * 4


def customer(n: int) -> tuple[str, str, str]:
    """Phone (`wa_id`), business-scoped user id and profile name of customer `n`."""
    return f"62813{n:08d}", f"ID.{n:012d}", f"Pelanggan {n}"


def _value(**fields: Any) -> dict[str, Any]:
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398",
            "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "6281100000000",
                             "phone_number_id": PHONE_NUMBER_ID}, **fields}}]}]}


def messages(pairs: Iterable[tuple[int, int]]) -> dict[str, Any]:
    """One POST of text messages: (message number, customer number) each."""
    contacts, items = [], []
    for n, who in pairs:
        phone, user_id, name = customer(who)
        contacts.append({"profile": {"name": name}, "wa_id": phone, "user_id": user_id})
        items.append({"from": phone, "from_user_id": user_id, "id": f"wamid.B{n:010d}",
                      "timestamp": str(1764000000 + n % 1000000), "type": "text",
                      "text": {"body": TEXT.format(n=n)}})
    return _value(contacts=contacts, messages=items)


def status(wamid: str, state: str, n: int) -> dict[str, Any]:
    return _value(statuses=[{"id": wamid, "status": state,
                             "timestamp": str(1764000000 + n % 1000000),
                             "recipient_id": "6281200000000"}])


def write(path: Path, count: int, body: Callable[[int], dict[str, Any]]) -> int:
    """`count` bodies as "signature<TAB>body" lines; returns the size of the last one."""
    raw = b""
    with path.open("wb") as out:
        for i in range(count):
            raw = json.dumps(body(i), separators=(",", ":")).encode()
            out.write(sign(SECRET, raw).encode() + b"\t" + raw + b"\n")
    return len(raw)


def single(known: int, start: int = 0) -> Callable[[int], dict[str, Any]]:
    """One message per POST from `known` customers."""
    return lambda i: messages([(start + i, (start + i) % known)])


def batched(per_post: int, known: int, start: int) -> Callable[[int], dict[str, Any]]:
    """`per_post` messages per POST, as Meta batches them."""
    return lambda i: messages([(start + i * per_post + k, (start + i * per_post + k) % known)
                               for k in range(per_post)])


def first_contacts(start: int) -> Callable[[int], dict[str, Any]]:
    """Each POST from a customer never seen before: `start`, `start + 1`, ..."""
    return lambda i: messages([(start + i, start + i)])


def daily_mix(known: int, outbound: list[str], start: int) -> Callable[[int], dict[str, Any]]:
    """Meta's top tier as it comes: each inbound message from a known customer with the
    three statuses (sent, delivered, read) of a message the business sent."""
    def body(i: int) -> dict[str, Any]:
        n = start + i
        if i % 4 == 0:
            return messages([(n, n % known)])
        return status(outbound[(i // 4) % len(outbound)], ("sent", "delivered", "read")[i % 4 - 1],
                      n)

    return body

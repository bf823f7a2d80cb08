"""Factories that write through the services, as the appliance itself would."""

from __future__ import annotations

from appliance.inbox.customers import create_customer
from appliance.inbox.messages import record_inbound_text
from appliance.runtime import Runtime


def make_customer(rt: Runtime, name: str = "Siti Rahayu", phone: str | None = "+62 812-3456-7890",
                  wa_user_id: str | None = None) -> int:
    return create_customer(rt, name=name, phone=phone, wa_user_id=wa_user_id, actor="system")


def make_inbound(rt: Runtime, customer_id: int, body: str = "Halo, pesanan saya belum sampai",
                 wamid: str | None = None) -> int:
    wamid = wamid or f"wamid.TEST{customer_id}x{abs(hash(body)) % 10**9}"
    return record_inbound_text(rt, customer_id=customer_id, body=body, wamid=wamid)

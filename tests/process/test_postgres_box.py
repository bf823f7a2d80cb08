"""The whole appliance on PostgreSQL as `gembok run` runs it (issue 16): the simulator's
signed webhook reaches the listener, the inbox writer stores it on the server, a forked
worker applies it, an agent reads it decrypted and her reply reaches the phone; then the
DPO erases the customer, and no key on the box opens what she wrote in any table of the
server, nor does any cell hold it in clear.
"""

from __future__ import annotations

from appliance.store.db import db
from appliance.store.models import InboxEvent
from tests.keys_on_the_box import leaks
from tests.process.conftest import Office
from tests.running import eventually

OFFICE_STORE = "postgres"
PHONE = "6281377005678"
NAME = "Dewi Lestari Canary"
TEXT = "Halo, paket saya ke Jl. Kenanga Canary belum sampai"


def test_a_message_travels_the_box_on_postgres_and_erasure_leaves_nothing_to_open(
        office: Office) -> None:
    # Given Rina of Sales, on a box whose store is a PostgreSQL server
    office.division("Sales")
    rina = office.staff("rina", "Sales")
    # When Dewi writes
    convo = office.customer_writes(PHONE, NAME, TEXT)
    # Then Rina reads her message as Dewi wrote it, and the raw webhook is gone once applied
    thread = rina.get(f"/api/conversations/{convo}").json()
    assert thread["messages"][0]["text"] == TEXT
    customer = thread["conversation"]["customer_id"]
    db.close()
    assert all(e.body_sealed is None for e in InboxEvent.select()
               .where(InboxEvent.state == "done"))
    # And Rina's reply reaches Dewi's phone
    assert rina.post(f"/api/conversations/{convo}/reply",
                     {"text": "Kami cek dulu, Kak"}).status_code == 202

    def answered() -> list[dict]:
        """the reply reached her phone"""
        inbox = office.sim.get(f"/_sim/customers/{PHONE}/inbox").json()["messages"]
        return [m for m in inbox if m["message"].get("body") == "Kami cek dulu, Kak"]

    eventually(answered, timeout=30)
    canaries = [NAME.encode(), b"Kenanga Canary", PHONE.encode()]
    settings = office.settings
    db.close()
    assert leaks(settings.data_dir, settings.master_key_path, canaries,
                 settings.store.url) == sorted(c.decode() for c in canaries)

    # When the DPO erases her
    office.cli("customer", "erase", str(customer), "--yes")

    # Then no key on the box opens any of it on the server, and no cell holds it in clear
    assert leaks(settings.data_dir, settings.master_key_path, canaries,
                 settings.store.url) == []
    # And the box's own backup says that backups of this store are the operator's
    refused = office.cli("backup", "create", check=False)
    assert refused.returncode != 0 and "pg_dump" in refused.stdout + refused.stderr

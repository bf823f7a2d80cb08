"""Provides the quick start's demo: an office of three divisions and customers writing in.

`gembok run --demo` on a fresh data dir makes Sales, Billing and Support with an agent
each (their one-time passwords are printed), then simulated customers write to the
business through the Cloud API simulator, as real ones would through Meta, so that a
newcomer sees the Chatroom work within a minute. Nothing here is needed in production.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from appliance.auth.permissions import BOX_ADMIN
from appliance.auth.users import create_user
from appliance.inbox import changes
from appliance.inbox.customers import whatsapp_e164
from appliance.inbox.divisions import create_division
from appliance.runtime import Runtime
from appliance.store.db import close_connection, db
from appliance.store.models import Conversation, Customer, Division, User
from simulator.access import control_headers

log = logging.getLogger(__name__)
DIVISIONS = ("Sales", "Billing", "Support")
AGENTS = (("sinta", "Sinta (Sales)", "Sales"), ("bayu", "Bayu (Billing)", "Billing"),
          ("rahmat", "Rahmat (Support)", "Support"))


@dataclass(frozen=True)
class DemoCustomer:
    name: str
    phone: str
    division: str
    lines: tuple[str, ...]


CUSTOMERS = (
    DemoCustomer("Siti Rahayu", "+6281234500001", "Sales",
                 ("Halo kak, sepatu yang hitam ukuran 40 masih ada?",
                  "Kalau ambil dua bisa diskon?")),
    DemoCustomer("Budi Santoso", "+6281234500002", "Billing",
                 ("Selamat siang, tagihan saya bulan ini dobel.",
                  "Sudah transfer ke BCA 1234567890 kemarin.")),
    DemoCustomer("Dewi Lestari", "+6281234500003", "Support",
                 ("Paket saya belum sampai, resi JNE00123456.",)),
    DemoCustomer("Agus Pratama", "+6281234500004", "Sales",
                 ("Ada promo untuk pembelian grosir?",)),
    DemoCustomer("Rina Wijaya", "+6281234500005", "Support",
                 ("Aplikasinya minta kode OTP 482913, benar dari toko ini?",)),
)


def seed(rt: Runtime) -> list[tuple[str, str]]:
    """Divisions and agents for the demo; only on a box that has none. Returns (name, OTP)."""
    if Division.select().exists():
        return []
    ids = {name: create_division(rt, BOX_ADMIN, name) for name in DIVISIONS}
    made = []
    for username, display, division in AGENTS:
        if User.select().where(User.username == username).exists():
            continue
        _, password = create_user(rt, username=username, display_name=display, role="agent",
                                  actor="cli", principal=BOX_ADMIN, divisions=[ids[division]])
        made.append((username, password))
    return made


class CustomersWriting(threading.Thread):
    """Simulated customers writing in, a message every few seconds, for a couple of minutes."""

    def __init__(self, rt: Runtime, simulator_url: str, stopping: Callable[[], bool],
                 pace: float = 4.0) -> None:
        super().__init__(name="demo-customers", daemon=True)
        self.rt, self.url, self.stopping, self.pace = rt, simulator_url, stopping, pace

    def run(self) -> None:
        try:
            headers = control_headers(self.rt.settings.data_dir)  # the control API's token
            with httpx.Client(base_url=self.url, headers=headers, timeout=10) as sim:
                self._write(sim)
        except Exception:  # a demo must never take the appliance down with it
            log.exception("the demo customers stopped")
        finally:
            close_connection()

    def _write(self, sim: httpx.Client) -> None:
        for customer in CUSTOMERS:
            made = sim.post("/_sim/customers", json={"phone": customer.phone,
                                                     "name": customer.name})
            if made.status_code != 409:  # 409: there already, from an earlier demo
                made.raise_for_status()
        turns = [(c, line) for i in range(3) for c in CUSTOMERS if i < len(c.lines)
                 for line in (c.lines[i],)]
        for customer, line in turns:
            if self.stopping():
                return
            sim.post(f"/_sim/customers/{customer.phone.lstrip('+')}/messages",
                     json={"type": "text", "text": {"body": line}})
            self._route(customer)
            time.sleep(self.pace)

    def _route(self, customer: DemoCustomer, wait: float = 10.0) -> None:
        """Puts the customer's conversation in its division (Auto Reply will do this later)."""
        deadline = time.monotonic() + wait
        index = self.rt.index("phone", whatsapp_e164(customer.phone))
        while time.monotonic() < deadline and not self.stopping():
            row = (Conversation.select().join(Customer).where(Customer.phone_index == index)
                   .order_by(Conversation.id.desc()).first())
            division = Division.get_or_none(Division.name == customer.division)
            if row is not None and division is not None:
                if row.division_id != division.id:
                    with db.atomic():
                        Conversation.update(division=division.id).where(
                            Conversation.id == row.id).execute()
                        changes.record(row.id, "transferred")
                return
            close_connection()
            time.sleep(0.3)

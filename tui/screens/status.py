"""Provides the Status screen: services, queues, the number's health, disk, backups, audit."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Static

from appliance.status import BoxStatus, gather
from tui.messages import Loaded
from tui.screens.base import AdminScreen, cells, own_connection

REFRESH_SECONDS = 5.0


class StatusScreen(AdminScreen):
    NAME = "Status"
    BINDINGS = [Binding("r", "refresh", "Refresh")]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static("Reading the box...", id="summary", markup=False)
            yield DataTable(id="services", cursor_type="none")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#services", DataTable).add_columns("service", "state", "detail")
        self.action_refresh()
        self.set_interval(REFRESH_SECONDS, self.reload)

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    @own_connection
    def load(self) -> None:
        self.post_message(Loaded(gather(self.rt)))

    def on_loaded(self, message: Loaded) -> None:
        s: BoxStatus = message.payload
        queues = ", ".join(f"{q} {n}" for q, n in s.queues.items()) or "unknown (Redis down)"
        audit = s.audit if s.audit_ok else f"BROKEN: {s.audit}"
        self.query_one("#summary", Static).update(
            f"WhatsApp number: {s.number}\n"
            f"Queues: {queues}\n"
            f"Webhook events waiting: {s.events_waiting}\n"
            f"Data dir: {s.disk_used_mb:.0f} MB used, {s.disk_free_gb:.1f} GB free\n"
            f"Last backup: {s.last_backup}\n"
            f"TLS certificate: {s.certificate}\n"
            f"Audit chain: {audit}"
            + "".join(f"\nBroadcast: {line}" for line in s.campaigns)
            + "".join(f"\nData-subject request {line}" for line in s.requests))
        table = self.query_one("#services", DataTable)
        table.clear()
        for service in s.services:
            table.add_row(*cells(service.name, "up" if service.up else "DOWN", service.detail))

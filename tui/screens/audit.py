"""Provides the Audit screen: the log newest first, filters, verification, signed export."""

from __future__ import annotations

from datetime import UTC, datetime

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Input, Static

from appliance.audit.export import Filter, export, listing, read_filter
from appliance.audit.verify import verify
from tui.messages import Done, Loaded
from tui.screens.base import AdminScreen, cells, own_connection


class AuditScreen(AdminScreen):
    NAME = "Audit"
    AUTO_FOCUS = "#entries"
    BINDINGS = [Binding("v", "verify", "Verify chain"), Binding("e", "export", "Export"),
                Binding("f", "focus_filter", "Filter"), Binding("escape", "focus_log",
                                                                "Back to log", show=False)]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            with Horizontal(classes="filters"):
                yield Input(id="actor", placeholder="actor: user:3")
                yield Input(id="action", placeholder="action: customer.")
                yield Input(id="target", placeholder="customer id")
                yield Input(id="since", placeholder="since 2026-11-01")
                yield Input(id="until", placeholder="until 2026-11-30")
            yield Static("v verifies the whole chain; e exports what the filter shows, signed.",
                         id="verdict", markup=False)
            yield DataTable(id="entries", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#entries", DataTable).add_columns("#", "time (UTC)", "actor", "action",
                                                          "target")
        self.load()

    def _filter(self) -> Filter:
        return read_filter(*(self.query_one(f"#{name}", Input).value
                             for name in ("actor", "action", "target", "since", "until")))

    def on_input_submitted(self, _: Input.Submitted) -> None:
        self.load()
        self.query_one("#entries", DataTable).focus()

    def action_focus_filter(self) -> None:
        self.query_one("#actor", Input).focus()

    def action_focus_log(self) -> None:
        self.query_one("#entries", DataTable).focus()

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    @own_connection
    def load(self) -> None:
        self.post_message(Loaded(listing(self.principal, self._filter())))

    def on_loaded(self, message: Loaded) -> None:
        table = self.query_one("#entries", DataTable)
        table.clear()
        for e in message.payload:
            table.add_row(*cells(e.seq, e.at[:19].replace("T", " "), e.actor, e.action, e.target))

    def action_verify(self) -> None:
        self.query_one("#verdict", Static).update("Verifying the whole chain...")
        self.check()

    @work(thread=True, exclusive=True, group="verify", exit_on_error=False)
    @own_connection
    def check(self) -> None:
        verdict = verify(self.rt.keyring.audit_key, self.rt.settings.audit_head_file)
        text = ("Chain OK: " if verdict.ok else "Chain BROKEN: ") + verdict.summary
        self.app.call_from_thread(self.query_one("#verdict", Static).update, text)

    def action_export(self) -> None:
        self.save()

    @work(thread=True, exit_on_error=False)
    @own_connection
    def save(self) -> None:
        folder = self.rt.settings.data_dir / "exports"
        folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / f"audit-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.jsonl"
        count = export(self.rt, self.principal, self._filter(), path)
        self.post_message(Done(f"{count} entries, signed with the audit key, in\n{path}\n\n"
                               "Check it elsewhere with `gembok audit verify-export FILE`.",
                               title="Exported"))

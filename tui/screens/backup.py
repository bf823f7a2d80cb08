"""Provides the Backup screen: backups on the box, a backup now, a restore with a dry run."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Static

from appliance import recovery
from appliance.store.backup import list_backups
from tui.dialogs.confirm import ConfirmDialog
from tui.messages import Done, Loaded
from tui.screens.base import AdminScreen, cells, if_given, own_connection


class BackupScreen(AdminScreen):
    NAME = "Backup"
    BINDINGS = [Binding("b", "backup", "Backup now"), Binding("r", "restore", "Restore")]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static("Backups hold the encrypted database and the keyring, never the "
                         "master key. A restore needs the appliance stopped.")
            yield DataTable(id="backups", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#backups", DataTable).add_columns("backup", "size")
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    @own_connection
    def load(self) -> None:
        rows = [(p, sum(f.stat().st_size for f in p.iterdir()))
                for p in list_backups(self.rt.settings)]
        self.post_message(Loaded(rows))

    def on_loaded(self, message: Loaded) -> None:
        table = self.query_one("#backups", DataTable)
        table.clear()
        for path, size in message.payload:
            table.add_row(*cells(path.name, f"{size / 2**20:.1f} MB"), key=str(path))

    def action_backup(self) -> None:
        self.backup()

    @work(thread=True, exit_on_error=False)
    @own_connection
    def backup(self) -> None:
        folder = recovery.create(self.rt, self.principal)
        self.post_message(Done(f"Backup written to {folder}", title="Backup done"))

    def action_restore(self) -> None:
        table = self.query_one("#backups", DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self.dry_run(Path(str(key)))

    @work(thread=True, exit_on_error=False)
    @own_connection
    def dry_run(self, folder: Path) -> None:
        info = recovery.dry_run(self.rt.settings, folder)
        question = (f"Restore the backup of {info.created}?\n\nIt brings back "
                    f"{info.customers:,} customers and {info.messages:,} messages (audit up to "
                    f"#{info.audit_seq}), and erases again {len(info.re_erase)} customer(s) "
                    "erased since. The current files are kept aside. The appliance must be "
                    "stopped.")
        self.app.call_from_thread(
            self.app.push_screen, ConfirmDialog(question, word="RESTORE", action="Restore"),
            if_given(lambda _: self.restore(folder)))

    @work(thread=True, exclusive=True, group="job", exit_on_error=False)
    @own_connection
    def restore(self, folder: Path) -> None:
        self.app.maintenance = True  # type: ignore[attr-defined]
        try:
            report = recovery.restore(self.rt.settings, folder, principal=self.principal)
        finally:
            self.app.reopen()  # type: ignore[attr-defined]  # the backup's keyring
            self.app.maintenance = False  # type: ignore[attr-defined]
        self.post_message(Done(f"Restored; {len(report.re_erased)} customer(s) erased again.\n"
                               f"The replaced files are in {report.set_aside}.",
                               title="Restored"))

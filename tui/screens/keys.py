"""Provides the Keys screen: each key and what it protects; rotations with their progress."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, ProgressBar, Static

from appliance.keys import data_rotation
from appliance.keys.db_rekey import rekey_database
from appliance.keys.key_status import describe_keys
from appliance.keys.master_rotation import rotate_master
from appliance.keys.rotation_handoff import hand_off
from tui.dialogs.confirm import ConfirmDialog
from tui.messages import Done, Loaded
from tui.screens.base import AdminScreen, cells, if_given, own_connection

REKEY_PLAN = (
    "Rekey the database: the whole file is re-encrypted under a new database key.\n\n"
    "The appliance must be stopped first (`systemctl stop gembok.target`, or Ctrl-C on "
    "`gembok run`); make a backup before. The new key joins the keyring, then the file "
    "is re-encrypted in place, then the old key is dropped. A crash at any point leaves "
    "a file that opens; running the rekey again finishes it.")


class KeysScreen(AdminScreen):
    NAME = "Keys"
    BINDINGS = [
        Binding("m", "rotate_master", "Rotate master"),
        Binding("d", "rotate_data", "Rotate data keys"),
        Binding("z", "pause", "Pause/resume"),
        Binding("k", "rekey_database", "Rekey database"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield DataTable(id="keys", cursor_type="none")
            yield Static("No data-key rotation has run.", id="job", markup=False)
            yield ProgressBar(id="progress", total=100, show_eta=False, classes="hidden")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#keys", DataTable).add_columns("key", "version", "age", "protects")
        self.load()
        self.set_interval(2.0, self.reload)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    @own_connection
    def load(self) -> None:
        self.post_message(Loaded((describe_keys(self.rt), data_rotation.progress())))

    def on_loaded(self, message: Loaded) -> None:
        rows, job = message.payload
        table = self.query_one("#keys", DataTable)
        table.clear()
        for row in rows:
            table.add_row(*cells(row.name, row.version, row.age, row.protects))
        if job is None:
            return
        left = f", about {job.seconds_left:.0f} s left" if job.seconds_left else ""
        self.query_one("#job", Static).update(
            f"Data-key rotation {job.job_id}: {job.state}, step {job.step}, "
            f"{job.rows_done:,}/{job.rows_total:,} rows at {job.rate:,.0f} rows/s{left}")
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=max(job.rows_total, 1), progress=job.rows_done)
        bar.set_class(job.state == "done", "hidden")

    def action_rotate_master(self) -> None:
        self.app.push_screen(ConfirmDialog(
            "Rotate the master key? Every key is re-wrapped; older backups will need the old "
            "master key, so make a new backup afterwards.", action="Rotate"),
            if_given(lambda _: self.rotate_master()))

    @work(thread=True, exclusive=True, group="job", exit_on_error=False)
    @own_connection
    def rotate_master(self) -> None:
        report = rotate_master(self.rt, principal=self.principal)
        self.post_message(Done(f"New master key {report.new_master_id}: "
                               f"{report.customer_keys} customer keys re-wrapped in "
                               f"{report.seconds:.2f} s.", title="Master key rotated"))

    def action_rotate_data(self) -> None:
        self.app.push_screen(ConfirmDialog(
            "Give every customer a new data key and re-seal every row in the background? "
            "The appliance keeps serving; z pauses.", action="Start"),
            if_given(lambda _: self.rotate_data()))

    @work(thread=True, exclusive=True, group="job", exit_on_error=False)
    @own_connection
    def rotate_data(self, job_id: int | None = None) -> None:
        """The worker does the job, as with `gembok keys rotate-data`; without Redis, here."""
        job = job_id if job_id is not None else data_rotation.start(self.rt,
                                                                       principal=self.principal)
        where = hand_off(self.rt, self.app.queue, job,  # type: ignore[attr-defined]
                         here_if_silent=True, budget_seconds=1.0)
        progress = data_rotation.progress(job)
        if where != "here" or progress is None or progress.state != "done":
            return  # the worker has it (the progress bar follows it), or it was paused
        self.post_message(Done("Every row is re-sealed; the old data keys are destroyed.",
                               title="Data keys rotated"))

    def action_pause(self) -> None:
        job = data_rotation.progress()
        if job is not None and job.state in ("running", "paused"):
            self.toggle_pause(job.job_id, job.state == "running")

    @work(thread=True, exit_on_error=False)
    @own_connection
    def toggle_pause(self, job_id: int, pause: bool) -> None:
        data_rotation.set_paused(self.rt, job_id, pause, principal=self.principal)
        if not pause:
            self.app.call_from_thread(self.rotate_data, job_id)

    def action_rekey_database(self) -> None:
        self.app.push_screen(ConfirmDialog(REKEY_PLAN, word="REKEY", action="Rekey"),
                             if_given(lambda _: self.rekey()))

    @work(thread=True, exclusive=True, group="job", exit_on_error=False)
    @own_connection
    def rekey(self) -> None:
        self.app.maintenance = True  # type: ignore[attr-defined]
        try:
            version = rekey_database(self.rt.settings, principal=self.principal)
        finally:
            self.app.reopen()  # type: ignore[attr-defined]
            self.app.maintenance = False  # type: ignore[attr-defined]
        self.post_message(Done(f"The database is now under key v{version}.",
                               title="Database rekeyed"))

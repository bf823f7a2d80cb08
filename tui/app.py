"""Provides `GembokAdmin`, the Textual app behind `gembok admin`: keyboard first, 80x24 fit."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Iterable

import click
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from appliance.auth.permissions import box_admin
from appliance.config import Settings, load_settings
from appliance.errors import GembokError
from appliance.queue_port import QueuePort
from appliance.runtime import Runtime, open_runtime
from appliance.tasks import queue_port
from tui.screens.audit import AuditScreen
from tui.screens.backup import BackupScreen
from tui.screens.keys import KeysScreen
from tui.screens.people import PeopleScreen
from tui.screens.status import StatusScreen

SCREENS = {"status": StatusScreen, "people": PeopleScreen, "keys": KeysScreen,
           "audit": AuditScreen, "backup": BackupScreen}


class GembokAdmin(App[None]):
    TITLE = "Gembok admin"
    CSS_PATH = ["gembok.tcss"]
    MODES = SCREENS  # type: ignore[assignment]
    BINDINGS = [
        Binding("1", "switch_mode('status')", "Status", show=False),
        Binding("2", "switch_mode('people')", "People", show=False),
        Binding("3", "switch_mode('keys')", "Keys", show=False),
        Binding("4", "switch_mode('audit')", "Audit", show=False),
        Binding("5", "switch_mode('backup')", "Backup", show=False),
        Binding("q", "quit", "Quit", show=False),
    ]

    def __init__(self, settings: Settings, rt: Runtime | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.rt = rt or open_runtime(settings)
        self.maintenance = False  # a rekey or a restore swaps the database: no reads meanwhile
        self._queue: QueuePort | None = None
        self.principal = box_admin(f"tui:{terminal_login()}")

    @property
    def queue(self) -> QueuePort:
        """The box's queue port, built on first use (most sessions never queue anything)."""
        if self._queue is None:
            self._queue = queue_port(self.settings)
        return self._queue

    def reopen(self) -> None:
        """After a rekey or a restore: the database key (and keyring) may have changed."""
        self.rt = open_runtime(self.settings)

    def on_mount(self) -> None:
        self.switch_mode("status")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for name in SCREENS:
            yield SystemCommand(f"Go to {name.title()}", f"Open the {name} screen",
                                lambda name=name: self.switch_mode(name))


def terminal_login() -> str:
    """Who sits at the terminal: the login `sudo` was run from, else this process's user
    (a name useradd would not make is not trusted into the audit: "unknown")."""
    login = os.environ.get("SUDO_USER") or getpass.getuser()
    return login if re.fullmatch(r"[a-z_][a-z0-9_.-]{0,31}", login) else "unknown"


@click.command()
def admin_command() -> None:
    """Open the admin TUI (status, people, keys, audit, backup) in this terminal."""
    try:
        settings = load_settings()
        GembokAdmin(settings).run()
    except GembokError as exc:
        click.echo(f"gembok: {exc}", err=True)
        raise SystemExit(exc.exit_code) from None

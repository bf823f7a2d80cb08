"""Provides `gembok backup`: make, list and restore backups of the database and keyring."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from appliance.cli.shell import cli_settings, one_line_errors, with_runtime

if TYPE_CHECKING:
    from appliance.runtime import Runtime


@click.group()
def backup() -> None:
    """Backups: the encrypted database and keyring (never the master key)."""


@backup.command("create")
@one_line_errors
@with_runtime
def backup_create(rt: Runtime) -> None:
    """Make an online, consistent backup now (the appliance keeps serving)."""
    from appliance import recovery
    from appliance.auth.permissions import BOX_ADMIN

    click.echo(f"backup written to {recovery.create(rt, BOX_ADMIN)}")


@backup.command("list")
@one_line_errors
def backup_list() -> None:
    """Backups in the data dir, newest first."""
    from appliance.store.backup import list_backups

    for folder in list_backups(cli_settings()):
        click.echo(str(folder))


@backup.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would come back, change nothing.")
@one_line_errors
def backup_restore(folder: Path, dry_run: bool) -> None:
    """Restore a backup (appliance stopped); erased customers are erased again."""
    from appliance import recovery
    from appliance.auth.permissions import BOX_ADMIN

    settings = cli_settings()
    info = recovery.dry_run(settings, folder)
    click.echo(f"backup of {info.created} ({info.reason}): {info.customers} customers, "
               f"{info.messages} messages, audit up to #{info.audit_seq}; "
               f"{len(info.re_erase)} erased customer(s) would be erased again")
    if dry_run:
        return
    report = recovery.restore(settings, folder, principal=BOX_ADMIN)
    click.echo(f"restored; the replaced files are in {report.set_aside}; "
               f"{len(report.re_erased)} customer(s) erased again")

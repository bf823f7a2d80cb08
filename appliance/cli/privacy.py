"""Provides `gembok customer` and `gembok audit`: customers' rights, and the proof of who did what.

Erasure and merges change customers' records for good, so both ask first unless told `--yes`;
the audit log is checked and exported for an auditor from the box.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from appliance.cli.shell import one_line_errors, with_runtime

if TYPE_CHECKING:
    from appliance.runtime import Runtime


@click.group()
def customer() -> None:
    """Customers' rights under UU PDP."""


@customer.command("erase")
@click.argument("customer_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@one_line_errors
def customer_erase(customer_id: int, yes: bool) -> None:
    """Erase a customer's data for good (their key is destroyed; backups too)."""
    if not yes:  # asked before the data dir is opened, as an operator expects
        click.confirm(f"Erase customer {customer_id} for good?", abort=True)
    _erase(customer_id)
    click.echo(f"customer {customer_id} erased (and recorded in the erasure ledger)")


@with_runtime
def _erase(rt: Runtime, customer_id: int) -> None:
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.privacy.erasure import erase_customer

    erase_customer(rt, BOX_ADMIN, customer_id)


@customer.command("reapply-erasures")
@one_line_errors
@with_runtime
def customer_reapply_erasures(rt: Runtime) -> None:
    """Erase again everyone in the erasure ledger a restored store still holds (run it
    after restoring a PostgreSQL store with pg_restore; `gembok restore` does it itself)."""
    from appliance.privacy.erasure import reapply

    again = reapply(rt)
    click.echo(f"{len(again)} customer(s) of the erasure ledger erased again"
               if again else "every customer of the erasure ledger is erased already")


@customer.command("export")
@click.argument("customer_id", type=int)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@one_line_errors
@with_runtime
def customer_export(rt: Runtime, customer_id: int, path: Path) -> None:
    """Write everything held about a customer (UU PDP Pasal 32) as an encrypted ZIP; its
    one-time password is printed once: hand it over apart from the file."""
    import os

    from appliance.auth.permissions import box_admin
    from appliance.privacy.export import build

    if path.exists():
        raise click.ClickException(f"{path} exists: give a new file name (nothing written)")
    done = build(rt, replace(box_admin("cli"), permissions=frozenset({"privacy.manage"})),
                 customer_id)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(done.data)
    click.echo(f"customer {customer_id} exported to {path} ({len(done.data)} bytes, AES-256 "
               f"ZIP{'' if done.pdf else '; no PDF: this box lacks Pango'})")
    click.echo(f"one-time password (shown once, not kept): {done.password}")


@customer.command("merges")
@one_line_errors
@with_runtime
def customer_merges(rt: Runtime) -> None:
    """Number changes waiting for a merge of two customer records (ids only)."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.inbox.number_change import pending_merges

    rows = pending_merges(BOX_ADMIN)
    for row in rows:
        other = f"customer {row.other_id}" if row.other_id else "no other record any more"
        click.echo(f"change {row.change_id}: customer {row.customer_id} asked for the number "
                   f"of {other} (by user {row.asked_by}, {row.at} UTC)")
    if not rows:
        click.echo("no number change waits for a merge")


@customer.command("merge")
@click.argument("change_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@one_line_errors
@with_runtime
def customer_merge(rt: Runtime, change_id: int, yes: bool) -> None:
    """Merge the record that holds a number into the customer who asked for it."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.inbox.number_change import merge

    if not yes:
        click.confirm(f"Merge for change {change_id}? The other record's conversations move "
                      "over and that record is closed for good", abort=True)
    gone = merge(rt, BOX_ADMIN, change_id)
    click.echo(f"change {change_id} done" + (f"; customer {gone} merged into it" if gone
                                               else ""))


@click.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@one_line_errors
@with_runtime
def audit_verify(rt: Runtime) -> None:
    """Check every link of the audit chain and its checkpoint; exit 1 at the first break."""
    from appliance.audit.verify import verify

    verdict = verify(rt.keyring.audit_key, rt.settings.audit_head_file)
    click.echo(verdict.summary)
    sys.exit(0 if verdict.ok else 1)


@audit.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--actor", default="", help="Only this actor (user:3, cli, system).")
@click.option("--action", default="", help="Only actions starting so (customer.read).")
@click.option("--customer", "target", default="", help="Only this customer id (or a target).")
@click.option("--since", default="", help="From this day (2026-11-01).")
@click.option("--until", default="", help="To this day, inclusive (2026-11-30).")
@one_line_errors
@with_runtime
def audit_export(rt: Runtime, path: Path, actor: str, action: str, target: str, since: str,
                 until: str) -> None:
    """Write a period of the log as signed JSON lines, for an auditor."""
    from appliance.audit.export import export, read_filter
    from appliance.auth.permissions import BOX_ADMIN

    count = export(rt, BOX_ADMIN, read_filter(actor, action, target, since, until), path)
    click.echo(f"{count} entries written to {path}, signed with this box's audit key")


@audit.command("verify-export")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@one_line_errors
@with_runtime
def audit_verify_export(rt: Runtime, path: Path) -> None:
    """Check that an export is whole and was signed by this box."""
    from appliance.audit.export import verify_export

    count = verify_export(rt.keyring.audit_key, path)
    click.echo(f"{path}: {count} entries, signature good")

"""Provides `gembok keys`: the key hierarchy's status, and its rotations started from the box.

A data-key rotation runs in batches in the queue worker; `--wait` does them here instead,
which is also the way out when Redis does not answer.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from appliance.cli.shell import cli_settings, one_line_errors, with_runtime

if TYPE_CHECKING:
    from appliance.runtime import Runtime


@click.group()
def keys() -> None:
    """The key hierarchy: status and rotations."""


@keys.command("status")
@one_line_errors
@with_runtime
def keys_status(rt: Runtime) -> None:
    """Each key with its version, age and what it protects."""
    from appliance.keys.data_rotation import progress
    from appliance.keys.key_status import describe_keys

    for row in describe_keys(rt):
        click.echo(f"{row.name:<16} {row.version:<8} {row.age:<12} {row.protects}")
    _echo_progress(progress())


@keys.command("rotate-master")
@one_line_errors
@with_runtime
def keys_rotate_master(rt: Runtime) -> None:
    """Re-wrap every key under a new master key (finishes an interrupted rotation too)."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.keys.master_rotation import rotate_master

    report = rotate_master(rt, principal=BOX_ADMIN)
    click.echo(f"master key rotated to id {report.new_master_id}: {report.customer_keys} "
               f"customer keys and {report.keyring_keys} keyring keys re-wrapped in "
               f"{report.seconds:.2f} s" + (" (an interrupted rotation finished)"
                                            if report.resumed else ""))


@keys.command("rotate-data")
@click.option("--wait", is_flag=True, help="Do all the work here instead of in the worker.")
@one_line_errors
@with_runtime
def keys_rotate_data(rt: Runtime, wait: bool) -> None:
    """Give every customer a new data key and re-seal every row, in the background."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.keys import data_rotation
    from appliance.keys.rotation_handoff import run_here

    job_id = data_rotation.start(rt, principal=BOX_ADMIN)
    if wait:
        run_here(rt, job_id, on_progress=_echo_progress)
        return
    _hand_to_worker(rt, job_id, "started")
    click.echo(f"key job {job_id} started in the worker; follow it with `gembok keys status`")


@keys.command("rekey-database")
@one_line_errors
def keys_rekey_database() -> None:
    """Re-encrypt the whole database file under a new key (appliance stopped)."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.keys.db_rekey import rekey_database

    version = rekey_database(cli_settings(), principal=BOX_ADMIN)
    click.echo(f"the database is now encrypted with database key v{version}")


@keys.command("pause")
@click.argument("job_id", type=int)
@one_line_errors
@with_runtime
def keys_pause(rt: Runtime, job_id: int) -> None:
    """Pause a data-key rotation between two batches."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.keys import data_rotation

    data_rotation.set_paused(rt, job_id, True, principal=BOX_ADMIN)
    click.echo(f"key job {job_id} paused")


@keys.command("resume")
@click.argument("job_id", type=int)
@one_line_errors
@with_runtime
def keys_resume(rt: Runtime, job_id: int) -> None:
    """Resume a paused data-key rotation."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.keys import data_rotation

    data_rotation.set_paused(rt, job_id, False, principal=BOX_ADMIN)
    _hand_to_worker(rt, job_id, "resumed")
    click.echo(f"key job {job_id} resumed")


def _hand_to_worker(rt: Runtime, job_id: int, done: str) -> None:
    """The worker does the batches; with Redis silent, say how to do them here instead."""
    from appliance import tasks
    from appliance.keys.rotation_handoff import hand_off

    if hand_off(rt, tasks.queue_port(rt.settings), job_id, here_if_silent=False) == "nobody":
        click.echo(f"gembok: key job {job_id} is {done} but Redis does not answer, so no "
                   "worker got it: run `gembok keys rotate-data --wait`", err=True)
        sys.exit(1)


def _echo_progress(p: Any) -> None:
    if p is None:
        return
    left = f", about {p.seconds_left:.0f} s left" if p.seconds_left else ""
    click.echo(f"key job {p.job_id}: {p.state}, {p.step}, {p.rows_done}/{p.rows_total} rows "
               f"at {p.rate:.0f} rows/s{left}")

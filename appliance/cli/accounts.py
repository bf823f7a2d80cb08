"""Provides the `gembok` command: thin shells over the services, one clear line on failure."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from appliance import __version__
from appliance.bootstrap import InitReport, initialise
from appliance.config import Settings, load_settings
from appliance.errors import GembokError
from appliance.scheduler import Enqueue

F = TypeVar("F", bound=Callable[..., Any])


def _one_line_errors(func: F) -> F:
    """An operator gets `gembok: <what is wrong and what to do>`, not a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GembokError as exc:
            click.echo(f"gembok: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


def _settings() -> Settings:
    settings = load_settings()
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gembok")
def cli() -> None:
    """Gembok: WhatsApp customer service on your own box, customer data encrypted."""
    os.umask(0o077)  # every file the appliance writes is readable by its owner only


@cli.command()
@_one_line_errors
def version() -> None:
    """Print the version."""
    click.echo(f"gembok {__version__}")


@cli.command()
@_one_line_errors
def init() -> None:
    """Create (or check and migrate) the data dir: keys, database, first admin, certificate."""
    _print_report(initialise(_settings())[1])


@cli.command()
@_one_line_errors
def migrate() -> None:
    """Back up the database, then apply pending schema migrations."""
    report = initialise(_settings())[1]
    _print_report(report)
    if not report.migrated:
        click.echo("schema is current: nothing to migrate")


@cli.command()
@click.option("--demo", is_flag=True,
              help="Fill a fresh data dir with three divisions, their agents and customers "
                   "writing in through the simulator.")
@_one_line_errors
def run(demo: bool) -> None:
    """Run the whole appliance in the foreground (quick start). Ctrl-C stops all of it."""
    from appliance.demo import CustomersWriting, seed
    from appliance.scheduler import Scheduler
    from appliance.supervisor.children import plan
    from appliance.supervisor.ports import check_free
    from appliance.supervisor.run import Supervisor, install_signal_handlers
    from appliance.whatsapp.quickstart import wire_simulator

    settings = _settings()
    for child in plan(settings):  # before anything is created: a taken port changes nothing
        for port in child.ports:
            check_free(port)
    rt, report = initialise(settings)
    _print_report(report)
    wired = wire_simulator(rt)
    if wired:
        click.echo(f"WhatsApp: {wired}")
    if demo:
        for username, password in seed(rt):
            click.echo(f"demo agent {username}: one-time password {password}")
    supervisor = Supervisor(settings, rt, say=lambda line: click.echo(line, err=True),
                            scheduler=Scheduler(rt, _queue_sender(settings)))
    install_signal_handlers(supervisor)
    try:
        ready = supervisor.start()
        if not supervisor.stopping:
            click.echo(f"\nGembok {__version__} is running (data dir {settings.data_dir}), "
                       f"ready in {ready:.1f} s:\n{supervisor.table()}\n"
                       + _phone_line(settings)
                       + ("Demo customers are writing in now. " if demo else
                          "Tip: `gembok run --demo` fills a fresh box with demo data. ")
                       + "Press Ctrl-C to stop.")
            if demo and settings.simulator.enabled:
                CustomersWriting(rt, settings.graph_base_url,
                                 lambda: supervisor.stopping).start()
            supervisor.watch()
    finally:
        supervisor.stop()
    click.echo("gembok: stopped; every process has exited", err=True)


def _phone_line(settings: Settings) -> str:
    """The simulator's customer phone, with its control token in the link's fragment."""
    if not settings.simulator.enabled:
        return ""
    from simulator.access import phone_link
    from simulator.config import SimulatorConfigError

    try:
        return f"A customer's phone (simulator): {phone_link(settings)}\n"
    except SimulatorConfigError as exc:
        return f"A customer's phone (simulator): no link ({exc})\n"


@cli.command()
@_one_line_errors
def worker() -> None:
    """Run a queue worker (a systemd unit in production; `gembok run` starts one)."""
    from appliance import tasks

    settings = _settings()
    tasks.run_worker(settings, ready_file=settings.run_dir / "worker.ready")


@cli.command()
def simulator() -> None:
    """Run the Cloud API simulator alone (`gembok run` starts one); prints its phone link."""
    from simulator.__main__ import main as run_simulator

    run_simulator(announce=True)


@cli.command("inbox-writer")
@_one_line_errors
def inbox_writer() -> None:
    """Run the inbox writer: group commit of webhook events (a unit; `gembok run` starts one)."""
    from appliance.runtime import open_runtime
    from appliance.store.db import connect_raw
    from appliance.store.write_lock import write_lock
    from appliance.whatsapp.event_writer import IdBatcher, serve

    settings = _settings()
    rt = open_runtime(settings)
    enqueue = IdBatcher(_queue_sender(settings).events)
    stop: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))
    serve(settings.inbox_writer_socket,
          lambda: connect_raw(settings.db_file, rt.keyring.database_key),
          on_commit=enqueue, should_stop=lambda: bool(stop),
          lock=lambda: write_lock(settings.db_file))
    enqueue.close()


@cli.command()
@_one_line_errors
def scheduler() -> None:
    """Run the periodic jobs (a systemd unit in production; `gembok run` runs them itself)."""
    from appliance.runtime import open_runtime
    from appliance.scheduler import Scheduler, checkpoint

    settings = _settings()
    rt = open_runtime(settings)
    stop: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))
    try:
        Scheduler(rt, _queue_sender(settings)).run_forever(lambda: bool(stop))
    finally:
        checkpoint(rt)


@cli.command()
@_one_line_errors
def doctor() -> None:
    """Check this box: key file, keys, database, audit chain, Redis, ports, TLS, footprint."""
    from appliance.doctor import run_checks

    results = run_checks(_settings())
    width = max(len(r.name) for r in results)
    for r in results:
        click.echo(f"{r.status:<4}  {r.name:<{width}}  {r.detail}")
    sys.exit(1 if any(r.status == "FAIL" for r in results) else 0)


@cli.group()
def whatsapp() -> None:
    """The Cloud API connection: credentials and status."""


@whatsapp.command("configure")
@_one_line_errors
def whatsapp_configure() -> None:
    """Enter the access token, app secret and verify token (kept sealed in the database)."""
    from appliance.runtime import open_runtime
    from appliance.whatsapp.credentials import SECRET_NAMES, store_secrets

    rt = open_runtime(_settings())
    values = {}
    for name in SECRET_NAMES:
        value = click.prompt(f"{name.replace('_', ' ')} (empty keeps the current one)",
                             default="", show_default=False, hide_input=True)
        if value.strip():
            values[name] = value.strip()
    store_secrets(rt, actor="cli", **values)
    click.echo(f"stored {len(values)} secret(s), sealed; they take effect within 10 seconds")


@whatsapp.command("status")
@_one_line_errors
def whatsapp_status() -> None:
    """Show whether WhatsApp is configured and the number's last known health (no secrets)."""
    from appliance.runtime import open_runtime
    from appliance.whatsapp import health, webhook_events
    from appliance.whatsapp.credentials import load_credentials

    rt = open_runtime(_settings())
    creds = load_credentials(rt)
    click.echo(f"phone number id: {creds.phone_number_id or '(not set)'}")
    for name in ("access_token", "app_secret", "verify_token"):
        click.echo(f"{name.replace('_', ' ')}: {'set' if getattr(creds, name) else 'NOT SET'}")
    click.echo(f"number health: {health.current().describe()}")
    click.echo(f"webhook events waiting: {webhook_events.backlog()}")


@cli.group()
def user() -> None:
    """Staff accounts, for the IT admin on the box (the web admin API does the same)."""


def _rt_and_find(username: str) -> tuple[Any, int]:
    from appliance.auth.login import find_user
    from appliance.runtime import open_runtime

    rt = open_runtime(_settings())
    found = find_user(username)
    if found is None:
        raise GembokError(f"there is no user named {username}: see `gembok user list`")
    return rt, int(found.id)


@user.command("list")
@_one_line_errors
def user_list() -> None:
    """List accounts: name, role, divisions, state."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.auth.users import list_users
    from appliance.runtime import open_runtime

    open_runtime(_settings())
    for u in list_users(BOX_ADMIN):
        state = "active" if u.is_active else "deactivated"
        factor = "2FA" if u.totp_enabled else "no 2FA"
        click.echo(f"{u.username:<20} {u.role:<10} divisions={u.divisions} {state}, {factor}")


@user.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["agent", "supervisor", "admin"]), required=True)
@click.option("--name", "display_name", default="", help="The name colleagues see.")
@click.option("--email", default="", help="For new-device notices.")
@click.option("--division", "division_names", multiple=True, help="Repeat for several.")
@_one_line_errors
def user_create(username: str, role: str, display_name: str, email: str,
                division_names: tuple[str, ...]) -> None:
    """Create an account; prints its one-time password once."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.auth.users import create_user
    from appliance.runtime import open_runtime
    from appliance.store.models import Division

    rt = open_runtime(_settings())
    ids = []
    for name in division_names:
        row = Division.get_or_none(Division.name == name)
        if row is None:
            raise GembokError(f"there is no division named {name}: see `gembok division list`")
        ids.append(row.id)
    made, password = create_user(rt, username=username, display_name=display_name, role=role,
                                 email=email, divisions=ids, actor="cli", principal=BOX_ADMIN)
    click.echo(f"created {made.username} ({role}); one-time password: {password}")


@user.command("reset-password")
@click.argument("username")
@_one_line_errors
def user_reset_password(username: str) -> None:
    """A new one-time password; every session of the user ends."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.auth.users import reset_password

    rt, user_id = _rt_and_find(username)
    click.echo(f"one-time password for {username}: {reset_password(rt, BOX_ADMIN, user_id)}")


@user.command("reset-2fa")
@click.argument("username")
@_one_line_errors
def user_reset_2fa(username: str) -> None:
    """Remove the second factor (lost phone); the user enrols again at the next sign-in."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.auth.users import reset_second_factor

    rt, user_id = _rt_and_find(username)
    reset_second_factor(rt, BOX_ADMIN, user_id)
    click.echo(f"second factor of {username} removed; their sessions ended")


@user.command("deactivate")
@click.argument("username")
@_one_line_errors
def user_deactivate(username: str) -> None:
    """Block the account and end its sessions at once (data stays)."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.auth.users import set_active

    rt, user_id = _rt_and_find(username)
    set_active(rt, BOX_ADMIN, user_id, False)
    click.echo(f"{username} deactivated; their sessions ended")


@user.command("grant-content")
@click.argument("username")
@_one_line_errors
def user_grant_content(username: str) -> None:
    """Let an admin read every division's conversations; every admin is e-mailed."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.auth.users import grant_content
    from appliance.notify.content_granted import send_content_granted_email
    from appliance.notify.email import EmailError

    rt, user_id = _rt_and_find(username)
    grants: list[int] = []
    if not grant_content(rt, BOX_ADMIN, user_id, tell_admins=grants.append):
        click.echo(f"{username} already had content")
        return
    click.echo(f"{username} may now read every division's conversations; their sessions ended")
    try:
        told = send_content_granted_email(rt, grants[0])
    except EmailError as exc:
        click.echo(f"gembok: warning: the admins were not e-mailed: {exc}", err=True)
        return
    click.echo(f"e-mailed the admins: {', '.join(told)}" if told else
               "no admin was e-mailed (no smtp.host, or no admin has an e-mail address)")


@user.command("revoke-content")
@click.argument("username")
@_one_line_errors
def user_revoke_content(username: str) -> None:
    """Take content back from an admin; their sessions end."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.auth.users import revoke_content

    rt, user_id = _rt_and_find(username)
    had = revoke_content(rt, BOX_ADMIN, user_id)
    click.echo(f"{username} no longer has content; their sessions ended" if had else
               f"{username} did not have content")


@cli.group()
def division() -> None:
    """Divisions: the walls between agents' inboxes."""


@division.command("list")
@_one_line_errors
def division_list() -> None:
    """List divisions with their ids and retention."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.inbox.divisions import list_divisions
    from appliance.runtime import open_runtime

    open_runtime(_settings())
    for d in list_divisions(BOX_ADMIN):
        keep = f"{d.retention_days} days" if d.retention_days else "no limit"
        click.echo(f"{d.id:>4}  {d.name:<30} retention: {keep}")


@division.command("create")
@click.argument("name")
@click.option("--retention-days", type=int, default=None)
@_one_line_errors
def division_create(name: str, retention_days: int | None) -> None:
    """Create a division."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.inbox.divisions import create_division
    from appliance.runtime import open_runtime

    rt = open_runtime(_settings())
    click.echo(f"created division {create_division(rt, BOX_ADMIN, name, retention_days)}: "
               f"{name}")


@cli.group()
def keys() -> None:
    """The key hierarchy: status and rotations."""


@keys.command("status")
@_one_line_errors
def keys_status() -> None:
    """Each key with its version, age and what it protects."""
    from appliance.keys.data_rotation import progress
    from appliance.keys.key_status import describe_keys
    from appliance.runtime import open_runtime

    for row in describe_keys(open_runtime(_settings())):
        click.echo(f"{row.name:<16} {row.version:<8} {row.age:<12} {row.protects}")
    _echo_progress(progress())


@keys.command("rotate-master")
@_one_line_errors
def keys_rotate_master() -> None:
    """Re-wrap every key under a new master key (finishes an interrupted rotation too)."""
    from appliance.keys.master_rotation import rotate_master
    from appliance.runtime import open_runtime

    report = rotate_master(open_runtime(_settings()), actor="cli")
    click.echo(f"master key rotated to id {report.new_master_id}: {report.customer_keys} "
               f"customer keys and {report.keyring_keys} keyring keys re-wrapped in "
               f"{report.seconds:.2f} s" + (" (an interrupted rotation finished)"
                                            if report.resumed else ""))


@keys.command("rotate-data")
@click.option("--wait", is_flag=True, help="Do all the work here instead of in the worker.")
@_one_line_errors
def keys_rotate_data(wait: bool) -> None:
    """Give every customer a new data key and re-seal every row, in the background."""
    from appliance.keys import data_rotation
    from appliance.runtime import open_runtime

    settings = _settings()
    rt = open_runtime(settings)
    job_id = data_rotation.start(rt, actor="cli")
    if wait:
        while not data_rotation.run(rt, job_id, budget_seconds=5.0):
            _echo_progress(data_rotation.progress(job_id))
        _echo_progress(data_rotation.progress(job_id))
        return
    _hand_to_worker(settings, job_id, "started")
    click.echo(f"key job {job_id} started in the worker; follow it with `gembok keys status`")


@keys.command("rekey-database")
@_one_line_errors
def keys_rekey_database() -> None:
    """Re-encrypt the whole database file under a new key (appliance stopped)."""
    from appliance.keys.db_rekey import rekey_database

    version = rekey_database(_settings(), actor="cli")
    click.echo(f"the database is now encrypted with database key v{version}")


@keys.command("pause")
@click.argument("job_id", type=int)
@_one_line_errors
def keys_pause(job_id: int) -> None:
    """Pause a data-key rotation between two batches."""
    from appliance.keys import data_rotation
    from appliance.runtime import open_runtime

    data_rotation.set_paused(open_runtime(_settings()), job_id, True, actor="cli")
    click.echo(f"key job {job_id} paused")


@keys.command("resume")
@click.argument("job_id", type=int)
@_one_line_errors
def keys_resume(job_id: int) -> None:
    """Resume a paused data-key rotation."""
    from appliance.keys import data_rotation
    from appliance.runtime import open_runtime

    settings = _settings()
    data_rotation.set_paused(open_runtime(settings), job_id, False, actor="cli")
    _hand_to_worker(settings, job_id, "resumed")
    click.echo(f"key job {job_id} resumed")


def _hand_to_worker(settings: Settings, job_id: int, done: str) -> None:
    """The worker does the batches; with Redis silent, say how to do them here instead."""
    from appliance import tasks

    if not tasks.hand_rotation_to_worker(settings, job_id):
        click.echo(f"gembok: key job {job_id} is {done} but Redis does not answer, so no "
                   "worker got it: run `gembok keys rotate-data --wait`", err=True)
        sys.exit(1)


def _echo_progress(p: Any) -> None:
    if p is None:
        return
    left = f", about {p.seconds_left:.0f} s left" if p.seconds_left else ""
    click.echo(f"key job {p.job_id}: {p.state}, {p.step}, {p.rows_done}/{p.rows_total} rows "
               f"at {p.rate:.0f} rows/s{left}")


@cli.group()
def backup() -> None:
    """Backups: the encrypted database and keyring (never the master key)."""


@backup.command("create")
@_one_line_errors
def backup_create() -> None:
    """Make an online, consistent backup now (the appliance keeps serving)."""
    from appliance import recovery
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.runtime import open_runtime

    click.echo(f"backup written to {recovery.create(open_runtime(_settings()), BOX_ADMIN)}")


@backup.command("list")
@_one_line_errors
def backup_list() -> None:
    """Backups in the data dir, newest first."""
    from appliance.store.backup import list_backups

    for folder in list_backups(_settings()):
        click.echo(str(folder))


@backup.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would come back, change nothing.")
@_one_line_errors
def backup_restore(folder: Path, dry_run: bool) -> None:
    """Restore a backup (appliance stopped); erased customers are erased again."""
    from appliance import recovery

    settings = _settings()
    info = recovery.dry_run(settings, folder)
    click.echo(f"backup of {info.created} ({info.reason}): {info.customers} customers, "
               f"{info.messages} messages, audit up to #{info.audit_seq}; "
               f"{len(info.re_erase)} erased customer(s) would be erased again")
    if dry_run:
        return
    report = recovery.restore(settings, folder, actor="cli")
    click.echo(f"restored; the replaced files are in {report.set_aside}; "
               f"{len(report.re_erased)} customer(s) erased again")


@cli.group()
def customer() -> None:
    """Customers' rights under UU PDP."""


@customer.command("erase")
@click.argument("customer_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_one_line_errors
def customer_erase(customer_id: int, yes: bool) -> None:
    """Erase a customer's data for good (their key is destroyed; backups too)."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.privacy.erasure import erase_customer
    from appliance.runtime import open_runtime

    if not yes:
        click.confirm(f"Erase customer {customer_id} for good?", abort=True)
    erase_customer(open_runtime(_settings()), BOX_ADMIN, customer_id)
    click.echo(f"customer {customer_id} erased (and recorded in the erasure ledger)")


@customer.command("merges")
@_one_line_errors
def customer_merges() -> None:
    """Number changes waiting for a merge of two customer records (ids only)."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.inbox.number_change import pending_merges
    from appliance.runtime import open_runtime

    open_runtime(_settings())
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
@_one_line_errors
def customer_merge(change_id: int, yes: bool) -> None:
    """Merge the record that holds a number into the customer who asked for it."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.inbox.number_change import merge
    from appliance.runtime import open_runtime

    rt = open_runtime(_settings())
    if not yes:
        click.confirm(f"Merge for change {change_id}? The other record's conversations move "
                      "over and that record is closed for good", abort=True)
    gone = merge(rt, BOX_ADMIN, change_id)
    click.echo(f"change {change_id} done" + (f"; customer {gone} merged into it" if gone
                                               else ""))


@cli.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@_one_line_errors
def audit_verify() -> None:
    """Check every link of the audit chain and its checkpoint; exit 1 at the first break."""
    from appliance.audit.verify import verify
    from appliance.runtime import open_runtime

    settings = _settings()
    rt = open_runtime(settings)
    verdict = verify(rt.keyring.audit_key, settings.audit_head_file)
    click.echo(verdict.summary)
    sys.exit(0 if verdict.ok else 1)


@audit.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--actor", default="", help="Only this actor (user:3, cli, system).")
@click.option("--action", default="", help="Only actions starting so (customer.read).")
@click.option("--customer", "target", default="", help="Only this customer id (or a target).")
@click.option("--since", default="", help="From this day (2026-11-01).")
@click.option("--until", default="", help="To this day, inclusive (2026-11-30).")
@_one_line_errors
def audit_export(path: Path, actor: str, action: str, target: str, since: str,
                 until: str) -> None:
    """Write a period of the log as signed JSON lines, for an auditor."""
    from appliance.audit.export import export, read_filter
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.runtime import open_runtime

    count = export(open_runtime(_settings()), BOX_ADMIN,
                   read_filter(actor, action, target, since, until), path)
    click.echo(f"{count} entries written to {path}, signed with this box's audit key")


@audit.command("verify-export")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_one_line_errors
def audit_verify_export(path: Path) -> None:
    """Check that an export is whole and was signed by this box."""
    from appliance.audit.export import verify_export
    from appliance.runtime import open_runtime

    count = verify_export(open_runtime(_settings()).keyring.audit_key, path)
    click.echo(f"{path}: {count} entries, signature good")


def _queue_sender(settings: Settings) -> Enqueue:
    """How the scheduler re-queues work: through the real broker, shrugging off a dead Redis."""
    from appliance import tasks

    tasks.bind(tasks.redis_broker(settings))

    def sender(actor: Any) -> Callable[[Any], object]:
        def send(arg: Any) -> object:
            try:
                return actor.send(arg)
            except Exception as exc:  # Redis still down: the next sweep tries again
                logging.getLogger("gembok.sweeper").warning(
                    "cannot queue %s (%s)", actor.actor_name, type(exc).__name__)
                return None

        return send

    return Enqueue(events=sender(tasks.process_events), outbox=sender(tasks.send_outbox),
                   alert=sender(tasks.alert_health), key_job=sender(tasks.rotate_data_keys))


def _print_report(report: InitReport) -> None:
    for item in report.created:
        click.echo(f"created {item}")
    if report.migrated:
        click.echo(f"applied schema migrations {', '.join(map(str, report.migrated))}")
    if report.admin_password:
        click.echo(
            "\n  First admin account (shown once, never stored in clear):\n"
            f"    user name: {report.admin_username}\n"
            f"    one-time password: {report.admin_password}\n"
            "  It must be changed at the first sign-in.\n")


def _plugins() -> None:
    """Commands living outside the core (`gembok admin`, from the tui package)."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="gembok.commands"):
        if entry.name not in cli.commands:
            cli.add_command(entry.load(), entry.name)


def main() -> None:
    _plugins()
    cli(prog_name="gembok")

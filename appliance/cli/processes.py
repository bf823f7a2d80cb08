"""Provides the commands that start processes: `run` (all of them), and each one alone.

`gembok run` is the quick start in the foreground; `worker`, `scheduler`, `inbox-writer` and
`simulator` are what systemd units start in production, and what `gembok run` starts itself.
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

import click

from appliance import __version__
from appliance.bootstrap import initialise
from appliance.cli.box import print_report
from appliance.cli.shell import cli_settings, one_line_errors, with_runtime
from appliance.config import Settings
from appliance.queue_port import QueuePort

if TYPE_CHECKING:
    from appliance.runtime import Runtime


@click.command()
@click.option("--demo", is_flag=True,
              help="Fill a fresh data dir with three divisions, their agents and customers "
                   "writing in through the simulator.")
@one_line_errors
def run(demo: bool) -> None:
    """Run the whole appliance in the foreground (quick start). Ctrl-C stops all of it."""
    from appliance.demo import CustomersWriting, seed
    from appliance.scheduler import Scheduler
    from appliance.supervisor.children import plan
    from appliance.supervisor.ports import check_free
    from appliance.supervisor.run import Supervisor, install_signal_handlers
    from appliance.whatsapp.quickstart import wire_simulator

    settings = cli_settings()
    for child in plan(settings):  # before anything is created: a taken port changes nothing
        for port in child.ports:
            check_free(port)
    rt, report = initialise(settings)
    print_report(report)
    wired = wire_simulator(rt)
    if wired:
        click.echo(f"WhatsApp: {wired}")
    if demo:
        for username, password in seed(rt):
            click.echo(f"demo agent {username}: one-time password {password}")
    supervisor = Supervisor(settings, rt, say=lambda line: click.echo(line, err=True),
                            scheduler=Scheduler(rt, queue_port(settings)))
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


@click.command()
@one_line_errors
def worker() -> None:
    """Run a queue worker (a systemd unit in production; `gembok run` starts one)."""
    from appliance import tasks

    settings = cli_settings()
    tasks.run_worker(settings, ready_file=settings.run_dir / "worker.ready")


@click.command()
def simulator() -> None:
    """Run the Cloud API simulator alone (`gembok run` starts one); prints its phone link."""
    from simulator.__main__ import main as run_simulator

    run_simulator(announce=True)


@click.command("inbox-writer")
@one_line_errors
@with_runtime
def inbox_writer(rt: Runtime) -> None:
    """Run the inbox writer: group commit of webhook events (a unit; `gembok run` starts one)."""
    from appliance.store.db import connect_raw, writer_lock
    from appliance.whatsapp.event_writer import IdBatcher, serve

    settings = rt.settings
    enqueue = IdBatcher(queue_port(settings).process_events)
    stop: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))
    serve(settings.inbox_writer_socket,
          lambda: connect_raw(settings.db_file, rt.keyring.database_key),
          on_commit=enqueue, should_stop=lambda: bool(stop),
          lock=lambda: writer_lock(settings.db_file))
    enqueue.close()


@click.command()
@one_line_errors
@with_runtime
def scheduler(rt: Runtime) -> None:
    """Run the periodic jobs (a systemd unit in production; `gembok run` runs them itself)."""
    from appliance.scheduler import Scheduler, checkpoint

    stop: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))
    try:
        Scheduler(rt, queue_port(rt.settings)).run_forever(lambda: bool(stop))
    finally:
        checkpoint(rt)


def queue_port(settings: Settings) -> QueuePort:
    """The process's one queue port (imported late: `gembok version` needs no Dramatiq)."""
    from appliance import tasks

    return tasks.queue_port(settings)


COMMANDS = (run, worker, simulator, inbox_writer, scheduler)

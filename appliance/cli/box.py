"""Provides the commands that set up and check the box: `init`, `migrate`, `doctor`."""

from __future__ import annotations

import sys

import click

from appliance.bootstrap import InitReport, initialise
from appliance.cli.shell import cli_settings, one_line_errors


@click.command()
@one_line_errors
def init() -> None:
    """Create (or check and migrate) the data dir: keys, database, first admin, certificate."""
    print_report(initialise(cli_settings())[1])


@click.command()
@one_line_errors
def migrate() -> None:
    """Back up the database, then apply pending schema migrations."""
    report = initialise(cli_settings())[1]
    print_report(report)
    if not report.migrated:
        click.echo("schema is current: nothing to migrate")


@click.command()
@one_line_errors
def doctor() -> None:
    """Check this box: key file, keys, database, audit chain, Redis, ports, TLS, footprint."""
    from appliance.doctor import run_checks

    results = run_checks(cli_settings())
    width = max(len(r.name) for r in results)
    for r in results:
        click.echo(f"{r.status:<4}  {r.name:<{width}}  {r.detail}")
    sys.exit(1 if any(r.status == "FAIL" for r in results) else 0)


def print_report(report: InitReport) -> None:
    """What `init`, `migrate` and `run` created or applied; the first admin's password once."""
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


COMMANDS = (init, migrate, doctor)

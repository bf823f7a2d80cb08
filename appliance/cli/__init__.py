"""Provides the `gembok` command: thin shells over the services, one clear line on failure.

This root group only gathers the commands; each group lives in its own module (`processes`,
`box`, `accounts`, `keys`, `backup`, `privacy`, `whatsapp`), and commands from other
packages join through the `gembok.commands` entry point (`gembok admin`, from `tui`).
"""

from __future__ import annotations

import os

import click

from appliance import __version__
from appliance.cli import accounts, backup, box, keys, privacy, processes, whatsapp
from appliance.cli.shell import one_line_errors


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gembok")
def cli() -> None:
    """Gembok: WhatsApp customer service on your own box, customer data encrypted."""
    os.umask(0o077)  # every file the appliance writes is readable by its owner only


@cli.command()
@one_line_errors
def version() -> None:
    """Print the version."""
    click.echo(f"gembok {__version__}")


for _command in (*box.COMMANDS, *processes.COMMANDS, whatsapp.whatsapp, accounts.user,
                 accounts.division, keys.keys, backup.backup, privacy.customer, privacy.audit):
    cli.add_command(_command)


def _plugins() -> None:
    """Commands living outside the core (`gembok admin`, from the tui package)."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="gembok.commands"):
        if entry.name not in cli.commands:
            cli.add_command(entry.load(), entry.name)


def main() -> None:
    _plugins()
    cli(prog_name="gembok")

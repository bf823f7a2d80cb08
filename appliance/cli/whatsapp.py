"""Provides `gembok whatsapp`: the Cloud API credentials, entered on the box, and their status."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from appliance.cli.shell import one_line_errors, with_runtime

if TYPE_CHECKING:
    from appliance.runtime import Runtime


@click.group()
def whatsapp() -> None:
    """The Cloud API connection: credentials and status."""


@whatsapp.command("configure")
@one_line_errors
@with_runtime
def whatsapp_configure(rt: Runtime) -> None:
    """Enter the access token, app secret and verify token (kept sealed in the database)."""
    from appliance.whatsapp.credentials import SECRET_NAMES, store_secrets

    values = {}
    for name in SECRET_NAMES:
        value = click.prompt(f"{name.replace('_', ' ')} (empty keeps the current one)",
                             default="", show_default=False, hide_input=True)
        if value.strip():
            values[name] = value.strip()
    store_secrets(rt, actor="cli", **values)
    click.echo(f"stored {len(values)} secret(s), sealed; they take effect within 10 seconds")


@whatsapp.command("status")
@one_line_errors
@with_runtime
def whatsapp_status(rt: Runtime) -> None:
    """Show whether WhatsApp is configured and the number's last known health (no secrets)."""
    from appliance.whatsapp import health, webhook_events
    from appliance.whatsapp.credentials import load_credentials

    creds = load_credentials(rt)
    click.echo(f"phone number id: {creds.phone_number_id or '(not set)'}")
    for name in ("access_token", "app_secret", "verify_token"):
        click.echo(f"{name.replace('_', ' ')}: {'set' if getattr(creds, name) else 'NOT SET'}")
    click.echo(f"number health: {health.current().describe()}")
    click.echo(f"webhook events waiting: {webhook_events.backlog()}")

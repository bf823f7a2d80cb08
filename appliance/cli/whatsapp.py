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


@whatsapp.command("numbers")
@one_line_errors
@with_runtime
def whatsapp_numbers(rt: Runtime) -> None:
    """List the business's numbers (ids, names, routing, health; never a secret) and the
    numbers whose webhooks were refused because this box does not serve them."""
    from appliance.store.models import Division
    from appliance.whatsapp import health, numbers, webhook_routing

    names = {d.id: d.name for d in Division.select()}
    for n in numbers.all_numbers(rt):
        division = names.get(n.division_id or 0, "(default division)")
        state = "active" if n.active else "RETIRED"
        click.echo(f"{n.id}  {n.label}  id {n.phone_number_id or '(not set)'}  "
                   f"WABA {n.waba_id or '-'}  portfolio {n.portfolio or '(number 1s)'}  "
                   f"-> {division}  {state}  "
                   f"health {health.current(n.id).describe()}")
    for refused in webhook_routing.refused():
        click.echo(f"REFUSED webhooks for number {refused.phone_number_id}: {refused.count} "
                   f"(last {refused.last:%Y-%m-%d %H:%M} UTC); add it with "
                   f"`gembok whatsapp number add {refused.phone_number_id} --label NAME`")


@whatsapp.group("number")
def number() -> None:
    """Add, route, retire or resume one of the business's WhatsApp numbers."""


@number.command("add")
@click.argument("phone_number_id")
@click.option("--label", required=True, help="The name staff see, e.g. the brand or region.")
@click.option("--waba", "waba_id", default="", help="Its WhatsApp Business Account id.")
@click.option("--division", default="", help="Where its new conversations land.")
@click.option("--portfolio", default="",
              help="Its business portfolio id, if not number 1's (it has its own messaging "
                   "limit).")
@click.option("--own-secrets", is_flag=True,
              help="Prompt for this number's own access token, app secret and verify token "
                   "(without it, it shares number 1's: one Meta app for all numbers).")
@one_line_errors
@with_runtime
def number_add(rt: Runtime, phone_number_id: str, label: str, waba_id: str, division: str,
               portfolio: str, own_secrets: bool) -> None:
    """Serve another WhatsApp number from this box (its webhooks share the one URL)."""
    from appliance.whatsapp import numbers

    secrets: dict[str, str] = {}
    if own_secrets:
        for name in numbers.SECRETS:
            secrets[name] = click.prompt(name.replace("_", " "), hide_input=True).strip()
    added = numbers.add(rt, phone_number_id=phone_number_id, label=label, waba_id=waba_id,
                        division=division, portfolio=portfolio, actor="cli", **secrets)
    click.echo(f"number {added.id} ({added.label}) added; its webhooks are taken within "
               "10 seconds (Meta retries those refused so far)")


@number.command("route")
@click.argument("number_id", type=int)
@click.argument("division", default="")
@one_line_errors
@with_runtime
def number_route(rt: Runtime, number_id: int, division: str) -> None:
    """Send the number's new conversations to DIVISION (empty: the default division)."""
    from appliance.whatsapp import numbers

    numbers.route_to(rt, number_id, division, actor="cli")
    click.echo(f"number {number_id}: new conversations go to {division or 'the default division'}")


@number.command("portfolio")
@click.argument("number_id", type=int)
@click.argument("portfolio_id", default="")
@one_line_errors
@with_runtime
def number_portfolio(rt: Runtime, number_id: int, portfolio_id: str) -> None:
    """Put the number in business portfolio PORTFOLIO_ID (empty: number 1's); the numbers of
    one portfolio share its messaging limit."""
    from appliance.whatsapp import numbers

    numbers.set_portfolio(rt, number_id, portfolio_id, actor="cli")
    click.echo(f"number {number_id}: in portfolio {portfolio_id or 'of number 1'}; it shares "
               "that portfolio's messaging limit")


@number.command("retire")
@click.argument("number_id", type=int)
@one_line_errors
@with_runtime
def number_retire(rt: Runtime, number_id: int) -> None:
    """Stop serving a number: its webhooks are refused, nothing leaves from it."""
    _set_active(rt, number_id, False, "retired; its conversations stay readable")


@number.command("resume")
@click.argument("number_id", type=int)
@one_line_errors
@with_runtime
def number_resume(rt: Runtime, number_id: int) -> None:
    """Serve a retired number again."""
    _set_active(rt, number_id, True, "is served again")


def _set_active(rt: Runtime, number_id: int, on: bool, said: str) -> None:
    from appliance.whatsapp import numbers

    numbers.set_active(rt, number_id, on, actor="cli")
    click.echo(f"number {number_id} {said}")

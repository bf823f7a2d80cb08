"""Provides `gembok user` and `gembok division`: staff accounts and their divisions, on the box.

The IT admin at the box's shell acts as the box itself (`BOX_ADMIN`, actor `cli`): the same
services as the web admin API, for when nobody can sign in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from appliance.cli.shell import one_line_errors, with_runtime
from appliance.errors import GembokError

if TYPE_CHECKING:
    from appliance.runtime import Runtime


@click.group()
def user() -> None:
    """Staff accounts, for the IT admin on the box (the web admin API does the same)."""


def _user_id(username: str) -> int:
    """The account's id, or the one clear line that says where to look (runtime open)."""
    from appliance.auth.login import find_user

    found = find_user(username)
    if found is None:
        raise GembokError(f"there is no user named {username}: see `gembok user list`")
    return int(found.id)


@user.command("list")
@one_line_errors
@with_runtime
def user_list(rt: Runtime) -> None:
    """List accounts: name, role, divisions, state."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.auth.users import list_users

    for u in list_users(BOX_ADMIN):
        state = "active" if u.is_active else "deactivated"
        factor = "2FA" if u.totp_enabled else "no 2FA"
        click.echo(f"{u.username:<20} {u.role:<10} divisions={u.divisions} {state}, {factor}")


@user.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["agent", "supervisor", "admin", "dpo"]), required=True)
@click.option("--name", "display_name", default="", help="The name colleagues see.")
@click.option("--email", default="", help="For new-device notices.")
@click.option("--division", "division_names", multiple=True, help="Repeat for several.")
@one_line_errors
@with_runtime
def user_create(rt: Runtime, username: str, role: str, display_name: str, email: str,
                division_names: tuple[str, ...]) -> None:
    """Create an account; prints its one-time password once."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.auth.users import create_user
    from appliance.store.models import Division

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
@one_line_errors
@with_runtime
def user_reset_password(rt: Runtime, username: str) -> None:
    """A new one-time password; every session of the user ends."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.auth.users import reset_password

    user_id = _user_id(username)
    click.echo(f"one-time password for {username}: {reset_password(rt, BOX_ADMIN, user_id)}")


@user.command("reset-2fa")
@click.argument("username")
@one_line_errors
@with_runtime
def user_reset_2fa(rt: Runtime, username: str) -> None:
    """Remove the second factor (lost phone); the user enrols again at the next sign-in."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.auth.users import reset_second_factor

    reset_second_factor(rt, BOX_ADMIN, _user_id(username))
    click.echo(f"second factor of {username} removed; their sessions ended")


@user.command("deactivate")
@click.argument("username")
@one_line_errors
@with_runtime
def user_deactivate(rt: Runtime, username: str) -> None:
    """Block the account and end its sessions at once (data stays)."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.auth.users import set_active

    set_active(rt, BOX_ADMIN, _user_id(username), False)
    click.echo(f"{username} deactivated; their sessions ended")


@user.command("grant-content")
@click.argument("username")
@one_line_errors
@with_runtime
def user_grant_content(rt: Runtime, username: str) -> None:
    """Let an admin read every division's conversations; every admin is e-mailed."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.auth.users import grant_content
    from appliance.notify.content_granted import send_content_granted_email
    from appliance.notify.email import EmailError

    grants: list[int] = []
    if not grant_content(rt, BOX_ADMIN, _user_id(username), tell_admins=grants.append):
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
@one_line_errors
@with_runtime
def user_revoke_content(rt: Runtime, username: str) -> None:
    """Take content back from an admin; their sessions end."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.auth.users import revoke_content

    had = revoke_content(rt, BOX_ADMIN, _user_id(username))
    click.echo(f"{username} no longer has content; their sessions ended" if had else
               f"{username} did not have content")


@click.group()
def division() -> None:
    """Divisions: the walls between agents' inboxes."""


@division.command("list")
@one_line_errors
@with_runtime
def division_list(rt: Runtime) -> None:
    """List divisions with their ids and retention."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.inbox.divisions import list_divisions

    for d in list_divisions(BOX_ADMIN):
        keep = f"{d.retention_days} days" if d.retention_days else "no limit"
        click.echo(f"{d.id:>4}  {d.name:<30} retention: {keep}")


@division.command("create")
@click.argument("name")
@click.option("--retention-days", type=int, default=None)
@one_line_errors
@with_runtime
def division_create(rt: Runtime, name: str, retention_days: int | None) -> None:
    """Create a division."""
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.inbox.divisions import create_division

    click.echo(f"created division {create_division(rt, BOX_ADMIN, name, retention_days)}: "
               f"{name}")

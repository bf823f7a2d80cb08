"""Provides `change_account`: an admin's changes to one account, composed once for every face.

The web's account form and the TUI's People screen both change a role, divisions, whether
the account is active, extra permissions, and reset passwords and second factors. Each
given field is one service call (each checks `user.manage`, audits, and ends sessions
where access shrank), always in the same order, so that the two faces cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from appliance.auth import users
from appliance.auth.permissions import Principal
from appliance.runtime import Runtime


@dataclass(frozen=True)
class AccountChange:
    """What to change; None (or False) leaves that part as it is."""

    role: str | None = None
    divisions: list[int] | None = None
    active: bool | None = None
    extra_permissions: list[str] | None = None
    reset_password: bool = False
    reset_second_factor: bool = False


def change_account(rt: Runtime, principal: Principal, user_id: int, change: AccountChange, *,
                   tell_admins: Callable[[int], object]) -> str | None:
    """Applies `change`; returns the new one-time password when one was asked for.

    `tell_admins` hears of a `content` grant (its audit seq), for the e-mail to every admin;
    required, as in `users.set_extra_permissions`, so that no face can forget it.
    """
    if change.role is not None:
        users.set_role(rt, principal, user_id, change.role)
    if change.divisions is not None:
        users.set_divisions(rt, principal, user_id, change.divisions)
    if change.active is not None:
        users.set_active(rt, principal, user_id, change.active)
    if change.extra_permissions is not None:
        users.set_extra_permissions(rt, principal, user_id, change.extra_permissions,
                                    tell_admins=tell_admins)
    password = users.reset_password(rt, principal, user_id) if change.reset_password else None
    if change.reset_second_factor:
        users.reset_second_factor(rt, principal, user_id)
    return password

"""Provides staff account creation; roles, divisions and login arrive with the access work."""

from __future__ import annotations

from appliance.auth.passwords import hash_password, one_time_password
from appliance.runtime import Runtime
from appliance.store.db import db
from appliance.store.models import ROLES, User


def create_user(rt: Runtime, *, username: str, display_name: str, role: str,
                actor: str) -> tuple[User, str]:
    """Creates an account with a one-time password that must be changed at first login."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    password = one_time_password()
    with db.atomic():
        user = User.create(username=username, display_name=display_name, role=role,
                           password_hash=hash_password(password), must_change_password=True)
        rt.audit(actor=actor, action="user.created", target=f"user:{user.id}",
                 detail={"role": role})
    return user, password

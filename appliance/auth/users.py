"""Provides staff accounts: create, change role and divisions, deactivate, passwords.

Every change that narrows what someone may see (role, divisions, deactivation) or
replaces their secret (password, second factor) ends all their sessions at once, so a
stolen or outdated session cannot outlive the decision. Each call is authorised here
and audited here; the web, TUI and CLI only pass the arguments through.

Nobody adds a permission to their own account: an admin without `content` could
otherwise read every conversation after one API call (issue 11). `content` is granted
by another admin or on the box (`BOX_ADMIN`), and every admin hears of it by e-mail:
the caller passes `tell_admins`, which gets the grant's audit entry once it is committed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from appliance.auth import sessions, totp
from appliance.auth.password_policy import problems
from appliance.auth.passwords import hash_password, one_time_password, verify_password
from appliance.auth.permissions import EXTRA, Principal, require
from appliance.clock import utcnow
from appliance.errors import GembokError
from appliance.runtime import Runtime
from appliance.store.db import db, tuples
from appliance.store.models import ROLES, Division, User, UserDivision

USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


class AccountError(GembokError):
    """A request about an account that cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    display_name: str
    email: str
    role: str
    divisions: list[int]
    is_active: bool
    totp_enabled: bool
    extra_permissions: list[str]


def view(user: User) -> UserView:
    divisions = sorted(link.division_id for link in
                       UserDivision.select().where(UserDivision.user == user.id))
    return UserView(user.id, user.username, user.display_name, user.email or "", user.role,
                    divisions, bool(user.is_active), bool(user.totp_enabled),
                    [p for p in user.extra_permissions.split(",") if p])


# Where notices go: one line, no spaces, a dotted domain (a line break would add a header).
EMAIL = re.compile(r"[^\s@<>,;\"]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def create_user(rt: Runtime, *, username: str, display_name: str, role: str,
                actor: str, principal: Principal | None = None, email: str = "",
                divisions: list[int] | None = None) -> tuple[User, str]:
    """Creates an account with a one-time password that must be changed at first login.

    `principal` is who asks (None only for the first admin, made by the system itself).
    """
    if principal is not None:
        require(principal, "user.manage")
    username = username.strip().casefold()
    if not username or not set(username) <= USERNAME_CHARS or len(username) > 64:
        raise AccountError("a user name is 1 to 64 letters, digits, dots, dashes or "
                           "underscores")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if User.select().where(User.username == username).exists():
        raise AccountError(f"the user name {username} is taken")
    if email.strip() and not EMAIL.fullmatch(email.strip()):
        raise AccountError("an e-mail address is name@domain, on one line, without spaces")
    password = one_time_password()
    with db.atomic():
        user = User.create(username=username, display_name=display_name.strip()[:120] or username,
                           email=email.strip() or None, role=role,
                           password_hash=hash_password(password), must_change_password=True)
        _link(user.id, divisions or [])
        rt.audit(actor=actor, action="user.created", target=f"user:{user.id}",
                 detail={"role": role})
    return user, password


def set_role(rt: Runtime, principal: Principal, user_id: int, role: str) -> None:
    require(principal, "user.manage")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    user = _get(user_id)
    if user.id == principal.user_id and role != "admin":
        raise AccountError("you cannot take away your own admin role; ask another admin")
    with db.atomic():
        # Extras belong to admins: they go with the role, so that `content` is never
        # regained by a round trip through another role, past the grant and its e-mail.
        extras = user.extra_permissions if role == "admin" else ""
        User.update(role=role, extra_permissions=extras).where(User.id == user.id).execute()
        sessions.revoke_all(user.id, "role_changed")
        rt.audit(actor=principal.actor, action="user.role_changed", target=f"user:{user.id}",
                 detail={"role": role, "extras_dropped": extras != user.extra_permissions})


def set_divisions(rt: Runtime, principal: Principal, user_id: int, divisions: list[int]) -> None:
    require(principal, "user.manage")
    user = _get(user_id)
    with db.atomic():
        before = {link.division_id for link in
                  UserDivision.select().where(UserDivision.user == user.id)}
        UserDivision.delete().where(UserDivision.user == user.id).execute()
        _link(user.id, divisions)
        if before - set(divisions):  # lost a division: what they could see must go now
            sessions.revoke_all(user.id, "divisions_changed")
        rt.audit(actor=principal.actor, action="user.divisions_changed",
                 target=f"user:{user.id}", detail={"count": len(set(divisions))})


def set_extra_permissions(rt: Runtime, principal: Principal, user_id: int, extra: list[str],
                          *, tell_admins: Callable[[int], object]) -> None:
    """Sets an admin's extra permissions; a gained `content` is told to every admin.

    `tell_admins(audit_seq)` hands the grant to the e-mail path (a queue on the web, at
    once on the box); it is required so that no caller can forget it.
    """
    require(principal, "user.manage")
    seq = _set_extras(rt, principal, _get(user_id), set(extra))
    if seq is not None:
        tell_admins(seq)


def grant_content(rt: Runtime, principal: Principal, user_id: int, *,
                  tell_admins: Callable[[int], object]) -> bool:
    """Lets an admin read every division's conversations; False if they already could."""
    require(principal, "user.manage")
    user = _get(user_id)
    if "content" in extras_of(user):
        return False
    seq = _set_extras(rt, principal, user, extras_of(user) | {"content"})
    if seq is not None:
        tell_admins(seq)
    return True


def revoke_content(rt: Runtime, principal: Principal, user_id: int) -> bool:
    """Takes `content` back (their sessions end); False if they did not have it."""
    require(principal, "user.manage")
    user = _get(user_id)
    if "content" not in extras_of(user):
        return False
    _set_extras(rt, principal, user, extras_of(user) - {"content"})
    return True


def extras_of(user: User) -> set[str]:
    return {p for p in user.extra_permissions.split(",") if p}


def _set_extras(rt: Runtime, principal: Principal, user: User, extra: set[str]) -> int | None:
    """The audit seq of a `content` grant when this call gave it, else None."""
    if extra - EXTRA or (extra and user.role != "admin"):
        raise AccountError("only an admin can be given an extra permission, and only: "
                           + ", ".join(sorted(EXTRA)))
    before = extras_of(user)
    if extra - before and user.id == principal.user_id:
        rt.audit(actor=principal.actor, action="user.self_grant_refused",
                 target=f"user:{user.id}", detail={"content": "content" in extra - before})
        raise AccountError("you cannot give yourself a permission: another admin can, or "
                           "the IT admin on the box with `gembok user grant-content`")
    granted = "content" in extra - before
    with db.atomic():
        User.update(extra_permissions=",".join(sorted(extra))).where(
            User.id == user.id).execute()
        sessions.revoke_all(user.id, "permissions_changed")
        entry = rt.audit(actor=principal.actor,
                         action="user.content_granted" if granted else "user.permissions_changed",
                         target=f"user:{user.id}", detail={"content": "content" in extra})
    return int(entry.seq) if granted else None


def set_active(rt: Runtime, principal: Principal, user_id: int, active: bool) -> None:
    require(principal, "user.manage")
    user = _get(user_id)
    if user.id == principal.user_id and not active:
        raise AccountError("you cannot deactivate yourself")
    with db.atomic():
        User.update(is_active=active).where(User.id == user.id).execute()
        if not active:
            sessions.revoke_all(user.id, "deactivated")
        rt.audit(actor=principal.actor,
                 action="user.activated" if active else "user.deactivated",
                 target=f"user:{user.id}")


def reset_password(rt: Runtime, principal: Principal, user_id: int) -> str:
    """A new one-time password for someone who forgot theirs; all their sessions end."""
    require(principal, "user.manage")
    user = _get(user_id)
    password = one_time_password()
    with db.atomic():
        User.update(password_hash=hash_password(password), must_change_password=True,
                    password_changed_at=utcnow()).where(User.id == user.id).execute()
        sessions.revoke_all(user.id, "password_reset")
        rt.audit(actor=principal.actor, action="user.password_reset", target=f"user:{user.id}")
    return password


def reset_second_factor(rt: Runtime, principal: Principal, user_id: int) -> None:
    require(principal, "user.manage")
    user = _get(user_id)
    with db.atomic():
        totp.reset(rt, user.id, actor=principal.actor)
        sessions.revoke_all(user.id, "totp_reset")


@dataclass(frozen=True)
class SessionView:
    id: int
    started: str
    last_seen: str
    ip: str
    browser: str


def list_sessions(principal: Principal, user_id: int) -> list[SessionView]:
    """Someone's signed-in browsers, for an admin deciding whether to end them."""
    require(principal, "user.manage")
    return [SessionView(s.id, f"{s.created_at:%Y-%m-%d %H:%M}", f"{s.last_seen_at:%Y-%m-%d %H:%M}",
                        s.ip, s.user_agent[:60]) for s in sessions.active(_get(user_id).id)]


def end_sessions(rt: Runtime, principal: Principal, user_id: int) -> int:
    """Signs someone out everywhere (a lost laptop, a shared PC left signed in)."""
    require(principal, "user.manage")
    user = _get(user_id)
    with db.atomic():
        count = sessions.revoke_all(user.id, "ended_by_admin")
        rt.audit(actor=principal.actor, action="user.sessions_ended", target=f"user:{user.id}",
                 detail={"count": count})
    return count


def change_own_password(rt: Runtime, user: User, *, current: str, new: str,
                        keep_session: int | None) -> list[str]:
    """Returns the problems with the new password (empty: changed, other sessions ended)."""
    if not verify_password(user.password_hash, current):
        return ["The current password is not right."]
    found = problems(new, username=user.username, display_name=user.display_name,
                     email=user.email or "")
    if verify_password(user.password_hash, new):
        found.append("Choose a password different from the current one.")
    if found:
        return found
    with db.atomic():
        User.update(password_hash=hash_password(new), must_change_password=False,
                    password_changed_at=utcnow()).where(User.id == user.id).execute()
        sessions.revoke_all(user.id, "password_changed", keep=keep_session)
        rt.audit(actor=f"user:{user.id}", action="user.password_changed",
                 target=f"user:{user.id}")
    return []


def list_users(principal: Principal) -> list[UserView]:
    require(principal, "user.manage")
    return [view(u) for u in User.select().order_by(User.username)]


def _get(user_id: int) -> User:
    user = User.get_or_none(User.id == user_id)
    if user is None:
        raise AccountError(f"there is no user {user_id}")
    return user


def _link(user_id: int, divisions: list[int]) -> None:
    wanted = sorted(set(divisions))
    known = {d.id for d in Division.select().where(Division.id.in_(wanted))}
    if set(wanted) - known:
        raise AccountError("no such division: " + ", ".join(map(str, sorted(set(wanted) -
                                                                           known))))
    for division_id in wanted:
        UserDivision.create(user=user_id, division=division_id)


@dataclass(frozen=True)
class AgentView:
    id: int
    name: str
    division_id: int


def agents_in_scope(principal: Principal) -> list[AgentView]:
    """Active people of the principal's divisions: whom a conversation may be given to."""
    require(principal, "conversation.assign")
    rows = (User.select(User.id, User.display_name, UserDivision.division)
            .join(UserDivision).where(UserDivision.division.in_(sorted(principal.divisions)),
                                      User.is_active == True)  # noqa: E712
            .order_by(User.display_name))
    return [AgentView(int(uid), str(name), int(div)) for uid, name, div in tuples(rows)]


def set_language(user_id: int, language: str) -> None:
    """The language a person reads Gembok in (their own choice, no audit needed)."""
    User.update(language=language).where(User.id == user_id).execute()

"""Provides server-side sessions: revocable, with idle and absolute timeouts.

The browser holds a random token; the database holds its SHA-256 only, so a copy of the
database cannot be replayed as a login. A session is refused the moment it is revoked
(password, role or division change, deactivation, or its user ending it), when idle
too long, or when too old, whichever comes first.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from appliance.auth.permissions import Principal, principal_for
from appliance.clock import utcnow
from appliance.config import AuthSettings
from appliance.store.accounts import UserSession
from appliance.store.models import User

TOUCH_EVERY = timedelta(seconds=60)  # last_seen is written at most once a minute


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(user: User, auth: AuthSettings, *, ip: str, user_agent: str,
           second_factor_done: bool) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    UserSession.create(user=user.id, token_hash=token_hash(token), created_at=now,
                       last_seen_at=now, expires_at=now + timedelta(hours=auth.absolute_hours),
                       ip=ip[:64], user_agent=user_agent[:200],
                       second_factor_done=second_factor_done)
    return token


def resolve(token: str, auth: AuthSettings, *, activity: bool = True
            ) -> tuple[UserSession, User, Principal] | None:
    """The live session behind a token, or None (and then it is over).

    `activity=False` is for requests the page makes by itself (the live stream): they
    are not the user's doing, so they do not keep an idle session alive.
    """
    row = UserSession.get_or_none(UserSession.token_hash == token_hash(token))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if _timed_out(row, auth, now):
        revoke(row.id, "expired")
        return None
    user = User.get_by_id(row.user_id)
    if not user.is_active:
        revoke(row.id, "deactivated")
        return None
    if activity and now - row.last_seen_at > TOUCH_EVERY:
        UserSession.update(last_seen_at=now).where(UserSession.id == row.id).execute()
    return row, user, principal_for(user)


def still_valid(session_id: int, auth: AuthSettings) -> bool:
    """For long-lived requests (live streams): checked every few seconds, never touching.

    An open stream is not activity: a session idle for `auth.idle_minutes` ends here as
    it would at the user's next request, stream or not (issue 11: a tab left open kept
    its session until the absolute timeout).
    """
    row = UserSession.get_or_none(UserSession.id == session_id)
    if row is None or row.revoked_at is not None:
        return False
    if _timed_out(row, auth, utcnow()):
        revoke(row.id, "expired")
        return False
    return bool(User.get_by_id(row.user_id).is_active)


def _timed_out(row: UserSession, auth: AuthSettings, now: datetime) -> bool:
    """Idle too long, or signed in too long ago: the one rule for both checks above."""
    return bool(now >= row.expires_at
                or now - row.last_seen_at > timedelta(minutes=auth.idle_minutes))


def mark_second_factor(session_id: int) -> None:
    UserSession.update(second_factor_done=True).where(UserSession.id == session_id).execute()


def revoke(session_id: int, reason: str) -> None:
    (UserSession.update(revoked_at=utcnow(), revoked_reason=reason[:32])
     .where(UserSession.id == session_id, UserSession.revoked_at.is_null()).execute())


def revoke_all(user_id: int, reason: str, *, keep: int | None = None) -> int:
    query = UserSession.update(revoked_at=utcnow(), revoked_reason=reason[:32]).where(
        UserSession.user == user_id, UserSession.revoked_at.is_null())
    if keep is not None:
        query = query.where(UserSession.id != keep)
    return int(query.execute())


def active(user_id: int) -> list[UserSession]:
    now = utcnow()
    return list(UserSession.select().where(
        UserSession.user == user_id, UserSession.revoked_at.is_null(),
        UserSession.expires_at > now).order_by(UserSession.last_seen_at.desc()))

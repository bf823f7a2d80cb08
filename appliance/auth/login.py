"""Provides sign-in: password, then the second factor, with throttling and the same answer
for every failure.

An unknown name costs the same argon2 verification as a wrong password and earns the
same reply, so neither the answer nor its timing tells which names exist. A session is
made after the password; it can only finish the second factor (or enrol one, or change
a one-time password) until `second_factor_done`.

The owner hears of a new browser once per attempt, as early as the attempt proves
anything: at sign-in without a second factor, and at the password step with one. A
thief who has the password learns it is right from the second-factor page, so the owner
must learn it too, then, not after a second factor the thief may never pass (issue 11).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from peewee import fn

from appliance.auth import sessions, throttle, totp
from appliance.auth.passwords import hash_password, needs_rehash, verify_password
from appliance.runtime import Runtime
from appliance.store.accounts import KnownDevice, LoginEvent, UserSession
from appliance.store.db import db
from appliance.store.models import User

SECOND_FACTOR_ROLES = ("admin", "supervisor", "dpo")
FACTOR_OWED = "password_ok"  # a LoginEvent: right password, second factor still owed


@dataclass(frozen=True)
class Attempt:
    username: str
    password: str
    ip: str
    user_agent: str
    device_token: str


@dataclass(frozen=True)
class Outcome:
    ok: bool
    token: str | None = None
    next_step: str = ""  # "", "totp", "enrol_totp" (then "change_password" if due)
    wait_seconds: int = 0
    login_event_id: int | None = None
    new_device: bool = False  # e-mail the owner about `login_event_id` (not yet told)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("an unknown user's password is checked against this")


def device_hash(device_token: str) -> str:
    return hashlib.sha256(b"gembok-device|" + device_token.encode()).hexdigest()


def find_user(username: str) -> User | None:
    return User.get_or_none(fn.LOWER(User.username) == username.strip().casefold())


def needs_second_factor(rt: Runtime, user: User) -> bool:
    return bool(user.role in SECOND_FACTOR_ROLES or rt.settings.auth.totp_for_all
                or user.totp_enabled)


def sign_in(rt: Runtime, attempt: Attempt) -> Outcome:
    user = find_user(attempt.username)
    device = device_hash(attempt.device_token)
    known = user is not None and KnownDevice.select().where(
        KnownDevice.user == user.id, KnownDevice.device_hash == device).exists()
    # A browser that signed in here before answers for its own failures only; any other
    # is judged by its address and by the account, however many addresses it comes from.
    keys = [throttle.device_key(user.id, device)] if known and user else \
        [throttle.address_key(attempt.ip), throttle.account_key(attempt.username)]
    wait = throttle.wait_seconds(keys)
    if wait:
        _event(user, attempt, "throttled")
        return Outcome(ok=False, wait_seconds=wait)
    stored = user.password_hash if user is not None else _dummy_hash()
    if not (verify_password(stored, attempt.password) and user is not None and user.is_active):
        throttle.fail(keys)
        _event(user, attempt, "failed")
        rt.audit(actor="system", action="auth.login_failed",
                 target=f"user:{user.id}" if user else "")
        return Outcome(ok=False)
    throttle.succeed(keys)
    if needs_rehash(user.password_hash):
        User.update(password_hash=hash_password(attempt.password)).where(
            User.id == user.id).execute()
    second = needs_second_factor(rt, user)
    token = sessions.create(user, rt.settings.auth, ip=attempt.ip,
                            user_agent=attempt.user_agent, second_factor_done=not second)
    if second and user.totp_enabled and not known:
        event_id = _event(user, attempt, FACTOR_OWED, new_device=True)
        return Outcome(ok=True, token=token, next_step="totp", login_event_id=event_id,
                       new_device=True)
    if second:
        return Outcome(ok=True, token=token,
                       next_step="totp" if user.totp_enabled else "enrol_totp")
    event_id, new = complete(rt, user, attempt)
    return Outcome(ok=True, token=token, login_event_id=event_id, new_device=new,
                   next_step="change_password" if user.must_change_password else "")


def second_factor(rt: Runtime, session_id: int, user: User, code: str,
                  attempt: Attempt) -> Outcome:
    """Checks a TOTP or recovery code for a half-signed-in session, throttled like a password."""
    keys = [throttle.address_key(attempt.ip), f"totp:{user.id}"]
    wait = throttle.wait_seconds(keys)
    if wait:
        return Outcome(ok=False, wait_seconds=wait)
    if not totp.verify(rt, user, code):
        throttle.fail(keys)
        _event(user, attempt, "second_factor_failed")
        return Outcome(ok=False)
    throttle.succeed(keys)
    sessions.mark_second_factor(session_id)
    event_id, new = complete(rt, user, attempt)
    return Outcome(ok=True, login_event_id=event_id,
                   new_device=new and not _told_at_password_step(user.id, session_id),
                   next_step="change_password" if user.must_change_password else "")


def _told_at_password_step(user_id: int, session_id: int) -> bool:
    """Whether this session's own password step already e-mailed the owner.

    The session row is the attempt: made at the password step from its address and
    browser, just before that step's LoginEvent.
    """
    started = UserSession.get_by_id(session_id)
    return bool(LoginEvent.select().where(
        LoginEvent.user == user_id, LoginEvent.outcome == FACTOR_OWED,
        LoginEvent.new_device == True,  # noqa: E712
        LoginEvent.at >= started.created_at, LoginEvent.ip == started.ip,
        LoginEvent.user_agent == started.user_agent).exists())


def complete(rt: Runtime, user: User, attempt: Attempt) -> tuple[int, bool]:
    """A full sign-in: the device is remembered, and a new one is reported to the user."""
    device = device_hash(attempt.device_token)
    with db.atomic():
        known = KnownDevice.get_or_none(KnownDevice.user == user.id,
                                        KnownDevice.device_hash == device)
        if known is None:
            KnownDevice.create(user=user.id, device_hash=device)
        event_id = _event(user, attempt, "ok", new_device=known is None)
        rt.audit(actor=f"user:{user.id}", action="auth.login", target=f"user:{user.id}",
                 detail={"new_device": known is None})
    return event_id, known is None


def _event(user: User | None, attempt: Attempt, outcome: str, new_device: bool = False) -> int:
    row = LoginEvent.create(user=user.id if user else None, ip=attempt.ip[:64],
                            user_agent=attempt.user_agent[:200], outcome=outcome,
                            new_device=new_device)
    return int(row.id)

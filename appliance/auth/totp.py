"""Provides the second factor: TOTP (RFC 6238) with a QR code, and single-use recovery codes.

The TOTP secret is sealed with the system key (bound to the user's row); a code is never
accepted twice (the last time step used is kept), and one step of clock drift either way
is forgiven. Ten recovery codes are shown once and stored hashed.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import time

import pyotp
import segno

from appliance.clock import utcnow
from appliance.crypto.aead import place
from appliance.runtime import Runtime
from appliance.store.accounts import RecoveryCode
from appliance.store.db import db
from appliance.store.models import User

ISSUER = "Gembok"
STEP = 30
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def _where(user_id: int) -> bytes:
    return place("user", "totp", user_id)


def start_enrolment(rt: Runtime, user: User) -> tuple[str, str]:
    """A new secret, not yet in force; returns (secret, otpauth URI) for the QR code.

    Never replaces a factor in force: that takes an admin's reset (a stolen session must
    not be able to swap the second factor for the thief's).
    """
    if user.totp_enabled:
        raise ValueError("a second factor is already in force")
    secret = pyotp.random_base32()
    User.update(totp_secret_sealed=rt.keyring.system.seal(secret.encode(), _where(user.id))
                ).where(User.id == user.id, User.totp_enabled == False).execute()  # noqa: E712
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return secret, uri


def provisioning_uri(rt: Runtime, user: User) -> str | None:
    """The pending secret's URI again (after a mistyped code), without making a new one."""
    secret = _secret(rt, User.get_by_id(user.id))
    if secret is None:
        return None
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, xmldecl=False)
    return out.getvalue().decode()


def _secret(rt: Runtime, user: User) -> str | None:
    if user.totp_secret_sealed is None:
        return None
    return rt.keyring.system.open(bytes(user.totp_secret_sealed), _where(user.id)).decode()


def _matching_step(secret: str, code: str, last_step: int, now: float) -> int | None:
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP)
    for step in (current - 1, current, current + 1):
        if step > last_step and hmac.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def confirm_enrolment(rt: Runtime, user: User, code: str,
                      now: float | None = None) -> list[str] | None:
    """Turns the factor on when the code matches; returns the recovery codes (shown once)."""
    secret = _secret(rt, user)
    step = _matching_step(secret, code, 0, now or time.time()) if secret else None
    if step is None:
        return None
    codes = ["-".join("".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(2))
             for _ in range(RECOVERY_CODES)]
    with db.atomic():
        User.update(totp_enabled=True, totp_last_step=step).where(User.id == user.id).execute()
        RecoveryCode.delete().where(RecoveryCode.user == user.id).execute()
        for c in codes:
            RecoveryCode.create(user=user.id, code_hash=_code_hash(c))
        rt.audit(actor=f"user:{user.id}", action="auth.totp_enabled", target=f"user:{user.id}")
    return codes


def verify(rt: Runtime, user: User, code: str, now: float | None = None) -> bool:
    """A current TOTP code, or an unused recovery code (then spent)."""
    secret = _secret(rt, user)
    if secret and user.totp_enabled:
        step = _matching_step(secret, code, user.totp_last_step, now or time.time())
        if step is not None:
            updated = (User.update(totp_last_step=step)
                       .where(User.id == user.id, User.totp_last_step < step).execute())
            return bool(updated)  # a concurrent use of the same code loses
    spent = (RecoveryCode.update(used_at=utcnow())
             .where(RecoveryCode.user == user.id, RecoveryCode.used_at.is_null(),
                    RecoveryCode.code_hash == _code_hash(code)).execute())
    if spent:
        rt.audit(actor=f"user:{user.id}", action="auth.recovery_code_used",
                 target=f"user:{user.id}")
    return bool(spent)


def reset(rt: Runtime, user_id: int, *, actor: str) -> None:
    with db.atomic():
        User.update(totp_secret_sealed=None, totp_enabled=False, totp_last_step=0) \
            .where(User.id == user_id).execute()
        RecoveryCode.delete().where(RecoveryCode.user == user_id).execute()
        rt.audit(actor=actor, action="auth.totp_reset", target=f"user:{user_id}")


def _code_hash(code: str) -> str:
    normal = code.strip().lower().replace(" ", "")
    return hashlib.sha256(b"gembok-recovery|" + normal.encode()).hexdigest()

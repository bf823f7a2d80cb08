"""Provides the Cloud API credentials: entered once, kept sealed in the database.

The access token, app secret and verify token never sit in the config file or a log.
The database copy wins; the GEMBOK_WHATSAPP_* variables are the fallback that tests
and the quick start use.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from appliance.clock import utcnow
from appliance.crypto.aead import place
from appliance.runtime import Runtime
from appliance.store.db import db
from appliance.store.models import SecretSetting

SECRET_NAMES = ("access_token", "app_secret", "verify_token")
# Not secret, but entered with them when no config file names them (the quick start).
STORED_NAMES = (*SECRET_NAMES, "phone_number_id", "waba_id")
_CACHE_SECONDS = 10.0


@dataclass(frozen=True, repr=False)
class Credentials:
    phone_number_id: str
    waba_id: str
    access_token: str
    app_secret: str
    verify_token: str

    @property
    def complete(self) -> bool:
        return all((self.phone_number_id, self.access_token, self.app_secret, self.verify_token))

    def __repr__(self) -> str:
        return f"Credentials(phone_number_id={self.phone_number_id!r}, secrets=<hidden>)"


def store_secrets(rt: Runtime, *, actor: str, **values: str) -> None:
    unknown = set(values) - set(STORED_NAMES)
    if unknown:
        raise ValueError(f"not a WhatsApp secret: {', '.join(sorted(unknown))}")
    with db.atomic():
        for name, value in values.items():
            sealed = rt.keyring.system.seal(value.encode(), place("secret_setting", "value", name))
            (SecretSetting.insert(name=name, value_sealed=sealed, updated_at=utcnow())
             .on_conflict(conflict_target=[SecretSetting.name],
                          update={SecretSetting.value_sealed: sealed,
                                  SecretSetting.updated_at: utcnow()})
             .execute())
            rt.audit(actor=actor, action="whatsapp.secret_changed", target=f"secret:{name}")
    _cache.clear()


_cache: dict[str, tuple[float, Credentials]] = {}


def load_credentials(rt: Runtime) -> Credentials:
    """The current credentials; cached for a few seconds so a change reaches every process."""
    hit = _cache.get("c")
    if hit and time.monotonic() - hit[0] < _CACHE_SECONDS:
        return hit[1]
    stored = {row.name: rt.keyring.system.open(bytes(row.value_sealed),
                                               place("secret_setting", "value", row.name)).decode()
              for row in SecretSetting.select().where(SecretSetting.name.in_(STORED_NAMES))}
    wa = rt.settings.whatsapp
    creds = Credentials(
        phone_number_id=wa.phone_number_id or stored.get("phone_number_id", ""),
        waba_id=wa.waba_id or stored.get("waba_id", ""),
        access_token=stored.get("access_token") or wa.access_token,
        app_secret=stored.get("app_secret") or wa.app_secret,
        verify_token=stored.get("verify_token") or wa.verify_token)
    _cache["c"] = (time.monotonic(), creds)
    return creds

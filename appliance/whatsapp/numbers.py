"""Provides the business's WhatsApp numbers: each a record with its own ids and secrets.

One box serves several numbers (one per brand, region or service). Inbound is told
apart by the `phone_number_id` Meta names in each change, a conversation keeps the
number it was held on, and a reply leaves from it with that number's token. Number 1
is the box's first number; what its row leaves empty comes from the WhatsApp settings
(`credentials.load_credentials`), so a box configured before keeps working.

Read often (every webhook, every send), changed rarely: the list is cached for a few
seconds like the credentials, so a number added in one process reaches the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from appliance.crypto.aead import place
from appliance.errors import GembokError
from appliance.runtime import Runtime
from appliance.store.db import db
from appliance.store.models import Division
from appliance.store.numbers import FIRST_NUMBER as FIRST_NUMBER
from appliance.store.numbers import WaNumber
from appliance.whatsapp import credentials, webhook_routing
from appliance.whatsapp.origins import is_node_id

SECRETS = ("access_token", "app_secret", "verify_token")
_CACHE_SECONDS = 10.0
MAX_LABEL = 80


class NumberError(GembokError, ValueError):
    """A number cannot be added or changed as asked; the message says what to fix."""


@dataclass(frozen=True, repr=False)
class Number:
    id: int
    phone_number_id: str
    waba_id: str
    label: str
    display_phone_number: str
    division_id: int | None
    access_token: str
    app_secret: str
    verify_token: str
    active: bool
    portfolio: str = ""  # the business portfolio whose messaging limit it shares

    @property
    def complete(self) -> bool:
        return all((self.phone_number_id, self.access_token, self.app_secret,
                    self.verify_token))

    def __repr__(self) -> str:
        return f"Number(id={self.id}, phone_number_id={self.phone_number_id!r}, secrets=<hidden>)"


# per database; valid while number 1's credentials are the same object (they are cached
# the same way, and clearing theirs clears this)
_cache: dict[str, tuple[float, credentials.Credentials, list[Number]]] = {}


def clear_cache() -> None:
    _cache.clear()


def all_numbers(rt: Runtime) -> list[Number]:
    """Every number, active or retired, number 1 first."""
    creds = credentials.load_credentials(rt)
    hit = _cache.get(str(rt.settings.db_file))
    if hit and hit[1] is creds and time.monotonic() - hit[0] < _CACHE_SECONDS:
        return hit[2]
    rows = {int(r.id): r for r in WaNumber.select().order_by(WaNumber.id)}
    first = _first(rt, rows.get(FIRST_NUMBER))
    found = [first] + [_number(rt, row, first) for number_id, row in rows.items()
                       if number_id != FIRST_NUMBER]
    _cache[str(rt.settings.db_file)] = (time.monotonic(), creds, found)
    return found


def active(rt: Runtime) -> list[Number]:
    return [n for n in all_numbers(rt) if n.active]


def get(rt: Runtime, number_id: int) -> Number:
    """The number, or number 1 for an id no longer known (a conversation is never lost)."""
    numbers = all_numbers(rt)
    return next((n for n in numbers if n.id == number_id), numbers[0])


def by_phone_number_id(rt: Runtime) -> dict[str, Number]:
    """Active numbers by the id Meta names them by in webhooks."""
    return {n.phone_number_id: n for n in active(rt) if n.phone_number_id}


def labels(rt: Runtime) -> dict[int, str]:
    return {n.id: n.label for n in all_numbers(rt)}


def add(rt: Runtime, *, phone_number_id: str, label: str, actor: str, waba_id: str = "",
        division: str = "", access_token: str = "", app_secret: str = "",
        verify_token: str = "", portfolio: str = "") -> Number:
    """A new number. Its secrets may be left empty to share number 1's (one Meta app and
    one system user's token for all the business's numbers is the common case)."""
    phone_number_id, waba_id, label = phone_number_id.strip(), waba_id.strip(), label.strip()
    if not is_node_id(phone_number_id):
        raise NumberError("the phone number id is digits only, as Meta's WhatsApp Manager "
                          "shows it (API Setup): check it and try again")
    if waba_id and not is_node_id(waba_id):
        raise NumberError("the WhatsApp Business Account id is digits only: check it")
    portfolio = _portfolio(portfolio)
    if not label or len(label) > MAX_LABEL:
        raise NumberError(f"give the number a name staff will recognise (1 to {MAX_LABEL} "
                          "characters), e.g. the brand or the region")
    if phone_number_id in {n.phone_number_id for n in all_numbers(rt)}:
        raise NumberError(f"number {phone_number_id} is already on this box")
    division_id = _division_id(division)
    with db.atomic():
        row = WaNumber.create(phone_number_id=phone_number_id, waba_id=waba_id, label=label,
                              division=division_id, portfolio=portfolio)
        _seal_secrets(rt, row, {"access_token": access_token, "app_secret": app_secret,
                                "verify_token": verify_token})
        rt.audit(actor=actor, action="whatsapp.number_added", target=f"number:{row.id}")
    webhook_routing.forget(phone_number_id)  # its refusals so far are history
    clear_cache()
    return get(rt, int(row.id))


def route_to(rt: Runtime, number_id: int, division: str, *, actor: str) -> None:
    """Where the number's new conversations land (empty: the box's default division)."""
    division_id = _division_id(division)
    _row(number_id)
    WaNumber.update(division=division_id).where(WaNumber.id == number_id).execute()
    rt.audit(actor=actor, action="whatsapp.number_routed", target=f"number:{number_id}",
             detail={"division": division_id or 0})
    clear_cache()


def set_portfolio(rt: Runtime, number_id: int, portfolio: str, *, actor: str) -> None:
    """The business portfolio the number is in (empty: number 1's). Meta's messaging limit
    is one per portfolio, shared by all its numbers (cloud-api.md 5.4): numbers of two
    portfolios each reach their own limit, numbers of one share it."""
    portfolio = _portfolio(portfolio)
    _row(number_id)
    WaNumber.update(portfolio=portfolio).where(WaNumber.id == number_id).execute()
    rt.audit(actor=actor, action="whatsapp.number_portfolio", target=f"number:{number_id}",
             detail={"portfolio": portfolio})
    clear_cache()


def in_portfolio_of(rt: Runtime, number_id: int) -> list[int]:
    """The numbers sharing a messaging limit with this one, retired ones too: what they
    sent in the last 24 h counts against it."""
    own = get(rt, number_id).portfolio
    return [n.id for n in all_numbers(rt) if n.portfolio == own]


def _portfolio(value: str) -> str:
    value = value.strip()
    if value and not is_node_id(value):
        raise NumberError("the business portfolio id is digits only, as Meta's Business "
                          "settings show it (Business info): check it, or leave it empty "
                          "for number 1's portfolio")
    return value


def set_active(rt: Runtime, number_id: int, on: bool, *, actor: str) -> None:
    """A retired number's webhooks are refused (Meta retries them for days) and nothing
    leaves from it; its conversations stay, readable as before."""
    if number_id == FIRST_NUMBER and not on:
        raise NumberError("number 1 cannot be retired: it carries the box's alerts; "
                          "point it at another WhatsApp number instead")
    _row(number_id)
    WaNumber.update(active=on).where(WaNumber.id == number_id).execute()
    rt.audit(actor=actor, action="whatsapp.number_" + ("resumed" if on else "retired"),
             target=f"number:{number_id}")
    clear_cache()


def note_display(number_id: int, display_phone_number: str) -> None:
    """The business number as Meta shows it (from a health poll): the label's companion."""
    WaNumber.update(display_phone_number=display_phone_number[:32]).where(
        WaNumber.id == number_id, WaNumber.display_phone_number != display_phone_number[:32]
    ).execute()


def _row(number_id: int) -> WaNumber:
    row = WaNumber.get_or_none(WaNumber.id == number_id)
    if row is None:
        raise NumberError(f"there is no number {number_id}: `gembok whatsapp numbers` lists them")
    return row


def _division_id(name: str) -> int | None:
    if not name.strip():
        return None
    row = Division.get_or_none(Division.name == name.strip())
    if row is None:
        raise NumberError(f"there is no division {name.strip()!r}: create it first (TUI, "
                          "Divisions) or leave it empty for the default")
    return int(row.id)


def _seal_secrets(rt: Runtime, row: WaNumber, values: dict[str, str]) -> None:
    sealed = {f"{name}_sealed": rt.keyring.system.seal(value.encode(),
                                                        place("wa_number", name, int(row.id)))
              for name, value in values.items() if value}
    if sealed:
        WaNumber.update(**sealed).where(WaNumber.id == row.id).execute()


def _open(rt: Runtime, row: WaNumber | None, name: str) -> str:
    sealed = None if row is None else getattr(row, f"{name}_sealed")
    if row is None or not sealed:
        return ""
    return rt.keyring.system.open(bytes(sealed), place("wa_number", name, int(row.id))).decode()


def _first(rt: Runtime, row: WaNumber | None) -> Number:
    """Number 1: its row where the row says, the WhatsApp settings elsewhere."""
    creds = credentials.load_credentials(rt)
    return Number(
        FIRST_NUMBER, (row.phone_number_id if row else "") or creds.phone_number_id,
        (row.waba_id if row else "") or creds.waba_id,
        row.label if row else "Nomor utama", row.display_phone_number if row else "",
        row.division_id if row else None,
        _open(rt, row, "access_token") or creds.access_token,
        _open(rt, row, "app_secret") or creds.app_secret,
        _open(rt, row, "verify_token") or creds.verify_token, True,
        row.portfolio if row else "")


def _number(rt: Runtime, row: WaNumber, first: Number) -> Number:
    """Another number: a secret it leaves empty is number 1's (one app, one token)."""
    return Number(int(row.id), row.phone_number_id, row.waba_id or first.waba_id, row.label,
                  row.display_phone_number, row.division_id,
                  _open(rt, row, "access_token") or first.access_token,
                  _open(rt, row, "app_secret") or first.app_secret,
                  _open(rt, row, "verify_token") or first.verify_token, bool(row.active),
                  row.portfolio or first.portfolio)

"""Provides the words of number-health alerts, every time on the office's clock.

Admins read these on a phone in Jakarta or Makassar, often at the worst moment: a UTC
time there is a sum to do, and a wrong one. Every time is in `settings.timezone` with its
short name (WIB, WITA, WIT; `UTC+08` where the zone has only a number). The texts hold
the number's states and Meta's event code, nothing about any customer. A WhatsApp alert
is one template parameter: one line, at most 1,000 characters (Meta refuses line breaks
there, 132018).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from appliance.config import Settings
from appliance.store.models import NumberHealth
from appliance.whatsapp.health import TOKEN_REJECTED

PARAMETER_MAX = 1000
# What Meta answers a send from a number in this status (reference §4.2).
REFUSAL_CODE = {"BANNED": 131031, "RESTRICTED": 368}


def office_time(at: datetime, zone: str, *, with_date: bool = False) -> str:
    """`14:05 WIB` (or `2026-03-02 14:05 WIB`) for a naive UTC time from the database."""
    local = at.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    name = local.strftime("%Z")
    if name[:1] in "+-":  # zones without a letter abbreviation: say what the number means
        name = f"UTC{name}"
    return local.strftime("%Y-%m-%d %H:%M " if with_date else "%H:%M ") + name


def health_alert_text(settings: Settings, row_id: int) -> tuple[str, str]:
    """The subject and the one-line body for one health change."""
    row = NumberHealth.get_by_id(row_id)
    before = (NumberHealth.select().where(NumberHealth.id < row_id)
              .order_by(NumberHealth.id.desc()).first())
    at = office_time(row.at, settings.timezone, with_date=True)
    if row.event == TOKEN_REJECTED:
        return ("Gembok: WhatsApp refused the access token",
                f"At {at} the Cloud API refused Gembok's access token (error 190): nothing "
                "can be sent until an admin enters a new one with `gembok whatsapp configure`.")
    was = "unknown" if before is None else (before.status or "unknown")
    quality = f", quality {row.quality}" if row.quality else ""
    limit = f", messaging limit {row.messaging_limit}" if row.messaging_limit else ""
    event = f" (Meta event {row.event})" if row.event else ""
    subject = f"Gembok: WhatsApp number is {row.status or 'changed'}"
    body = (f"The business WhatsApp number changed at {at}{event}: "
            f"{was} -> {row.status or 'unknown'}{quality}{limit}. "
            "Check it in WhatsApp Manager and `gembok whatsapp status`.")
    return subject, body


def held_note(status: str) -> str:
    """For the e-mail, when the WhatsApp copy cannot go out from the number it is about."""
    code = REFUSAL_CODE.get(status, 133010)
    return (f"The WhatsApp alert to the admins' phones cannot go out now: it is sent "
            f"from this very number, and Meta refuses what a {status} number sends "
            f"(error {code}). Gembok keeps it and sends it, marked late, as soon as the "
            "number is back.\n"
            "Peringatan lewat WhatsApp belum bisa dikirim dari nomor yang sedang terputus; "
            "peringatan itu disimpan dan menyusul (terlambat) begitu nomornya tersambung lagi.")


def late_text(body: str, happened: datetime, sent: datetime, zone: str) -> str:
    """The alert as it goes out late: the mark first, so a cut body never loses it."""
    same_day = office_time(happened, zone, with_date=True)[:10] == \
        office_time(sent, zone, with_date=True)[:10]
    when = office_time(happened, zone, with_date=not same_day)
    mark = (f"(terlambat / late: sent at {office_time(sent, zone)} when the number came "
            f"back; happened at {when}) ")
    return (mark + body)[:PARAMETER_MAX]

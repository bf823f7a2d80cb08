"""Provides the `content` e-mail: every admin learns that someone may now read messages.

`content` lets an admin read every division's conversations, so a grant is never quiet
(issue 11): each active admin with an e-mail address hears who gained it, who granted
it and when, in office time. The text is built from the grant's audit entry (ids, a
time) and staff names, never from any customer's data.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from appliance.notify.email import send_email
from appliance.runtime import Runtime
from appliance.store.models import AuditEntry, User

GRANTED = "user.content_granted"


def _who(actor: str) -> str:
    if not actor.startswith("user:"):
        return "the IT admin on the box" if actor == "cli" else actor
    user = User.get_or_none(User.id == int(actor.removeprefix("user:")))
    return f"{user.display_name} ({user.username})" if user else actor


def content_granted_text(rt: Runtime, audit_seq: int) -> tuple[str, str]:
    entry = AuditEntry.get_by_id(audit_seq)
    if entry.action != GRANTED:
        raise ValueError(f"audit entry {audit_seq} is not a content grant")
    gained = User.get_by_id(int(entry.target.removeprefix("user:")))
    at = datetime.fromisoformat(entry.at).astimezone(ZoneInfo(rt.settings.timezone))
    return (f"Gembok: {gained.display_name} may now read customers' messages",
            f"{gained.display_name} ({gained.username}) was given the `content` permission "
            f"by {_who(entry.actor)} at {at:%H:%M} {at:%Z} on {at:%Y-%m-%d}.\n\n"
            "With it they can read every division's conversations and reveal phone "
            "numbers. If nobody meant this, take it back now (`gembok user revoke-content "
            f"{gained.username}` on the box, or the admin API) and check the audit log "
            f"(entry {entry.seq}).\n")


def admin_addresses() -> list[str]:
    rows = User.select(User.email).where(User.role == "admin", User.is_active == True,  # noqa: E712
                                         User.email.is_null(False), User.email != "")
    return sorted({str(u.email) for u in rows})


def send_content_granted_email(rt: Runtime, audit_seq: int) -> list[str]:
    """The addresses e-mailed (none when e-mail is not set up); EmailError if SMTP fails."""
    to = admin_addresses()
    if not to or not rt.settings.smtp.host:
        return []
    subject, body = content_granted_text(rt, audit_seq)
    send_email(rt.settings.smtp, to, subject, body)
    return to

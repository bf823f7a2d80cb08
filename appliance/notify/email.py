"""Provides `send_email`: one plain-text e-mail through the configured SMTP server.

STARTTLS is required unless the admin turns it off explicitly; the message carries
staff-facing text only, never a customer's data (callers build it from ids and states).
Its Date header is on the office's clock when the caller names the zone, as every time in
the text is (an admin reading the raw message should not meet UTC either).
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from appliance.config import SmtpSettings
from appliance.errors import GembokError


class EmailError(GembokError):
    """The SMTP server could not be reached or refused the message."""


def send_email(smtp: SmtpSettings, to: list[str], subject: str, body: str, *,
               tls_context: ssl.SSLContext | None = None, zone: str | None = None) -> None:
    if not smtp.host:
        raise EmailError("e-mail is not configured: set smtp.host")
    msg = EmailMessage()
    try:  # a line break in an address would add a header: the library refuses it
        msg["From"], msg["To"], msg["Subject"] = smtp.sender, ", ".join(to), subject
    except ValueError:
        raise EmailError("an address or the subject of this e-mail is not valid (a line "
                         "break?): check the recipients' e-mail addresses") from None
    now = datetime.now(ZoneInfo(zone)) if zone else datetime.now().astimezone()
    msg["Date"] = format_datetime(now)
    msg.set_content(body)
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
            if smtp.starttls:
                client.starttls(context=tls_context or ssl.create_default_context(
                    cafile=str(smtp.ca_file) if smtp.ca_file else None))
            if smtp.username:
                client.login(smtp.username, smtp.password)
            client.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise EmailError(f"cannot send e-mail through {smtp.host}:{smtp.port}: "
                         f"{type(exc).__name__}") from None

"""Provides the new-device e-mail: "someone signed in to your account from a new browser".

It names the time (in the box's time zone), the address and the browser, and nothing of
any customer; it tells the user what to do if it was not them. For an account with a
second factor it goes at the password step and says so: "someone entered your correct
password", since whoever typed it now knows it is right.
"""

from __future__ import annotations

import re
from datetime import UTC
from zoneinfo import ZoneInfo

from appliance.auth.login import FACTOR_OWED
from appliance.notify.email import EmailError, send_email
from appliance.runtime import Runtime
from appliance.store.accounts import LoginEvent
from appliance.store.models import User


def browser_of(user_agent: str) -> str:
    """A short, human name for a User-Agent: 'Chrome 156 on Linux'."""
    for name, pattern in (("Edge", r"Edg/(\d+)"), ("Chrome", r"Chrome/(\d+)"),
                          ("Firefox", r"Firefox/(\d+)"), ("Safari", r"Version/(\d+).*Safari")):
        if m := re.search(pattern, user_agent):
            browser = f"{name} {m.group(1)}"
            break
    else:
        browser = "an unknown browser"
    for system in ("Android", "iPhone", "Windows", "Mac OS X", "Linux"):
        if system in user_agent:
            return f"{browser} on {system.replace('Mac OS X', 'macOS')}"
    return browser


def new_device_text(rt: Runtime, event: LoginEvent, user: User) -> tuple[str, str]:
    """The subject and body for one LoginEvent: a sign-in, or a password step (2FA)."""
    at = event.at.replace(tzinfo=UTC).astimezone(ZoneInfo(rt.settings.timezone))
    if event.outcome == FACTOR_OWED:
        return ("Gembok: your password was entered from a new browser",
                f"Halo {user.display_name},\n\n"
                f"Someone entered the correct password of your Gembok account "
                f"({user.username}) from a new browser at {at:%H:%M} {at:%Z} "
                f"({at:%Y-%m-%d}, {rt.settings.timezone}) from {event.ip} "
                f"({browser_of(event.user_agent)}).\n\n"
                "Your second factor still stands between them and the account. If it was "
                "not you, your password is known to someone else: change your password now "
                "and tell your administrator. If it was you, there is nothing to do.\n")
    return ("Gembok: sign-in from a new browser",
            f"Halo {user.display_name},\n\n"
            f"Your Gembok account ({user.username}) was signed in to from a new browser:\n\n"
            f"  time:    {at:%Y-%m-%d %H:%M} ({rt.settings.timezone})\n"
            f"  address: {event.ip}\n"
            f"  browser: {browser_of(event.user_agent)}\n\n"
            "If this was you, there is nothing to do. If it was not, change your password "
            "now and tell your administrator.\n")


def send_new_device_email(rt: Runtime, login_event_id: int) -> bool:
    event = LoginEvent.get_by_id(login_event_id)
    user = User.get_by_id(event.user_id)
    if not user.email or not rt.settings.smtp.host:
        return False
    subject, body = new_device_text(rt, event, user)
    try:
        send_email(rt.settings.smtp, [user.email], subject, body)
    except EmailError:
        return False
    return True

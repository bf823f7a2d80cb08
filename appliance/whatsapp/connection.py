"""Provides `make_client`: a Cloud API client for one of the business's numbers.

`NotConfigured` says exactly what is missing, in one line an admin can act on: the
workers log it as is and wait (see the actors in `tasks.py`), so it must name the setting
or the command, never carry a traceback's worth of context.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from appliance.errors import GembokError
from appliance.runtime import Runtime
from appliance.whatsapp import numbers
from appliance.whatsapp.client import CloudApiClient
from appliance.whatsapp.origins import is_node_id, origin_of


class NotConfigured(GembokError):
    """WhatsApp credentials are missing: nothing can be sent or downloaded yet."""


@dataclass(frozen=True, repr=False)
class Endpoint:
    """Where Graph calls go and with which token: one check for every client of the box
    (the Chatroom's and Broadcast's)."""

    base: str
    version: str
    phone_number_id: str
    token: str


def endpoint(rt: Runtime, number_id: int = numbers.FIRST_NUMBER) -> Endpoint:
    """Where number `number_id`'s calls go (number 1, the box's first, by default)."""
    creds = numbers.get(rt, number_id)
    missing = []
    if not creds.active:
        raise NotConfigured(f"number {creds.id} ({creds.label}) is retired: nothing leaves "
                            "from it (`gembok whatsapp number resume` brings it back)")
    if not creds.phone_number_id:
        missing.append("set whatsapp.phone_number_id")
    elif not is_node_id(creds.phone_number_id):
        missing.append("correct whatsapp.phone_number_id (digits only, as Meta shows it)")
    if not creds.access_token:
        missing.append("enter the access token with `gembok whatsapp configure`")
    if missing:
        raise NotConfigured("WhatsApp is not configured: " + " and ".join(missing))
    base = rt.settings.graph_base_url
    if not base:
        raise NotConfigured("whatsapp.api_base_url is empty and the simulator is off: set it "
                            "to https://graph.facebook.com")
    if not _token_may_travel(base):
        raise NotConfigured("whatsapp.api_base_url must be an https:// URL (plain http only "
                            "for a simulator on this box): set it to https://graph.facebook.com")
    return Endpoint(base.rstrip("/"), rt.settings.whatsapp.api_version, creds.phone_number_id,
                    creds.access_token)


def make_client(rt: Runtime, number_id: int = numbers.FIRST_NUMBER) -> CloudApiClient:
    where = endpoint(rt, number_id)
    return CloudApiClient(where.base, where.version, where.phone_number_id, where.token)


def _token_may_travel(base: str) -> bool:
    """https anywhere; plain http only to loopback, where the quick start's simulator is."""
    origin = origin_of(base)
    if origin is None:
        return False
    if origin.scheme == "https":
        return True
    if origin.host == "localhost":
        return True
    try:
        return ipaddress.ip_address(origin.host).is_loopback
    except ValueError:
        return False

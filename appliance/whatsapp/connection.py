"""Provides `make_client`: a Cloud API client from the settings and the sealed credentials."""

from __future__ import annotations

from appliance.errors import GembokError
from appliance.runtime import Runtime
from appliance.whatsapp.client import CloudApiClient
from appliance.whatsapp.credentials import load_credentials


class NotConfigured(GembokError):
    """WhatsApp credentials are missing: nothing can be sent or downloaded yet."""


def make_client(rt: Runtime) -> CloudApiClient:
    creds = load_credentials(rt)
    if not creds.phone_number_id or not creds.access_token:
        raise NotConfigured("WhatsApp is not configured: set whatsapp.phone_number_id and "
                            "enter the access token with `gembok whatsapp configure`")
    if not rt.settings.graph_base_url:
        raise NotConfigured("whatsapp.api_base_url is empty and the simulator is off: set it "
                            "to https://graph.facebook.com")
    return CloudApiClient(rt.settings.graph_base_url, rt.settings.whatsapp.api_version,
                          creds.phone_number_id, creds.access_token)

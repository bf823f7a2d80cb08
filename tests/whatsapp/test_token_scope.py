"""A customer's photo is fetched with the access token, and the token goes nowhere else.

Siti sends Ayu's shop a photo of her transfer receipt. Gembok asks Meta for it by the
media id in the webhook and downloads it from the URL Meta answers, with the bearer
token. A webhook is signed, but defence in depth: a media id that is not Meta's shape
(`../me`, `x?y`) or a URL on another port or scheme must not aim that token anywhere.
Such a photo is refused before any request, its row marked failed with a short code.
"""

from __future__ import annotations

import hashlib
import json
import logging

import httpx
import pytest

from appliance.config import load_settings
from appliance.inbox import ingest
from appliance.runtime import Runtime
from appliance.store.models import Media
from appliance.whatsapp.client import CloudApiClient, GraphError, UrlRefused
from appliance.whatsapp.connection import NotConfigured, make_client
from appliance.whatsapp.media import fetch_media
from appliance.whatsapp.origins import is_media_id
from appliance.whatsapp.webhook_events import store
from simulator import ids
from simulator.app import create_simulator
from simulator.config import new_config
from tests.whatsapp.conftest import ACCESS_TOKEN, PHONE_NUMBER_ID, WHATSAPP_ENV, envelope

PHOTO = b"\xff\xd8\xff\xe0" + b"bukti transfer" * 50
GOOD_ID = "1003383421387256"
MEDIA_URL = "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1003383421387256"


class FakeMeta:
    """Meta's Graph and media hosts, answering `GET /{media-id}` with `url`; every request
    that reaches it is kept, with whether it carried the token."""

    def __init__(self, url: str = MEDIA_URL) -> None:
        self.url, self.seen = url, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((str(request.url), "Authorization" in request.headers))
        if request.url.path.startswith("/v25.0/"):
            return httpx.Response(200, json={
                "messaging_product": "whatsapp", "url": self.url, "mime_type": "image/jpeg",
                "sha256": hashlib.sha256(PHOTO).hexdigest(), "file_size": str(len(PHOTO)),
                "id": GOOD_ID})
        if request.url.path == "/moved":
            return httpx.Response(302, headers={"Location": "https://evil.example/loot"})
        return httpx.Response(200, content=PHOTO, headers={"Content-Type": "image/jpeg"})


def meta_client(meta: FakeMeta, base: str = "https://graph.facebook.com") -> CloudApiClient:
    return CloudApiClient(base, "v25.0", PHONE_NUMBER_ID, ACCESS_TOKEN,
                          transport=httpx.MockTransport(meta), retries=0)


def photo_arrives(rt, media_id: str) -> int:
    """Ingests Siti's photo message as Meta would send it; returns its media row id."""
    raw = json.dumps(envelope({
        "contacts": [{"profile": {"name": "Siti Rahayu"}, "wa_id": "6281234567890"}],
        "messages": [{"from": "6281234567890", "id": f"wamid.PHOTO{len(media_id)}",
                      "timestamp": "1764000000", "type": "image",
                      "image": {"id": media_id, "mime_type": "image/jpeg"}}]})).encode()
    [row_id] = ingest.process_event(rt, store(rt.keyring.system, raw)).media_ids
    return row_id


def test_a_photo_comes_from_metas_media_host_with_the_token(wa_rt):
    meta = FakeMeta()
    row_id = photo_arrives(wa_rt, GOOD_ID)
    with meta_client(meta) as client:
        assert fetch_media(wa_rt, row_id, client) == "stored"
    assert meta.seen == [(f"https://graph.facebook.com/v25.0/{GOOD_ID}", True), (MEDIA_URL, True)]


@pytest.mark.parametrize("media_id", [
    "../x", "x?y", "123/../../me", "%2e%2e", "1003383421387256/../../me",
    "1003383421387256?fields=access_token", "1003383421387256#",
    "".join(chr(0xFF10 + int(d)) for d in "1003383421"),  # full-width digits: isdigit() is True
    "".join(chr(0x0660 + int(d)) for d in "1003383421"),  # Arabic-Indic digits, the same
    "12345", "1" * 33,
])
def test_a_media_id_not_shaped_like_metas_is_refused_without_a_request(wa_rt, caplog,
                                                                       media_id):
    # Given a signed webhook whose photo carries a crafted media id
    meta = FakeMeta()
    row_id = photo_arrives(wa_rt, media_id)
    # When the worker fetches it
    with caplog.at_level(logging.INFO), meta_client(meta) as client:
        state = fetch_media(wa_rt, row_id, client)
    # Then nothing was asked of anyone, the row failed with a short code, and the log
    # names the row, not the id (it came from outside)
    assert state == "failed" and meta.seen == []
    assert Media.get_by_id(row_id).error == "bad_media_id"
    [line] = [r.getMessage() for r in caplog.records]
    assert f"media {row_id} not stored: bad_media_id" == line and media_id not in line


@pytest.mark.parametrize(("base", "url"), [
    ("https://graph.facebook.com", "https://lookaside.fbsbx.com:8443/whatsapp_business/x"),
    ("https://graph.facebook.com", "http://lookaside.fbsbx.com/whatsapp_business/x"),
    ("https://graph.facebook.com", "https://lookaside.fbsbx.com.evil.example/x"),
    ("https://graph.facebook.com", "https://lookaside.fbsbx.com@evil.example/x"),
    ("https://graph.facebook.com", "https://siti@lookaside.fbsbx.com/x"),
    ("https://graph.facebook.com", "https://evil.example/x"),
    ("https://graph.facebook.com", "//evil.example/x"),
    ("https://graph.facebook.com", "file:///etc/gembok/master.key"),
    ("https://graph.evilfacebook.com", "https://lookaside.fbsbx.com/x"),  # not Meta's Graph
    ("http://127.0.0.1:8445", "http://127.0.0.1:9999/_media/x"),  # the simulator's port
    ("http://127.0.0.1:8445", "https://127.0.0.1:8445/_media/x"),  # ...and its scheme
])
def test_a_media_url_on_another_origin_is_refused_without_a_request(wa_rt, base, url):
    meta = FakeMeta(url)
    row_id = photo_arrives(wa_rt, GOOD_ID)
    with meta_client(meta, base) as client:
        assert fetch_media(wa_rt, row_id, client) == "failed"
    assert Media.get_by_id(row_id).error == "url_refused"
    assert meta.seen == [(f"{base}/v25.0/{GOOD_ID}", True)]  # the question, never the URL


def test_a_redirect_from_the_media_host_is_not_followed(wa_rt):
    meta = FakeMeta("https://lookaside.fbsbx.com/moved")
    row_id = photo_arrives(wa_rt, GOOD_ID)
    with meta_client(meta) as client:
        assert fetch_media(wa_rt, row_id, client) == "failed"
    assert [url for url, _ in meta.seen] == [f"https://graph.facebook.com/v25.0/{GOOD_ID}",
                                             "https://lookaside.fbsbx.com/moved"]


def test_other_ids_that_go_into_a_graph_path_are_checked_too():
    meta = FakeMeta()
    with meta_client(meta) as client, pytest.raises(GraphError):
        client.templates("../me")
    with pytest.raises(ValueError, match="digits"):
        CloudApiClient("https://graph.facebook.com", "v25.0", "1/../me", ACCESS_TOKEN)
    assert meta.seen == []


def test_a_future_call_that_forgets_the_check_still_cannot_carry_the_token_away():
    meta = FakeMeta()
    with meta_client(meta) as client, pytest.raises(UrlRefused):
        client._http.get("https://evil.example/", headers={"Authorization": "Bearer x"})
    assert meta.seen == []


def test_the_simulators_own_media_ids_and_urls_pass(wa_rt):
    # The quick start's simulator makes ids like Meta's, and serves media on its own origin
    assert all(is_media_id(ids.media_id()) for _ in range(1000))
    sim = create_simulator(new_config(), background=False)
    with CloudApiClient("http://sim.test", "v25.0", sim.config.phone_number_id,
                        sim.config.access_token, transport=httpx.WSGITransport(app=sim)) as client:
        media_id = client.upload_media(PHOTO, "image/jpeg", "bukti.jpg")
        row_id = photo_arrives(wa_rt, media_id)
        assert fetch_media(wa_rt, row_id, client) == "stored"
    sim.close()


@pytest.mark.parametrize(("base", "allowed"), [
    ("https://graph.facebook.com", True),
    ("http://127.0.0.1:8445", True),  # the quick start's simulator, on this box
    ("http://[::1]:8445", True),
    ("http://graph.facebook.com", False),  # the token in clear over the internet
    ("http://192.168.1.20:8445", False),
])
def test_the_token_travels_in_clear_only_to_this_box(wa_rt, base, allowed):
    settings = load_settings({**WHATSAPP_ENV, "GEMBOK_DATA_DIR": str(wa_rt.settings.data_dir),
                              "GEMBOK_WHATSAPP_API_BASE_URL": base})
    rt = Runtime(settings, wa_rt.keyring, wa_rt.index)
    if allowed:
        make_client(rt).close()
    else:
        with pytest.raises(NotConfigured, match="must be an https:// URL"):
            make_client(rt)

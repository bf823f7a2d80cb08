"""The DPO's pages, in Indonesian: the queue with its clocks, a customer's export with its
one-time password, retention, breaches and the records of processing; staff record a
customer's request from the chatroom's API. Bad input comes back in words with a 4xx."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pyzipper

from appliance.auth.permissions import principal_for
from appliance.clock import utcnow
from appliance.privacy import requests
from appliance.store.models import User
from appliance.store.privacy import PrivacyRequest
from tests.conftest import files_under
from tests.web.conftest import sign_in_as


def dewi(world):
    return principal_for(User.get_by_id(world.users["dewi"]))


def test_the_queue_shows_an_old_request_in_red_and_in_indonesian(world):
    # Given a request that came by letter 50 hours ago (22 hours left of 3 x 24)
    rid = requests.record(world.rt, dewi(world), world.customers["billing"], "correction",
                          received_at=utcnow() - timedelta(hours=50))
    # When Dewi, the DPO, opens Gembok
    browser = sign_in_as(world, "dewi")
    home = browser.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/privacy")
    page = browser.get("/privacy").get_data(as_text=True)
    # Then the queue is in Indonesian and the request's row is red
    assert "Permintaan subjek data" in page and "Sisa waktu" in page
    row = re.search(rf'<tr class="clock-(\w+)">\s*<td><a href="/privacy/requests/{rid}"', page)
    assert row and row.group(1) == "red"
    detail = browser.get(f"/privacy/requests/{rid}").get_data(as_text=True)
    assert 'id="clock" data-colour="red"' in detail


def test_the_dpo_exports_a_customer_and_only_an_encrypted_file_reaches_the_disk(
        world, no_temporary_files):
    browser = sign_in_as(world, "dewi")
    customer = world.customers["sales"]
    page = browser.form(f"/privacy/customers/{customer}/export", {})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    password = re.search(r'id="export-password">([^<]+)<', text).group(1)
    link = re.search(r'href="(/privacy/exports/[^"]+)"', text).group(1)
    # The file on the box is the encrypted ZIP: no name, number or message in it
    for path in files_under(world.rt.settings.data_dir / "exports"):
        raw = path.read_bytes()
        assert b"Siti" not in raw and b"3174051234567890" not in raw
    download = browser.get(link)
    assert download.status_code == 200 and download.headers["Cache-Control"] == "no-store"
    with pyzipper.AESZipFile(io.BytesIO(download.data)) as archive:
        archive.setpassword(password.encode())
        data = json.loads(archive.read("data.json"))
    assert data["customer"]["name"] == "Siti"
    assert [m["text"] for c in data["conversations"] for m in c["messages"]
            if m["text"]][:1] == ["NIK 3174051234567890"]
    # The password is shown once: the customer's page does not show it again
    again = browser.get(f"/privacy/customers/{customer}").get_data(as_text=True)
    assert password not in again


def test_bad_input_on_the_dpos_forms_is_answered_in_words(world):
    browser = sign_in_as(world, "dewi")
    for form in ({"customer": "²", "phone": "", "kind": "access"},
                 {"customer": "", "phone": "bukan nomor", "kind": "access"},
                 {"customer": str(world.customers["sales"]), "kind": "hapus-semua"},
                 {"customer": str(world.customers["sales"]), "kind": "access",
                  "received_at": "kemarin"}):
        resp = browser.form("/privacy/requests", form)
        assert resp.status_code == 422, form
        assert 'id="privacy-error"' in resp.get_data(as_text=True)
    for form in ({"division": "1", "days": "1e3"}, {"division": "²", "days": "30"},
                 {"division": str(world.divisions["Sales"]), "days": "99999999"}):
        assert browser.form("/privacy/retention", form).status_code == 422, form
    for form in ({"starts_at": "2026-13-45T10:00", "ends_at": "2026-12-01T10:00",
                  "accounts": "dedi"},
                 {"starts_at": "2026-12-01T10:00", "ends_at": "2026-11-01T10:00",
                  "accounts": "dedi"},
                 {"starts_at": "2026-11-01T10:00", "ends_at": "2026-11-02T10:00",
                  "accounts": "", "addresses": "bukan-ip"}):
        resp = browser.form("/privacy/breaches", form)
        assert resp.status_code == 422, form
    assert browser.form(f"/privacy/customers/{world.customers['sales']}/correct",
                        {"name": "", "reason": "x"}).status_code == 422


def test_an_agent_records_the_request_of_a_customer_she_serves(world):
    citra = sign_in_as(world, "citra")
    made = citra.post(f"/api/customers/{world.customers['billing']}/privacy-requests",
                      {"kind": "erasure"})
    assert made.status_code == 201
    row = PrivacyRequest.get_by_id(made.json["id"])
    assert (row.kind, row.channel, row.recorded_by) == ("erasure", "agent",
                                                        f"user:{world.users['citra']}")
    assert citra.post(f"/api/customers/{world.customers['sales']}/privacy-requests",
                      {"kind": "access"}).status_code == 404
    assert citra.post(f"/api/customers/{world.customers['billing']}/privacy-requests",
                      {"kind": "semua"}).status_code == 422


def test_the_records_of_processing_name_meta_and_every_sealed_table(world):
    browser = sign_in_as(world, "dewi")
    page = browser.get("/privacy/records").get_data(as_text=True)
    assert "Catatan pemrosesan" in page and "Meta Platforms" in page and "Pasal 56" in page
    data = browser.get("/privacy/records.json").json
    tables = {c["table"] for c in data["categories"]}
    assert {"customer", "message", "media", "note", "legal_hold", "consent_event"} <= tables
    assert data["processors"][0]["local_storage"]["status"] == "unknown"  # no number here
    retention_page = browser.get("/privacy/retention").get_data(as_text=True)
    assert "Retensi (Pasal 44)" in retention_page

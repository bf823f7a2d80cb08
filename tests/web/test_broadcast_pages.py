"""Budi, supervisor of Sales, sends a campaign to his division's customers; Ayu, the admin,
keeps the rate table; agents see none of it, and nobody sees another division's campaign.
Bad input comes back with words and a 4xx, and an imported CSV is never kept."""

from __future__ import annotations

import io
import json
import re

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from appliance.auth.permissions import BOX_ADMIN
from appliance.automation import campaigns, template_book
from appliance.automation.audience import Filter
from appliance.clock import utcnow
from appliance.privacy import consent
from appliance.store import broadcast as store
from appliance.store.numbers import WaNumber
from appliance.whatsapp import numbers
from tests.conftest import files_under
from tests.web.conftest import sign_in_as

BODY = [{"type": "BODY", "text": "Halo {{1}}, tagihan Anda {{2}} jatuh tempo besok."}]


@pytest.fixture(scope="module")
def bill(world) -> int:
    """The business's approved MARKETING template, and a paused one, as a sync keeps them."""
    now = utcnow()
    for name, status in (("tagihan", "APPROVED"), ("dijeda", "PAUSED")):
        store.WaTemplate.create(meta_id=f"9{len(name)}{status[:1]}", name=name, language="id",
                                category="MARKETING", previous_category="", status=status,
                                reason="", components=json.dumps(BODY),
                                parameter_format="POSITIONAL", synced_at=now, updated_at=now)
    consent.record(world.customers["sales"], "marketing", True, source="import", proof="f/1")
    return int(store.WaTemplate.get(store.WaTemplate.name == "tagihan").id)


def new_campaign(browser, template_id: int, **fields: str):
    form = {"template": str(template_id), "name": "Tagihan Desember", "source_1": "name",
            "value_1": "", "source_2": "text", "value_2": "Rp150.000", "recipients": "filter",
            "division": "", "label": "", "days": "", "consent": "any",
            "quiet_start": "21:00", "quiet_end": "08:00", **fields}
    return browser.form("/broadcast/new", form)


def test_budi_creates_a_campaign_for_sales_and_sees_who_is_excluded_and_why(world, bill):
    budi = sign_in_as(world, "budi")
    page = budi.get(f"/broadcast/new?template={bill}").get_data(as_text=True)
    assert "dijeda" not in page  # a paused template is not offered
    resp = new_campaign(budi, bill)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    shown = budi.get(resp.headers["Location"]).get_data(as_text=True)
    # (the page in Budi's language, Indonesian)
    assert "Akan dikirim: 1" in shown  # Siti opted in; Rudi, also of Sales, never did
    assert "tidak ada persetujuan pemasaran yang tercatat: 1" in shown
    assert "62811" not in shown and "Siti" not in shown  # counts, never people
    listing = budi.get("/broadcast").get_data(as_text=True)
    assert "Tagihan Desember" in listing


def test_a_campaign_without_a_name_or_with_a_broken_value_is_refused_with_words(world, bill):
    budi = sign_in_as(world, "budi")
    assert new_campaign(budi, bill, name="").status_code == 422
    resp = new_campaign(budi, bill, source_2="column", value_2="tagihan")
    assert resp.status_code == 422
    assert "CSV column" in resp.get_data(as_text=True)
    assert new_campaign(budi, bill, days="banyak").status_code == 422


def test_agents_have_no_broadcast_and_budi_cannot_open_a_billing_campaign(world, bill):
    theirs = campaigns.create(world.rt, BOX_ADMIN, name="Billing", template_id=bill,
                              parameters=[{"name": "1", "source": "name"},
                                          {"name": "2", "source": "text", "value": "x"}],
                              audience_filter=Filter(divisions=(world.divisions["Billing"],)))
    dedi = sign_in_as(world, "dedi")
    for path in ("/broadcast", "/broadcast/new", f"/broadcast/{theirs}"):
        assert dedi.get(path).status_code == 404
    budi = sign_in_as(world, "budi")
    assert budi.get(f"/broadcast/{theirs}").status_code == 404
    assert budi.get(f"/api/broadcast/{theirs}").status_code == 404
    assert budi.form(f"/broadcast/{theirs}/cancel", {}).status_code == 404
    assert budi.get(f"/broadcast/{theirs}/report.csv").status_code == 404
    assert sign_in_as(world, "ayu").get(f"/broadcast/{theirs}").status_code == 200


def upload_csv(browser, campaign_id: int, rows: str):
    """The browser's multipart body, encoded in memory before it is sent (werkzeug's test
    client would spool a large one to a file of its own, on the test's side)."""
    boundary, body = encode_multipart({
        "file": FileStorage(io.BytesIO(rows.encode()), filename="pelanggan.csv",
                            content_type="text/csv"), "csrf_token": browser.csrf()})
    return browser.client.post(f"/broadcast/{campaign_id}/import", data=body,
                               content_type=f"multipart/form-data; boundary={boundary}")


def test_a_csv_with_bad_rows_is_reported_row_by_row_and_nothing_of_it_stays_on_disk(
        world, bill, no_temporary_files):
    budi = sign_in_as(world, "budi")
    resp = new_campaign(budi, bill, recipients="csv", source_1="column", value_1="nama",
                        name="Impor")
    cid = int(resp.headers["Location"].rsplit("/", 1)[1])
    notes = "catatan pelanggan " * 6000  # 108 KB a field, 650 KB a file: werkzeug would
    rows = (f"phone,nama,opt_in_source,opt_in_reference,{'x' * 100_000}\n"  # spool it
            f"+62 812 7000 0001,Wulan Sari,website,form-1,{notes}\n"
            f"0812-RAHASIA-99,Joko,website,form-2,{notes}\n"
            f"+62 812 7000 0003,,website,form-3,{notes}\n"
            f"+62 812 7000 0004,Maya,,form-4,{notes}\n")
    before = {p: p.stat().st_size for p in files_under(world.rt.settings.data_dir)}
    resp = upload_csv(budi, cid, rows)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200, text
    errors = re.findall(r"<li>(row \d+: [^<]*)</li>", text)
    assert [e.split(":")[0] for e in errors] == ["row 3", "row 4", "row 5"]
    assert "RAHASIA" not in text and "Joko" not in text  # the report names rows, not data
    assert "1 penerima ditambahkan" in text
    # the upload never reached a file: nothing new holds the CSV's words
    for path in files_under(world.rt.settings.data_dir):
        if path not in before and path.is_file():
            assert b"Wulan" not in path.read_bytes(), path


def test_budi_starts_pauses_and_cancels_and_the_page_reads_progress(world, bill):
    budi = sign_in_as(world, "budi")
    cid = int(new_campaign(budi, bill, name="Mulai").headers["Location"].rsplit("/", 1)[1])
    assert budi.form(f"/broadcast/{cid}/start", {"start_at": "besok"}).status_code == 400
    assert budi.form(f"/broadcast/{cid}/start", {"start_at": "2099-01-01T09:00"}
                     ).status_code == 302
    assert store.Campaign.get_by_id(cid).state == "scheduled"
    assert store.Campaign.get_by_id(cid).start_at.hour == 2  # 09:00 WIB is 02:00 UTC
    progress = budi.get(f"/api/broadcast/{cid}").get_json()
    assert progress["state"] == "scheduled" and progress["to_send"] == 1
    assert budi.form(f"/broadcast/{cid}/pause", {}).status_code == 302
    again = budi.form(f"/broadcast/{cid}/pause", {})
    assert again.status_code == 422 and "paused" in again.get_data(as_text=True)
    assert budi.form(f"/broadcast/{cid}/cancel", {}).status_code == 302
    report = budi.get(f"/broadcast/{cid}/report.csv")
    assert report.headers["Content-Type"].startswith("text/csv")
    assert b"62811" not in report.data


def test_only_an_admin_keeps_the_rates_and_a_bad_price_is_refused(world):
    assert sign_in_as(world, "budi").get("/broadcast/rates").status_code == 404
    ayu = sign_in_as(world, "ayu")
    assert ayu.form("/broadcast/rates", {"category": "MARKETING", "currency": "IDR",
                                         "price": "murah"}).status_code == 422
    assert ayu.form("/broadcast/rates", {"category": "MARKETING", "currency": "IDR",
                                         "price": "586,33"}).status_code == 302
    assert "586.33" in ayu.get("/broadcast/rates").get_data(as_text=True)


def test_the_templates_page_shows_why_a_template_cannot_be_sent(world, bill):
    page = sign_in_as(world, "budi").get("/broadcast/templates").get_data(as_text=True)
    assert "paused by Meta after poor feedback" in page
    assert "Halo [1], tagihan Anda [2]" in page


@pytest.mark.parametrize("value", ["²", "\u0661", str(2**63), "9" * 30, "-1", "1.5", " 7"])
def test_numbers_nobody_writes_in_the_campaign_form_are_refused_never_a_500(world, bill, value):
    budi = sign_in_as(world, "budi")
    for field in ("template", "division", "days"):
        resp = new_campaign(budi, bill, **{field: value})
        assert resp.status_code < 500, (field, value, resp.status_code)
    assert budi.get(f"/broadcast/new?template={value}").status_code == 200
    start = budi.form(f"/broadcast/{value}/start", {"start_at": value})
    assert start.status_code == 404


def test_a_csv_field_too_long_for_csv_is_refused_in_words_never_a_500(world, bill):
    budi = sign_in_as(world, "budi")
    resp = new_campaign(budi, bill, recipients="csv", source_1="column", value_1="nama",
                        name="Impor panjang")
    cid = int(resp.headers["Location"].rsplit("/", 1)[1])
    rows = ("phone,nama,opt_in_source,opt_in_reference\n"
            f"+62 812 7000 0001,{'Wulan ' * 40_000},website,form-1\n")
    resp = upload_csv(budi, cid, rows)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "cannot be read as CSV" in text
    assert "Wulan" not in text


def test_with_a_second_account_each_template_names_its_numbers_and_sends_only_from_them(
        world, bill):
    # Given the business's second brand, Kopi Nusantara, in an account of its own, with a
    # template of its own
    WaNumber.update(waba_id="102290129340398").where(WaNumber.id == 1).execute()
    numbers.add(world.rt, phone_number_id="109876543210987", label="Kopi Nusantara",
                waba_id="102290129340399", actor="system")
    template_book.adopt("102290129340398")  # the first account's sync takes the old rows
    now = utcnow()
    kopi = store.WaTemplate.create(
        waba_id="102290129340399", meta_id="88", name="tagihan", language="id",
        category="MARKETING", previous_category="", status="APPROVED", reason="",
        components=json.dumps(BODY), parameter_format="POSITIONAL", synced_at=now,
        updated_at=now)
    try:
        budi = sign_in_as(world, "budi")
        # Then the templates page says whose each one is
        page = budi.get("/broadcast/templates").get_data(as_text=True)
        assert page.count("<td>Kopi Nusantara</td>") == 1
        # And the namesakes are told apart when choosing, and Kopi's offers only its number
        page = budi.get(f"/broadcast/new?template={kopi.id}").get_data(as_text=True)
        assert "tagihan (id) · MARKETING · Kopi Nusantara" in page
        assert '<input type="hidden" name="number" value="2">' in page
        resp = new_campaign(budi, kopi.id, number="1")
        assert resp.status_code == 422
        assert "send it from Kopi Nusantara" in resp.get_data(as_text=True)
        assert new_campaign(budi, kopi.id, number="2").status_code == 302
    finally:
        WaNumber.update(waba_id="").where(WaNumber.id == 1).execute()
        WaNumber.update(active=False).where(WaNumber.id == 2).execute()
        numbers.clear_cache()

"""Auto Reply's pages in a real browser against `gembok run`, in Indonesian.

Budi, supervisor of Sales, writes a keyword rule "Tagihan", tries "mau tanya tagihan"
against it before saving (it would fire, and stop), saves it and finds it in the list;
then gives Sales business hours with a Friday period past midnight and an away message.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from appliance.automation.hours import is_open
from appliance.automation.schedules import load_schedule
from appliance.store.db import db
from appliance.store.models import Division
from tests.browser.conftest import WAIT_MS, Office

pytestmark = pytest.mark.slow
WITA = ZoneInfo("Asia/Makassar")


@pytest.fixture(scope="module")
def staff(office: Office) -> Office:
    office.division("Sales")
    office.division("Billing")
    office.agent("budi", "Sales", name="Budi", role="supervisor")
    return office


def open_page(office: Office, path: str) -> tuple[Page, list[str]]:
    page = office.context("budi").new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path)
    expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=WAIT_MS)
    db.close()  # what the appliance wrote since, read afresh
    return page, errors


def test_budi_tries_a_tagihan_rule_before_saving_it_then_finds_it_in_the_list(staff, shot):
    # Given Budi on the Auto Reply page, with no rules yet
    page, errors = open_page(staff, "/automation")
    expect(page.locator("#rules-empty")).to_be_visible()
    # When he writes a rule: the word "tagihan" gets a reply, in Sales
    page.get_by_role("button", name="Tambah aturan").click()
    page.locator("#rule-name").fill("Tagihan")
    expect(page.get_by_label("Berlaku untuk")).to_have_value(
        str(Division.get(Division.name == "Sales").id))
    expect(page.get_by_label("Syarat 1", exact=True)).to_have_value("keyword")
    page.get_by_label("Kata, satu per baris").fill("tagihan")
    expect(page.get_by_label("Tindakan 1", exact=True)).to_have_value("reply_text")
    page.get_by_label("Teks", exact=True).fill("Baik, kami bantu cek tagihan Anda.")
    # And tries what a customer might write, before saving
    page.get_by_label("Contoh pesan").fill("mau tanya tagihan")
    page.get_by_role("button", name="Coba", exact=True).click()
    # Then the page says the rule being edited would fire, and stop the list
    expect(page.locator("#try-result")).to_have_text(
        "akan dijalankan: aturan yang sedang diubah “Tagihan”, lalu berhenti")
    # When he saves it
    page.get_by_role("button", name="Simpan aturan").click()
    # Then it is in the list, summarised in his language, and a try names it by its number
    expect(page.locator("#rules-notice")).to_have_text("Aturan tersimpan.")
    item = page.locator("#rule-list li", has_text="Tagihan")
    expect(item).to_contain_text("Pesan memuat kata kunci: memuat “tagihan”")
    expect(item).to_contain_text("Balas dengan teks: “Baik, kami bantu cek tagihan Anda.”")
    expect(item).to_contain_text("Sales · lalu berhenti")
    expect(page.locator("#editor")).to_be_hidden()
    page.get_by_role("button", name="Coba", exact=True).click()
    expect(page.locator("#try-result")).to_have_text(
        re.compile(r"^akan dijalankan: aturan \d+ “Tagihan”, lalu berhenti$"))
    shot(page, "automation-rules")
    assert errors == []


def test_budi_gives_sales_hours_past_midnight_and_an_away_message(staff, shot):
    # Given Budi on the business hours page: Sales, the only division he keeps
    page, errors = open_page(staff, "/automation/hours")
    sales = Division.get(Division.name == "Sales").id
    expect(page.get_by_label("Jam kerja siapa")).to_have_value(str(sales))
    expect(page.locator("#hours-state")).to_contain_text("Jam kerja belum diatur")
    # When he opens Friday 20:00 until 02:00, in WITA, with an away message
    page.get_by_role("button", name="Tambah periode pada hari Jumat").click()
    page.get_by_label("Buka — Jumat, periode 1").fill("20:00")
    page.get_by_label("Tutup — Jumat, periode 1").fill("02:00")
    expect(page.locator(".weekday[data-weekday='4'] .late")).to_have_text(
        "melewati tengah malam")
    page.get_by_label("Zona waktu").select_option("Asia/Makassar")
    page.get_by_label("Pesan di luar jam kerja, bahasa Indonesia").fill(
        "Kami sedang tutup. Kami balas Jumat pukul 20.00 WITA.")
    page.get_by_role("button", name="Simpan jam kerja").click()
    # Then they are Sales' own hours, still there when the page is opened again
    expect(page.locator("#hours-state")).to_have_text("Jam kerja tersimpan.")
    page.reload()
    expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=WAIT_MS)
    expect(page.locator("#hours-state")).to_have_text("Ini jam kerjanya sendiri.")
    expect(page.get_by_label("Tutup — Jumat, periode 1")).to_have_value("02:00")
    expect(page.get_by_label("Zona waktu")).to_have_value("Asia/Makassar")
    shot(page, "automation-hours")
    # And Auto Reply counts Saturday 01:30 WITA as open, Saturday 03:00 as closed
    db.close()
    schedule = load_schedule(sales)
    assert is_open(schedule, datetime(2026, 12, 12, 1, 30, tzinfo=WITA))
    assert not is_open(schedule, datetime(2026, 12, 12, 3, 0, tzinfo=WITA))
    assert schedule.away_message["id"].startswith("Kami sedang tutup.")
    assert errors == []

"""Ayu, the admin, sets what Auto Reply says first: the privacy notice, the menu, the words
that stop promotions; Budi, a supervisor, reads them; mistakes come back with words."""

from __future__ import annotations

import pytest

from appliance.automation import menu_book
from appliance.privacy import notice, opt_words
from tests.web.conftest import sign_in_as


def test_ayu_publishes_the_privacy_notice_and_budi_reads_it(world):
    ayu = sign_in_as(world, "ayu")
    resp = ayu.form("/automation/welcome/notice", {
        "version": "2026-12", "summary_id": "Kami memproses nama dan nomor Anda.",
        "full_id": "Pemberitahuan lengkap.", "summary_en": "", "full_en": ""})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("saved=notice#notice")
    assert notice.current().version == "2026-12"
    page = sign_in_as(world, "budi").client.get("/automation/welcome").get_data(as_text=True)
    assert "Kami memproses nama dan nomor Anda." in page and 'id="notice-form"' not in page
    again = ayu.form("/automation/welcome/notice", {
        "version": "2026-12", "summary_id": "Diubah diam-diam", "full_id": "x"})
    assert again.status_code == 422
    text = again.get_data(as_text=True)
    assert "published already" in text and "Diubah diam-diam" in text  # what was typed stays


def test_ayu_saves_a_menu_of_two_divisions_and_a_title_too_long_is_refused_with_words(world):
    ayu = sign_in_as(world, "ayu")
    sales, billing = world.divisions["Sales"], world.divisions["Billing"]
    form = {"enabled": "on", "body_id": "Ada yang bisa kami bantu?", "body_en": "",
            "title_id": ["Tagihan", "Penjualan", ""], "title_en": ["Billing", "Sales", ""],
            "description_id": ["", "", ""], "description_en": ["", "", ""],
            "division": [str(billing), str(sales), ""], "words": ["bayar, invoice", "", ""],
            "default_division": str(sales), "timeout_minutes": "15"}
    resp = ayu.form("/automation/welcome/menu", form)
    assert resp.status_code == 303, resp.get_data(as_text=True)
    menu = menu_book.load()
    assert [c.title_id for c in menu.choices] == ["Tagihan", "Penjualan"]
    assert menu.choices[0].words == ("bayar", "invoice") and menu.timeout_minutes == 15
    long = ayu.form("/automation/welcome/menu", {**form, "title_id": [
        "Pembayaran dan tagihan", "Penjualan", ""]})
    assert long.status_code == 422 and "at most 20" in long.get_data(as_text=True)
    no_default = ayu.form("/automation/welcome/menu", {**form, "default_division": ""})
    assert no_default.status_code == 422
    assert "which division takes a conversation" in no_default.get_data(as_text=True)


def test_ayu_adds_words_that_stop_promotions(world):
    ayu = sign_in_as(world, "ayu")
    resp = ayu.form("/automation/welcome/words", {"out_words": "udahan\ngak usah kirim lagi",
                                                  "in_words": "mau promo"})
    assert resp.status_code == 303
    assert opt_words.added() == (["udahan", "gak usah kirim lagi"], ["mau promo"])
    clash = ayu.form("/automation/welcome/words", {"out_words": "mulai", "in_words": ""})
    assert clash.status_code == 422 and "cannot both" in clash.get_data(as_text=True)


def test_budi_cannot_change_the_business_menu(world):
    budi = sign_in_as(world, "budi")
    assert budi.form("/automation/welcome/menu", {"enabled": ""}).status_code == 404


@pytest.mark.parametrize("value", ["12abc", "²", "9" * 30, "-1", "1.5", "0", "999999"])
@pytest.mark.parametrize("field", ["default_division", "timeout_minutes", "division"])
def test_a_number_no_form_of_ours_writes_is_refused_with_words_never_a_500(world, field, value):
    ayu = sign_in_as(world, "ayu")
    form = {"enabled": "on", "body_id": "Ada yang bisa kami bantu?",
            "title_id": ["Tagihan"], "division": [str(world.divisions["Billing"])],
            "default_division": str(world.divisions["Sales"]), "timeout_minutes": "10"}
    form[field] = [value] if field == "division" else value
    resp = ayu.form("/automation/welcome/menu", form)
    assert resp.status_code == 422, (field, value, resp.status_code)
    assert 'role="alert"' in resp.get_data(as_text=True)

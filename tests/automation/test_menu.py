"""The routing menu fits WhatsApp's limits, and understands taps and written answers."""

from __future__ import annotations

import pytest

from appliance.automation.menu import (
    Choice,
    Menu,
    answer,
    check_menu,
    interactive,
    page_count,
    shown_text,
)
from appliance.automation.rules import RuleError


def menu_of(*titles: str) -> Menu:
    return Menu(True, "Ada yang bisa kami bantu?", "How can we help?",
                tuple(Choice(n, t, words=("bayar",) if t == "Tagihan" else ())
                      for n, t in enumerate(titles, 1)), default_division_id=1)


def test_two_choices_and_a_person_are_three_reply_buttons():
    content = interactive(menu_of("Tagihan", "Penjualan"), 1, "id")
    assert content["type"] == "button"
    titles = [b["reply"]["title"] for b in content["action"]["buttons"]]
    assert titles == ["Tagihan", "Penjualan", "Hubungi petugas"]
    assert all(len(t) <= 20 for t in titles)


def test_four_to_nine_choices_are_one_list_with_the_person_last():
    content = interactive(menu_of(*"ABCDEFGHI"), 1, "id")
    rows = content["action"]["sections"][0]["rows"]
    assert content["type"] == "list" and len(rows) == 10
    assert rows[0] == {"id": "menu:c:1", "title": "1. A"} and rows[-1]["id"] == "menu:person"


def test_more_choices_go_in_pages_of_eight_each_with_the_person_and_more():
    menu = menu_of(*(f"Pilihan {n}" for n in range(1, 21)))
    assert page_count(menu) == 3
    first = interactive(menu, 1, "id")["action"]["sections"][0]["rows"]
    assert len(first) == 10 and first[-1]["id"] == "menu:page:2"
    assert first[-2]["id"] == "menu:person"
    last = interactive(menu, 3, "en")["action"]["sections"][0]["rows"]
    assert [r["id"] for r in last] == ["menu:c:17", "menu:c:18", "menu:c:19", "menu:c:20",
                                       "menu:person"]
    assert all(len(r["title"]) <= 24 for p in (1, 2, 3) for r in
               interactive(menu, p, "id")["action"]["sections"][0]["rows"])


@pytest.mark.parametrize(("menu", "says"), [
    (Menu(True, "", choices=(Choice(1, "A"),)), "question in Indonesian"),
    (Menu(True, "x" * 1025, choices=(Choice(1, "A"),)), "1,025 characters"),
    (Menu(True, "Pilih", choices=()), "at least one choice"),
    (Menu(True, "Pilih", choices=(Choice(1, "Pembayaran dan tagihan"),)), "at most 20"),
    (Menu(True, "Pilih", choices=(Choice(1, "A", description_id="d" * 73),)), "at most 72"),
    (Menu(True, "Pilih", choices=(Choice(1, "Tagihan"), Choice(2, "TAGIHAN"))), "twice"),
])
def test_a_menu_whatsapp_would_refuse_is_refused_when_it_is_saved(menu, says):
    with pytest.raises(RuleError, match=says):
        check_menu(menu)


def test_a_customer_answers_by_tapping_by_number_or_in_words():
    menu = menu_of("Tagihan", "Penjualan", "Teknis")
    assert answer(menu, reply_id="menu:c:2", text="").choice.title_id == "Penjualan"
    assert answer(menu, reply_id=None, text="3").choice.title_id == "Teknis"
    assert answer(menu, reply_id=None, text="mau bayar dong").choice.title_id == "Tagihan"
    assert answer(menu, reply_id=None, text="PENJUALAN").choice.title_id == "Penjualan"
    assert answer(menu, reply_id=None, text="0").kind == "person"
    assert answer(menu, reply_id=None, text="saya mau bicara dengan petugas").kind == "person"
    assert answer(menu, reply_id="menu:person", text="").kind == "person"
    assert answer(menu, reply_id=None, text="7") is None
    assert answer(menu, reply_id=None, text="terima kasih") is None


def test_the_conversation_shows_the_menu_as_words():
    shown = shown_text(menu_of("Tagihan", "Penjualan"), 1, "en")
    assert shown.startswith("How can we help?") and "• Talk to a person" in shown

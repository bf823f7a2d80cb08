"""The Chatroom's pages without a browser: who lands where, what a page may carry, languages.

Pages carry no conversation data (the scripts fetch it by id from the API), no inline
script or style (the CSP would block it), and words from a catalog that is compiled.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from appliance.inbox.reports import local_day
from appliance.store.accounts import UserSession
from appliance.store.models import User
from tests.web.conftest import sign_in_as
from webui.chatroom import CHART_HEIGHT, CHART_WIDTH, day_bars

ROOT = Path(__file__).resolve().parents[2]
WEBUI = ROOT / "webui"
CATALOGS = sorted((WEBUI / "translations").glob("*/LC_MESSAGES/messages.po"))
CUSTOMER_WORDS = ["Siti", "Rudi", "Tono", "Wati", "6281111111111", "Tagihan ganda"]
PAGES = ["/", "/dashboard", "/dashboard?days=30", "/account/password", "/account/sessions",
         "/account/second-factor"]


def page_config(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="chatroom-config">(.*?)</script>',
                      html, re.S)
    assert found, "the Chatroom's data block is missing"
    return json.loads(found.group(1))


@pytest.mark.parametrize(("name", "can_reply", "can_reveal"), [
    ("dedi", True, False), ("citra", True, False), ("budi", True, True), ("eko", False, True)])
def test_people_who_read_conversations_land_in_the_chatroom(world, name, can_reply, can_reveal):
    # When someone who may read conversations opens the start page
    page = sign_in_as(world, name).get("/")
    html = page.get_data(as_text=True)
    # Then it is the Chatroom, told what this person may do (the server decides anyway)
    assert page.status_code == 200 and 'id="conversation-list"' in html
    config = page_config(html)
    assert config["user_id"] == world.users[name]
    assert ("conversation.reply" in config["permissions"]) is can_reply
    assert ("customer.reveal_phone" in config["permissions"]) is can_reveal
    assert config["timezone"] == "Asia/Jakarta" and config["lang"] == "id"
    # And no customer's data is in the page itself: it arrives through the API, by id
    assert not [word for word in CUSTOMER_WORDS if word in html]


def test_an_admin_without_content_lands_on_a_page_without_conversation_data(world):
    html = sign_in_as(world, "ayu").get("/").get_data(as_text=True)
    assert "Ayu" in html and "admin" in html
    assert 'id="conversation-list"' not in html and "chatroom-config" not in html
    assert "js/chatroom/" not in html and "/dashboard" not in html
    assert not [word for word in CUSTOMER_WORDS if word in html]


def test_the_dashboard_shows_load_times_and_a_chart_of_new_conversations(world):
    budi = sign_in_as(world, "budi")
    week = budi.get("/dashboard").get_data(as_text=True)
    assert "Sales" in week and "Billing" not in week  # his division only
    assert "<svg" in week and week.count('<rect') == 8  # 7 days back and today
    assert "Respons pertama, median" in week
    month = budi.get("/dashboard?days=30").get_data(as_text=True)
    assert month.count('<rect') == 31
    odd = budi.get("/dashboard?days=1000").get_data(as_text=True)
    assert odd.count('<rect') == 8  # anything else is the week
    assert not [word for word in CUSTOMER_WORDS[:4] if word in week + month]


def test_indonesian_is_the_default_and_english_is_chosen_per_user(world):
    sari = sign_in_as(world, "sari")
    first = sari.get("/").get_data(as_text=True)
    assert '<html lang="id">' in first and "Kotak masuk" in first
    try:
        # When Sari chooses English
        assert sari.form("/account/language", {"language": "en"}).status_code == 302
        # Then her pages are in English, and nobody else's
        english = sari.get("/").get_data(as_text=True)
        assert '<html lang="en">' in english and ">Inbox<" in english
        assert "Kotak masuk" not in english and page_config(english)["lang"] == "en"
        assert "Kotak masuk" in sign_in_as(world, "dedi").get("/").get_data(as_text=True)
    finally:
        User.update(language="id").where(User.id == world.users["sari"]).execute()


def test_the_sign_in_page_is_in_indonesian(world):
    html = sign_in_as(world, None).get("/login").get_data(as_text=True)
    assert '<html lang="id">' in html and "Nama pengguna" in html and "Masuk" in html


def test_dates_are_shown_in_jakarta_time_in_the_users_language(world):
    budi = sign_in_as(world, "budi")
    html = budi.get("/account/sessions").get_data(as_text=True)
    started = UserSession.select().where(UserSession.user == world.users["budi"]).order_by(
        UserSession.id.desc()).get().created_at
    shown = format_datetime(started.replace(tzinfo=UTC), "short",
                            tzinfo=ZoneInfo("Asia/Jakarta"), locale="id")
    assert shown in html


@pytest.mark.parametrize("name", ["anonymous", "ayu", "eko", "budi", "dedi"])
def test_no_page_carries_inline_script_or_style(world, name):
    browser = sign_in_as(world, None if name == "anonymous" else name)
    bodies = [browser.get(path).get_data(as_text=True) for path in [*PAGES, "/login"]]
    for html in bodies:
        for tag in re.findall(r"<script\b[^>]*>", html, re.I):
            assert "src=" in tag or 'type="application/json"' in tag, tag
        for tag, body in re.findall(r"(<script\b[^>]*>)(.*?)</script>", html, re.I | re.S):
            assert not body.strip() or 'type="application/json"' in tag
            if body.strip():
                json.loads(body)  # data, not code
        assert not re.search(r"\son[a-z]+\s*=", html, re.I), "an inline event handler"
        assert not re.search(r"\sstyle\s*=", html, re.I), "an inline style"
        assert "javascript:" not in html.lower()


def test_the_second_factor_pages_carry_no_inline_script_or_style_either(world):
    # (the QR code is the one server-made SVG put into a page as it is)
    budi = sign_in_as(world, "budi")
    html = budi.form("/account/second-factor", {"step": "start"}).get_data(as_text=True)
    assert "<svg" in html
    assert not re.search(r"\son[a-z]+\s*=|\sstyle\s*=|<script(?![^>]*\ssrc=)", html, re.I)


def test_the_chart_has_a_bar_for_every_day_scaled_to_the_busiest():
    until = datetime(2026, 11, 22, 10, 0)
    bars = day_bars([("2026-11-20", 2), ("2026-11-22", 4)], until - timedelta(days=3), until)
    assert [(b.day.isoformat(), b.count) for b in bars] == [
        ("2026-11-19", 0), ("2026-11-20", 2), ("2026-11-21", 0), ("2026-11-22", 4)]
    assert [b.height for b in bars] == [0, CHART_HEIGHT / 2, 0, CHART_HEIGHT]
    assert all(b.y + b.height == CHART_HEIGHT for b in bars)
    assert bars[-1].labelled and all(b.x + b.width <= CHART_WIDTH for b in bars)


def test_a_conversation_at_half_past_one_in_jakarta_counts_on_that_jakarta_day():
    # 18:30 UTC on the 24th is 01:30 WIB on the 25th: the supervisor's chart says the 25th
    jakarta = ZoneInfo("Asia/Jakarta")
    assert local_day(datetime(2026, 11, 24, 18, 30), jakarta) == "2026-11-25"
    until = datetime(2026, 11, 24, 18, 45)
    bars = day_bars([("2026-11-25", 1)], until - timedelta(days=1), until, jakarta)
    assert [(b.day.isoformat(), b.count) for b in bars] == [("2026-11-24", 0),
                                                            ("2026-11-25", 1)]


def test_the_scripts_build_the_page_from_text_never_from_html():
    scripts = sorted((WEBUI / "static" / "js").rglob("*.js"))
    assert scripts
    for script in scripts:
        source = script.read_text()
        assert source.startswith("// Provides"), f"{script.name}: say what it provides"
        for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                      "eval(", "new Function", "setAttribute(\"on"):
            assert risky not in source or (script.name == "dom.js" and "HTML" in risky), (
                f"{script.name} uses {risky}")


def test_templates_mark_nothing_safe_but_the_servers_own_qr_code():
    uses = [(path.name, line) for path in (WEBUI / "templates").rglob("*.html")
            for line in path.read_text().splitlines() if "|safe" in line.replace(" ", "")]
    assert uses == [("enrol.html", '  <div class="qr">{{ qr|safe }}</div>')]


@pytest.mark.parametrize("po", CATALOGS, ids=[p.parts[-3] for p in CATALOGS])
def test_the_compiled_catalog_is_the_compilation_of_its_source(po):
    with po.open("rb") as source:
        catalog = read_po(source)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    with po.with_suffix(".mo").open("rb") as committed:
        shipped = read_mo(committed)
    fresh = read_mo(compiled)

    def messages(cat):
        return {(str(m.id), str(m.string)) for m in cat if m.id}

    assert messages(shipped) == messages(fresh), "run: .venv/bin/pybabel compile -d " \
                                                 "webui/translations"


def test_every_word_of_the_ui_has_an_indonesian_translation():
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    extracted = {message if isinstance(message, str) else message[0]
                 for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map,
                                                              options_map)
                 if (message if isinstance(message, str) else message[0])}
    with (WEBUI / "translations" / "id" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert extracted - translated == set(), "run pybabel extract / update, then translate"

"""The Chatroom in a real browser against the whole appliance and its WhatsApp simulator.

The office: Sales (made first, so new conversations land there) with Dedi and Sari,
and Billing with Citra. Customers write from the simulator's phones; the agents work in
Chromium, signed in through the real sign-in page.
"""

from __future__ import annotations

import re
import struct
import zlib
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from appliance.clock import utcnow
from appliance.store.chatroom import QuickReply
from appliance.store.models import Conversation, Division
from appliance.store.numbers import CustomerWindow
from tests.browser.conftest import SEND_WAIT_S, WAIT_MS, Office
from tests.running import eventually

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def staff(office: Office) -> Office:
    office.division("Sales")
    office.division("Billing")
    office.agent("dedi", "Sales", name="Dedi")
    office.agent("sari", "Sales", name="Sari")
    office.agent("citra", "Billing", name="Citra")
    office.agent("budi", "Sales", name="Budi", role="supervisor")
    return office


def tiny_png() -> bytes:
    """A 2x2 green PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    rows = b"".join(b"\x00" + b"\x1a\x9e\x5c" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def row_of(page: Page, name: str):
    return page.locator("#conversation-list li", has_text=name)


def conversation_id(page: Page, name: str) -> int:
    return int(row_of(page, name).get_attribute("data-id"))


def test_a_customer_writes_the_agent_answers_live_and_the_ticks_turn_to_read(staff, shot):
    # Given Dedi of Sales, with the Chatroom open
    page = staff.chatroom("dedi")
    page.evaluate("window.__marker = 'the same page'")
    # When a customer writes on WhatsApp
    siti = staff.customer("+62 812 1000 0001", "Siti Rahayu")
    staff.writes(siti, "Paket saya di mana?")
    # Then her conversation appears in Dedi's inbox without a reload, unread
    row = row_of(page, "Siti Rahayu")
    expect(row).to_be_visible(timeout=WAIT_MS)
    expect(row.locator(".unread")).to_have_text("1")
    expect(row.locator(".window")).to_contain_text(re.compile(r"sisa (23|24) j"))
    assert page.evaluate("window.__marker") == "the same page"
    shot(page, "chatroom-inbox")
    # When he opens it and replies
    row.locator("button").click()
    expect(page.locator("#messages .message.in .text")).to_have_text("Paket saya di mana?")
    expect(row.locator(".unread")).to_have_count(0)
    expect(page.locator("#panel-phone")).to_have_text("+62 812-****-0001")
    page.fill("#reply-text", "Sedang dikirim, kak")
    page.press("#reply-text", "Enter")
    # Then her phone receives it, and Dedi sees it go out
    eventually(lambda: [m for m in staff.phone_of(siti)
                        if m["message"].get("body") == "Sedang dikirim, kak"],
               timeout=SEND_WAIT_S, explain=staff.outbox)
    mine = page.locator("#messages .message.out", has_text="Sedang dikirim, kak")
    expect(mine.locator(".tick")).to_have_attribute("data-status", re.compile("sent|delivered"),
                                                    timeout=WAIT_MS)
    # And when she reads it, the ticks turn blue on his screen
    staff.sim.post(f"/_sim/customers/{siti}/read", json={})
    expect(mine.locator(".tick-read")).to_be_visible(timeout=WAIT_MS)
    expect(mine.locator(".tick")).to_have_attribute("aria-label", "Dibaca")
    assert page.evaluate("window.__marker") == "the same page"
    shot(page, "chatroom-conversation")
    page.context.close()


def test_an_agent_of_another_division_never_sees_the_conversation(staff):
    dedi, citra = staff.chatroom("dedi"), staff.chatroom("citra")
    joko = staff.customer("+62 812 1000 0002", "Joko Susilo")
    staff.writes(joko, "Mau tanya harga")
    # Once it is in Sales' inbox, live
    expect(row_of(dedi, "Joko Susilo")).to_be_visible(timeout=WAIT_MS)
    convo = conversation_id(dedi, "Joko Susilo")
    staff.writes(joko, "Halo?")  # another change on the stream
    expect(dedi.locator(f"#conversation-list li[data-id='{convo}'] .unread")).to_have_text("2")
    # Then Citra of Billing has it nowhere: not in her list, not by search, not by its id
    expect(row_of(citra, "Joko Susilo")).to_have_count(0)
    citra.fill("#search-q", "Joko")
    citra.press("#search-q", "Enter")
    expect(citra.locator("#search-state")).to_be_visible()
    expect(citra.locator("#list-empty")).to_be_visible()
    citra.goto(f"/#{convo}")
    expect(citra.locator("#thread-empty")).to_have_text(
        "Percakapan ini tidak lagi ada di kotak masuk Anda.", timeout=WAIT_MS)
    assert citra.request.get(f"/api/conversations/{convo}").status == 404
    assert "Joko" not in citra.content() and "Mau tanya" not in citra.content()
    dedi.context.close()
    citra.context.close()


def test_indonesian_is_the_default_and_english_can_be_chosen(staff):
    # The sign-in page, before anyone is known, is Indonesian
    anonymous = staff.context().new_page()
    anonymous.goto("/login")
    expect(anonymous.locator("html")).to_have_attribute("lang", "id")
    expect(anonymous.locator("h1")).to_have_text("Masuk")
    anonymous.context.close()
    # And so is Sari's Chatroom, until she chooses English in the header
    page = staff.chatroom("sari")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.locator("#search-form button")).to_have_text("Cari")
    page.select_option(".language-select", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en", timeout=WAIT_MS)
    expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=WAIT_MS)
    expect(page.locator("#search-form button")).to_have_text("Search")
    expect(page.locator("#help-open")).to_be_visible()
    page.keyboard.press("?")
    expect(page.locator("#help-dialog")).to_contain_text("Next / previous conversation")
    page.keyboard.press("Escape")
    # It is her choice only: Dedi still reads Indonesian
    dedi = staff.chatroom("dedi")
    expect(dedi.locator("#search-form button")).to_have_text("Cari")
    page.select_option(".language-select", "id")
    expect(page.locator("html")).to_have_attribute("lang", "id", timeout=WAIT_MS)
    page.context.close()
    dedi.context.close()


def test_keyboard_shortcuts_move_assign_and_resolve(staff):
    for phone, name in (("+62 812 1000 0003", "Agus Salim"), ("+62 812 1000 0004", "Bayu Aji")):
        staff.writes(staff.customer(phone, name), f"Halo, saya {name}")
    page = staff.chatroom("sari")
    expect(row_of(page, "Bayu Aji")).to_be_visible(timeout=WAIT_MS)
    expect(row_of(page, "Agus Salim")).to_be_visible(timeout=WAIT_MS)
    first, second = page.locator("#conversation-list .name").all_text_contents()[:2]
    # j opens the newest, j again the next one, k goes back
    page.keyboard.press("j")
    expect(page.locator("#thread-name")).to_have_text(first)
    page.keyboard.press("j")
    expect(page.locator("#thread-name")).to_have_text(second)
    page.keyboard.press("k")
    expect(page.locator("#thread-name")).to_have_text(first)
    # a assigns it to her, e resolves it (and it leaves the list of open ones)
    page.keyboard.press("a")
    expect(page.locator("#thread-meta")).to_contain_text("ditangani Sari", timeout=WAIT_MS)
    page.keyboard.press("e")
    expect(page.locator("#thread-meta")).to_contain_text("selesai", timeout=WAIT_MS)
    expect(row_of(page, first)).to_have_count(0, timeout=WAIT_MS)
    # r goes to the reply box, / to the search box, ? shows the help, Esc closes it
    page.keyboard.press("r")
    expect(page.locator("#reply-text")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    expect(page.locator("#search-q")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    expect(page.locator("#help-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#help-dialog")).to_be_hidden()
    page.context.close()


def test_quick_replies_notes_and_a_template_once_the_window_closed(staff):
    sales = Division.get(Division.name == "Sales").id
    QuickReply.create(division=sales, shortcut="ongkir", body="Ongkir ke Jakarta Rp10.000, kak.")
    dewi = staff.customer("+62 812 1000 0005", "Dewi Lestari")
    staff.writes(dewi, "Berapa ongkirnya?")
    page = staff.chatroom("dedi")
    row_of(page, "Dewi Lestari").locator("button").click(timeout=WAIT_MS)
    # Typing "/" lists the division's quick replies; Enter takes one
    page.fill("#reply-text", "/ong")
    page.locator("#reply-text").dispatch_event("input")
    expect(page.locator("#quick-replies li")).to_have_text(re.compile("/ongkir"))
    page.press("#reply-text", "Enter")
    expect(page.locator("#reply-text")).to_have_value("Ongkir ke Jakarta Rp10.000, kak.")
    page.press("#reply-text", "Enter")
    eventually(lambda: [m for m in staff.phone_of(dewi)
                        if m["message"].get("body") == "Ongkir ke Jakarta Rp10.000, kak."],
               timeout=SEND_WAIT_S, explain=staff.outbox)
    # A private note shows in the thread, marked, and never reaches her phone
    page.click("#mode-note")
    page.fill("#reply-text", "Pelanggan lama, kasih diskon")
    page.press("#reply-text", "Enter")
    expect(page.locator("#messages .note")).to_contain_text("Pelanggan lama, kasih diskon")
    assert not [m for m in staff.phone_of(dewi) if "diskon" in str(m["message"])]
    # A picture goes out from the attachment button, and shows in the thread
    page.click("#mode-reply")
    page.set_input_files("#attach-file", files=[{"name": "katalog.png", "mimeType": "image/png",
                                                 "buffer": tiny_png()}])
    expect(page.locator("#attachment-name")).to_have_text("katalog.png")
    page.fill("#reply-text", "Katalog terbaru, kak")
    page.click("#attachment-send")
    eventually(lambda: [m for m in staff.phone_of(dewi) if m["type"] == "image"],
               timeout=SEND_WAIT_S, explain=staff.outbox)
    picture = page.locator("#messages .message.out img.picture")
    expect(picture).to_have_attribute("alt", "Katalog terbaru, kak", timeout=WAIT_MS)
    assert page.evaluate("(img) => img.complete && img.naturalWidth", picture.element_handle())
    # A day later, only a template may go out: the picker replaces the free text
    convo = Conversation.get_by_id(conversation_id(page, "Dewi Lestari"))
    CustomerWindow.update(last_inbound_at=utcnow() - timedelta(hours=25)).where(
        CustomerWindow.customer == convo.customer_id).execute()
    page.reload()
    expect(page.locator("#template-form")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#reply-form")).to_be_hidden()
    page.select_option("#template-name", label="order_update (id)")
    values = page.locator(".template-value")
    expect(values).to_have_count(2)
    values.nth(0).fill("Dewi")
    values.nth(1).fill("INV-77")
    page.click("#template-form button[type=submit]")
    eventually(lambda: [m for m in staff.phone_of(dewi) if m["type"] == "template"],
               timeout=SEND_WAIT_S, explain=staff.outbox)
    page.context.close()


def test_on_a_phone_the_list_and_the_thread_are_two_screens(staff):
    staff.writes(staff.customer("+62 812 1000 0006", "Rina Wati"), "Halo dari HP")
    page = staff.chatroom("dedi", viewport={"width": 390, "height": 844}, is_mobile=True,
                          has_touch=True)
    row = row_of(page, "Rina Wati")
    expect(row).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#thread")).to_be_hidden()
    row.locator("button").click()
    expect(page.locator("#messages")).to_contain_text("Halo dari HP")
    expect(page.locator("#inbox")).to_be_hidden()
    page.click("#back-to-list")
    expect(page.locator("#inbox")).to_be_visible()
    page.context.close()


def test_labels_and_a_transfer_with_a_note_reach_the_other_division_live(staff):
    staff.writes(staff.customer("+62 812 1000 0007", "Hendra Gunawan"), "Tagihan saya dobel")
    dedi, citra = staff.chatroom("dedi"), staff.chatroom("citra")
    row_of(dedi, "Hendra Gunawan").locator("button").click(timeout=WAIT_MS)
    # Labels show on the conversation and filter the inbox
    dedi.click("#act-labels")
    dedi.fill("#labels-input", "tagihan, vip")
    dedi.click("#labels-form button[type=submit]")
    expect(dedi.locator("#thread-labels .label")).to_have_text(["tagihan", "vip"])
    dedi.select_option("#filter-label", label="vip")
    expect(dedi.locator("#conversation-list .name")).to_have_text(["Hendra Gunawan"])
    # Transferred to Billing with a note: it leaves Dedi, and Citra has it, note included
    dedi.click("#act-transfer")
    dedi.select_option("#transfer-division", label="Billing")
    dedi.fill("#transfer-note", "Soal tagihan ganda, mohon dicek")
    dedi.click("#transfer-form button[type=submit]")
    expect(row_of(dedi, "Hendra Gunawan")).to_have_count(0, timeout=WAIT_MS)
    expect(dedi.locator("#thread-empty")).to_be_visible()
    row = row_of(citra, "Hendra Gunawan")
    expect(row).to_be_visible(timeout=WAIT_MS)
    row.locator("button").click()
    expect(citra.locator("#messages .note")).to_contain_text("Soal tagihan ganda, mohon dicek")
    expect(citra.locator("#thread-meta")).to_contain_text("Billing")
    dedi.context.close()
    citra.context.close()


def test_a_supervisor_reveals_with_a_reason_and_reads_the_dashboard(staff, shot):
    staff.writes(staff.customer("+62 812 1000 0008", "Lina Marlina"),
                 "NIK saya 3174051234567890 ya kak")
    page = staff.chatroom("budi")
    row_of(page, "Lina Marlina").locator("button").click(timeout=WAIT_MS)
    message = page.locator("#messages .message.in").last
    expect(message.locator(".text")).to_contain_text("****")
    # Revealing asks why; cancelling reveals nothing
    message.locator(".reveal").click()
    expect(page.locator("#reason-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(message.locator(".revealed")).to_have_count(0)
    message.locator(".reveal").click()
    page.fill("#reason-text", "pelanggan minta cek data")
    page.click("#reason-form button[type=submit]")
    expect(message.locator(".text")).to_have_text("NIK saya 3174051234567890 ya kak")
    expect(message.locator(".revealed")).to_have_text("ditampilkan")
    page.click("#panel-reveal")
    page.fill("#reason-text", "menelepon balik pelanggan")
    page.click("#reason-form button[type=submit]")
    expect(page.locator("#panel-phone")).to_have_text("+6281210000008")
    expect(page.locator("#panel-phone-revealed")).to_be_visible()
    # The dashboard: load per division, times, and the chart of new conversations
    page.click("nav.account >> text=Dasbor")
    expect(page.locator("h1")).to_have_text("Dasbor")
    expect(page.locator("table").first).to_contain_text("Sales")
    expect(page.locator("svg.chart rect")).to_have_count(8)
    page.click("text=30 hari terakhir")
    expect(page.locator("svg.chart rect")).to_have_count(31)
    shot(page, "dashboard")
    page.context.close()


def test_new_conversations_ring_once_alerts_are_on_and_name_no_customer(staff):
    context = staff.context("sari")
    context.grant_permissions(["notifications"], origin=staff.url)
    context.add_init_script(RECORD_ALERTS)
    page = context.new_page()
    page.goto("/")
    expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=WAIT_MS)
    page.click("#alerts-toggle")
    expect(page.locator("#alerts-toggle")).to_have_attribute("aria-pressed", "true")
    staff.writes(staff.customer("+62 812 1000 0009", "Maya Sari"), "Permisi")
    expect(row_of(page, "Maya Sari")).to_be_visible(timeout=WAIT_MS)
    page.wait_for_function("window.__alerts.length > 0", timeout=WAIT_MS)
    alerts = page.evaluate("window.__alerts")
    assert alerts == [["Percakapan baru", "Di Sales"]]
    assert page.evaluate("window.__sounds") >= 2  # once when turned on, once for Maya
    context.close()


def test_signing_out_elsewhere_sends_every_open_page_to_the_sign_in_page(staff):
    context = staff.context("dedi")
    first, second = context.new_page(), context.new_page()
    for page in (first, second):
        page.goto("/")
        expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=WAIT_MS)
    second.click("nav.account button[type=submit] >> text=Keluar")
    first.wait_for_url("**/login**", timeout=WAIT_MS)
    expect(first.locator("h1")).to_have_text("Masuk")
    context.close()
    staff.states.pop("dedi")  # that session is over


# Records notifications and sounds instead of showing and playing them (headless).
RECORD_ALERTS = """
window.__alerts = []; window.__sounds = 0;
const Real = window.Notification;
window.Notification = class extends Real {
  constructor(title, options) { super(title, options);
    window.__alerts.push([title, options && options.body]); }
};
HTMLMediaElement.prototype.play = function () { window.__sounds += 1; return Promise.resolve(); };
"""


def test_a_customer_writes_from_the_phone_page_of_the_printed_link_in_office_time(staff, shot):
    # Given the phone page's link as `gembok run` printed it: the token after the #
    out = "".join(staff.run.out)
    link = re.search(r"A customer's phone \(simulator\): (\S+/_sim/phone#t=\S+)", out)[1]
    context = staff.browser.new_context(viewport={"width": 420, "height": 800})
    # Opened without it, the page says in plain words where the link is
    bare = context.new_page()
    bare.goto(link.split("#", 1)[0])
    expect(bare.locator("#no-token")).to_be_visible()
    expect(bare.locator("#no-token")).to_contain_text("gembok run")
    # When a customer opens the link, makes herself and writes to the business
    phone = context.new_page()
    phone.goto(link)
    expect(phone.locator("#business")).to_contain_text("Toko Gembok")
    assert "#t=" not in phone.url  # the token leaves the address bar at once
    phone.click("details summary")
    phone.fill("#new-name", "Wulan Sari")
    phone.fill("#new-phone", "+62 812 1000 0099")
    phone.click("#new-customer button")
    expect(phone.locator("#customer option:checked")).to_contain_text("Wulan Sari")
    phone.fill("#text", "Halo dari ponsel")
    phone.press("#text", "Enter")
    # Then her bubble shows the office's time (WIB), not the browser's UTC
    mine = phone.locator(".bubble.from-me", has_text="Halo dari ponsel")
    expect(mine.locator(".meta")).to_have_text(re.compile(r"^\d\d:\d\d WIB"))
    expect(phone.locator("#no-token")).to_be_hidden()
    # And the attachment button is a drawn paperclip, not an emoji Chromium cannot draw
    clip = phone.locator("label.attach svg").bounding_box()
    assert clip is not None and clip["width"] >= 16
    shot(phone, "simulator-phone")
    # And the message reaches Dedi's Chatroom
    dedi = staff.chatroom("dedi")
    expect(row_of(dedi, "Wulan Sari")).to_be_visible(timeout=WAIT_MS)
    dedi.context.close()
    context.close()

"""The customer panel shows the consent ledger, in a real browser against `gembok run`.

Siti writes from the simulator's phone, then turns off promotions in WhatsApp's own
settings (the simulator posts Meta's signed `user_preferences` webhook); Dedi of Sales
sees "Pemasaran: ditarik" and where it came from, and records her later "yes, send me
promotions" from the panel.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from appliance.store.consent import ConsentEvent
from tests.browser.conftest import SEND_WAIT_S, WAIT_MS, Office
from tests.running import eventually

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def staff(office: Office) -> Office:
    office.division("Sales")
    office.agent("dedi", "Sales", name="Dedi")
    return office


def test_a_stop_in_whatsapps_settings_shows_in_the_panel_and_dedi_records_a_yes(staff, shot):
    # Given Siti, who wrote to Sales, and Dedi with her conversation open
    siti = staff.customer("+62 812 1000 0031", "Siti Rahayu")
    staff.writes(siti, "Ada promo minggu ini?")
    page = staff.chatroom("dedi")
    row = page.locator("#conversation-list li", has_text="Siti Rahayu")
    expect(row).to_be_visible(timeout=WAIT_MS)
    row.locator("button").click()
    expect(page.locator("#panel-consent")).to_contain_text("Pemasaran: belum tercatat")
    # When she stops promotions in WhatsApp's settings and Meta tells the box
    resp = staff.sim.post(f"/_sim/customers/{siti}/opt_out", json={})
    assert resp.status_code == 200, resp.text
    eventually(lambda: ConsentEvent.select().where(ConsentEvent.event == "withdrawn").exists(),
               timeout=SEND_WAIT_S)
    # Then, with the panel opened again, she is out of marketing, and it says how
    page.click("#act-panel")
    page.click("#act-panel")
    expect(page.locator("#panel-consent")).to_contain_text("Pemasaran: ditarik")
    expect(page.locator("#panel-consent-history")).to_contain_text("pengaturan WhatsApp (Meta)")
    shot(page, "consent-panel")
    # When Dedi records that she asked for promotions again
    page.click("#panel-marketing-yes")
    # Then the panel says so at once, newest first in the history
    expect(page.locator("#panel-consent")).to_contain_text("Pemasaran: setuju")
    expect(page.locator("#panel-consent-history li").first).to_contain_text(
        "staf, atas permintaan pelanggan")

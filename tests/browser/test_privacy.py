"""The data protection officer's day in a real browser: an agent records a customer's
UU PDP request from the Chatroom's panel; the DPO sees it in the queue with its clock,
exports the customer's data (one-time password shown once, an encrypted ZIP downloaded)
and answers it, and the customer is told on WhatsApp."""

from __future__ import annotations

import pytest
import pyzipper
from playwright.sync_api import expect

from tests.browser.conftest import SEND_WAIT_S, WAIT_MS, Office
from tests.running import eventually

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def staff(office: Office) -> Office:
    office.division("Sales")
    office.agent("dedi", "Sales", name="Dedi")
    office.agent("dewi", "Sales", name="Dewi", role="dpo")
    return office


def test_an_agent_records_a_request_and_the_dpo_exports_and_answers_it(staff, shot, tmp_path):
    # Given Rina, who asks Dedi in the chat for a copy of everything held about her
    rina = staff.customer("+62 812 1000 0021", "Rina Kusuma")
    staff.writes(rina, "Saya minta salinan semua data saya")
    page = staff.chatroom("dedi")
    page.locator("#conversation-list li", has_text="Rina Kusuma").locator("button").click(
        timeout=WAIT_MS)
    expect(page.locator("#panel-privacy")).to_be_visible()
    # When Dedi records it from the customer panel
    page.select_option("#panel-privacy-kind", "access")
    page.click("#panel-privacy button[type=submit]")
    expect(page.locator("#notice")).to_contain_text("3 x 24 jam", timeout=WAIT_MS)
    page.context.close()

    # Then Dewi, the DPO, lands on the queue and sees it with its clock
    dpo = staff.context("dewi").new_page()
    dpo.goto("/")
    expect(dpo.locator("h1")).to_have_text("Permintaan subjek data")
    row = dpo.locator("#requests tbody tr").first
    expect(row).to_have_class("clock-green")
    expect(row.locator("td.clock")).to_contain_text("71 h")
    shot(dpo, "privacy-queue")
    # And she exports the customer's data: the password is shown once
    row.locator("td").nth(2).locator("a").click()
    dpo.click("#export-form button")
    password = dpo.locator("#export-password").inner_text(timeout=WAIT_MS)
    with dpo.expect_download() as download:
        dpo.click("#export-link")
    path = tmp_path / "rina.zip"
    download.value.save_as(path)
    with pyzipper.AESZipFile(path) as archive:
        archive.setpassword(password.encode())
        assert b"Saya minta salinan" in archive.read("data.json")
        assert archive.read("data.pdf").startswith(b"%PDF")
    # And answers the request: Rina is told on WhatsApp
    dpo.goto("/privacy")
    dpo.locator("#requests tbody tr").first.locator("td").first.locator("a").click()
    dpo.click("#done-form button")
    expect(dpo.locator("#request-state")).to_contain_text("done")
    expect(dpo.locator("#answer")).to_contain_text("sent")
    eventually(lambda: [m for m in staff.phone_of(rina)
                        if "salinan data Anda" in str(m["message"].get("body", ""))],
               timeout=SEND_WAIT_S, explain=staff.outbox)
    dpo.context.close()

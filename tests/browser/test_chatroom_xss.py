"""A customer who writes HTML, script and link tricks gets text on the agent's screen, no code.

Whatever a customer sends (body or profile name) reaches the page through the JSON API
and is put into the DOM as text; the strict CSP would stop an inline script anyway, so
the test also checks that nothing of it became an element.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import WAIT_MS, Office

pytestmark = pytest.mark.slow

NAME = '<img src=x onerror="window.__xss=4">Siti <b>Jahil</b>'
TRICKS = ["<script>window.__xss=1</script>",
          '<img src=x onerror="window.__xss=2">',
          "[klik](javascript:window.__xss=3)"]


@pytest.fixture(scope="module")
def agent(office: Office) -> Office:
    office.division("Sales")
    office.agent("dedi", "Sales", name="Dedi")
    return office


def test_customer_html_and_script_show_as_text_and_never_run(agent, shot):
    # Given Dedi's Chatroom, open before the customer writes (the live path)
    page = agent.chatroom("dedi")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # When a customer with HTML in her name sends script, an image trap and a link trick
    wa_id = agent.customer("+62 813 2000 0001", NAME)
    for text in TRICKS:
        agent.writes(wa_id, text)
    # Then her name in the inbox is the literal text
    row = page.locator("#conversation-list li", has_text="Jahil")
    expect(row.locator(".unread")).to_have_text("3", timeout=WAIT_MS)
    expect(row.locator(".name")).to_have_text(NAME)
    # And each message is shown exactly as typed, in the thread
    row.locator("button").click()
    texts = page.locator("#messages .message.in .text")
    expect(texts).to_have_text(TRICKS, timeout=WAIT_MS)
    expect(page.locator("#thread-name")).to_have_text(NAME)
    expect(page.locator("#panel-name")).to_have_text(NAME)
    # And a search shows the same text, not markup
    page.fill("#search-q", "Jahil")
    page.press("#search-q", "Enter")
    expect(page.locator("#conversation-list .name")).to_have_text([NAME])
    shot(page, "chatroom-xss")
    # And nothing ran, and none of it became an element
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img[onerror], [onerror], [onclick], script:not([src])"
                        ":not([type='application/json'])").count() == 0
    assert page.locator("#room b, #room script, #room img:not(.picture)").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert errors == []
    page.context.close()

"""The admin TUI driven by Textual's pilot, on a real data dir with a real SQLCipher file."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from appliance.auth.permissions import BOX_ADMIN
from appliance.inbox.divisions import create_division
from tests.factories import make_customer, make_inbound
from tui.app import GembokAdmin
from tui.dialogs.notice import NoticeDialog

SMALL, LARGE = (80, 24), (120, 40)


@pytest.fixture
def office(rt):
    """A box in use: two divisions and a few customers who wrote in."""
    sales = create_division(rt, BOX_ADMIN, "Sales")
    create_division(rt, BOX_ADMIN, "Billing", retention_days=365)
    for n in range(3):
        customer = make_customer(rt, name=f"Pelanggan {n}", phone=f"+62812555{n:05d}")
        make_inbound(rt, customer, body=f"Pesan rahasia {n}", wamid=f"wamid.TUI{n}")
    return {"rt": rt, "sales": sales}


@pytest.fixture
def admin_app(rt) -> GembokAdmin:
    return GembokAdmin(rt.settings, rt)


async def settle(pilot: Pilot[Any]) -> None:
    """Until every worker the last key started has finished and its result is on screen."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_into(pilot: Pilot[Any], selector: str, text: str) -> None:
    pilot.app.screen.query_one(selector, Input).value = text
    await pilot.pause()


def notice(app: GembokAdmin) -> tuple[str, str]:
    """The title and text of the dialog on top (failing the test if there is none)."""
    screen = app.screen
    assert isinstance(screen, NoticeDialog), f"no notice on screen but {type(screen).__name__}"
    return screen.title_text, screen.body

"""People: an admin at the box makes accounts that then work in the browser."""

from __future__ import annotations

import re

import pytest
from textual.widgets import DataTable, SelectionList

from appliance.store.models import AuditEntry, User, UserDivision
from tests.cast import hire
from tests.tui.conftest import notice, settle, type_into
from tests.web.conftest import Browser
from tui.app import terminal_login
from webui import create_app


@pytest.mark.asyncio
async def test_an_admin_creates_an_agent_of_sales_who_can_then_sign_in(office, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        # When the admin opens the new-account form and fills it in
        await pilot.press("n")
        await pilot.pause()
        await type_into(pilot, "#username", "rina")
        await type_into(pilot, "#display_name", "Rina Sales")
        await type_into(pilot, "#email", "rina@toko.example")
        admin_app.screen.query_one("#divisions", SelectionList).select(office["sales"])
        await pilot.click("#save")
        await settle(pilot)
        # Then a one-time password is shown once, to hand over
        title, text = notice(admin_app)
        assert title == "Account created"
        password = re.search(r"One-time password: (\S+)", text).group(1)
        await pilot.press("escape")
        await settle(pilot)
        users = admin_app.screen.query_one("#users", DataTable)
        assert [str(c) for c in users.get_row(str(User.get(User.username == "rina").id))] == \
            ["rina", "Rina Sales", "agent", "Sales", "active", "off"]
    # And Rina signs in to the web UI with it, and is sent to her first-sign-in steps
    rina = User.get(User.username == "rina")
    assert rina.must_change_password
    browser = Browser(create_app(office["rt"].settings, enqueue=False), None)
    browser.get("/login")
    answer = browser.form("/login", {"username": "rina", "password": password})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login/next")
    first_steps = browser.get("/login/next")
    assert first_steps.status_code == 302
    assert first_steps.headers["Location"].endswith("/account/password")
    assert AuditEntry.get(AuditEntry.action == "user.created",
                          AuditEntry.target == f"user:{rina.id}").actor == \
        f"tui:{terminal_login()}"  # the admin at the terminal, not any `gembok` command


@pytest.mark.asyncio
async def test_an_admin_moves_an_agent_to_billing_and_her_sessions_end(office, admin_app):
    from appliance.auth.permissions import BOX_ADMIN
    from appliance.inbox.divisions import list_divisions

    billing = next(d.id for d in list_divisions(BOX_ADMIN) if d.name == "Billing")
    user = hire(office["rt"], "dedi", {"Sales": office["sales"]}, actor="cli",
                principal=BOX_ADMIN)
    async with admin_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        table = admin_app.screen.query_one("#users", DataTable)
        table.move_cursor(row=table.get_row_index(str(user.id)))
        await pilot.press("e")
        await pilot.pause()
        choices = admin_app.screen.query_one("#divisions", SelectionList)
        assert choices.selected == [office["sales"]]  # the form starts from what is
        choices.deselect(office["sales"])
        choices.select(billing)
        await pilot.click("#save")
        await settle(pilot)
        assert notice(admin_app)[0] == "Account changed"
    assert [link.division_id for link in UserDivision.select().where(
        UserDivision.user == user.id)] == [billing]
    assert AuditEntry.get(AuditEntry.action == "user.divisions_changed").target == \
        f"user:{user.id}"


@pytest.mark.asyncio
async def test_a_duplicate_division_name_is_refused_in_words(office, admin_app):
    async with admin_app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("N")
        await pilot.pause()
        await type_into(pilot, "#name", "Sales")
        await pilot.click("#save")
        await settle(pilot)
        title, text = notice(admin_app)
        assert title == "Not done" and "a division named Sales exists already" in text


@pytest.mark.asyncio
async def test_a_retention_period_is_set_and_lifted(office, admin_app):
    from appliance.store.models import Division

    async with admin_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        divisions = admin_app.screen.query_one("#divisions", DataTable)
        divisions.focus()
        divisions.move_cursor(row=divisions.get_row_index(str(office["sales"])))
        await pilot.press("E")
        await pilot.pause()
        await type_into(pilot, "#retention", "90")
        await pilot.click("#save")
        await settle(pilot)
        assert Division.get_by_id(office["sales"]).retention_days == 90
        await pilot.press("escape")
        await pilot.press("E")
        await pilot.pause()
        await type_into(pilot, "#retention", "")
        await pilot.click("#save")
        await settle(pilot)
    assert Division.get_by_id(office["sales"]).retention_days is None


@pytest.mark.asyncio
async def test_the_admin_sees_and_ends_an_agents_sessions(office, admin_app):
    from appliance.auth import sessions
    from appliance.auth.permissions import BOX_ADMIN

    user = hire(office["rt"], "sari", {"Sales": office["sales"]}, actor="cli",
                principal=BOX_ADMIN)
    sessions.create(User.get_by_id(user.id), office["rt"].settings.auth, ip="192.168.1.40",
                    user_agent="Firefox on the front desk PC", second_factor_done=True)
    async with admin_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        table = admin_app.screen.query_one("#users", DataTable)
        table.move_cursor(row=table.get_row_index(str(user.id)))
        await pilot.press("s")
        await settle(pilot)
        title, text = notice(admin_app)
        assert "Sessions of sari" in title and "192.168.1.40" in text and "front desk" in text
        await pilot.press("escape")
        await pilot.press("S")
        await pilot.pause()
        await pilot.click("#yes")
        await settle(pilot)
        assert notice(admin_app)[1] == "1 session(s) ended."
    assert sessions.active(user.id) == []
    assert AuditEntry.get(AuditEntry.action == "user.sessions_ended").detail == '{"count":1}'

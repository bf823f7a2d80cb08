"""Keys: rotations started from the admin's terminal leave every message readable."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

from appliance.inbox.customers import read_customer
from appliance.inbox.messages import read_conversation
from appliance.runtime import open_runtime
from appliance.store.db import db
from appliance.store.models import AuditEntry, Conversation, Customer, CustomerKey
from tests.tui.conftest import notice, settle
from tui.app import terminal_login


def every_message_reads_back(settings) -> None:
    """As any process would after the change: from the files on disk."""
    db.close()
    rt = open_runtime(settings)
    for n, customer in enumerate(Customer.select().order_by(Customer.id)):
        assert read_customer(rt, customer.id, actor="system").name == f"Pelanggan {n}"
        convo = Conversation.get(Conversation.customer == customer.id)
        assert [m.body for m in read_conversation(rt, convo.id, actor="system")] == \
            [f"Pesan rahasia {n}"]


@pytest.mark.asyncio
async def test_a_master_rotation_from_the_keys_screen_keeps_every_message_readable(
        office, admin_app):
    settings = office["rt"].settings
    before = office["rt"].master.key_id
    async with admin_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("m")
        await pilot.pause()
        await pilot.click("#yes")
        await settle(pilot)
        title, text = notice(admin_app)
        assert title == "Master key rotated" and "3 customer keys re-wrapped" in text
        await pilot.press("escape")
        await settle(pilot)
        keys = admin_app.screen.query_one("#keys", DataTable)
        master = [str(c) for c in keys.get_row_at(0)]
        assert master[0] == "master" and master[1] != before
        # And the audit screen shows the rotation, newest first, by the admin at the terminal
        await pilot.press("4")
        await settle(pilot)
        entries = admin_app.screen.query_one("#entries", DataTable)
        newest = [str(c) for c in entries.get_row_at(0)]
        assert newest[2:] == [f"tui:{terminal_login()}", "key.master_rotated", "key:master"]
    assert {k.master_id for k in CustomerKey.select()} == {master[1]}
    every_message_reads_back(settings)


@pytest.mark.asyncio
async def test_a_data_key_rotation_runs_with_its_progress_on_screen(office, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause()
        await pilot.click("#yes")
        await settle(pilot)
        # No Redis answers in this test, so the screen does the job itself
        assert notice(admin_app)[0] == "Data keys rotated"
        await pilot.press("escape")
        await settle(pilot)
        job = str(admin_app.screen.query_one("#job").render())
        assert ": done," in job
    assert {k.version for k in CustomerKey.select()} == {2}
    every_message_reads_back(office["rt"].settings)


@pytest.mark.asyncio
async def test_a_database_rekey_asks_for_the_word_and_then_leaves_everything_readable(
        office, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("k")
        await pilot.pause()
        dialog = admin_app.screen
        assert "must be stopped first" in str(dialog.query_one(".question").render())
        assert dialog.query_one("#yes").disabled  # nothing happens before the word is typed
        await pilot.click("#word")
        await pilot.press(*"REKEY")
        await pilot.press("enter")
        await settle(pilot)
        title, text = notice(admin_app)
        assert title == "Database rekeyed" and "key v2" in text, text
    every_message_reads_back(office["rt"].settings)  # under the new key, from disk
    assert AuditEntry.select().where(AuditEntry.action == "key.database_rekeyed").exists()


@pytest.mark.asyncio
async def test_escape_on_a_confirmation_does_nothing(office, admin_app):
    before = office["rt"].master.key_id
    async with admin_app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("k")
        await pilot.pause()
        admin_app.screen.query_one("#word", Input).value = "REKEY"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("m", "escape")
        await settle(pilot)
    assert {k.master_id for k in CustomerKey.select()} == {before}
    assert not AuditEntry.select().where(AuditEntry.action.startswith("key.database")).exists()

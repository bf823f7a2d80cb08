"""Audit, Backup and Status: what an auditor asks for, and what the admin checks at 2 a.m."""

from __future__ import annotations

import json

import pytest
from textual.widgets import DataTable

from appliance.audit.export import AuditFilterError, verify_export
from appliance.inbox.customers import read_customer
from appliance.store.db import db
from appliance.store.models import AuditEntry
from tests.tui.conftest import notice, settle, type_into


@pytest.mark.asyncio
async def test_the_auditor_asks_who_saw_customer_2_and_gets_a_signed_answer(office, admin_app):
    rt = office["rt"]
    read_customer(rt, 2, actor="user:7")  # an agent opened customer 2
    async with admin_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        await type_into(pilot, "#target", "2")
        await type_into(pilot, "#action", "customer.read")
        admin_app.screen.query_one("#target").focus()
        await pilot.press("enter")
        await settle(pilot)
        table = admin_app.screen.query_one("#entries", DataTable)
        rows = [[str(c) for c in table.get_row_at(n)] for n in range(table.row_count)]
        assert [r[2:] for r in rows] == [["user:7", "customer.read", "customer:2"]]
        await pilot.press("e")
        await settle(pilot)
        title, text = notice(admin_app)
        assert title == "Exported" and text.startswith("1 entries")
    export = next((rt.settings.data_dir / "exports").glob("audit-*.jsonl"))
    assert verify_export(rt.keyring.audit_key, export) == 1
    first = json.loads(export.read_text().splitlines()[0])
    assert (first["actor"], first["target"]) == ("user:7", "customer:2")
    # A line changed after the export no longer passes
    export.write_text(export.read_text().replace("user:7", "user:8"))
    with pytest.raises(AuditFilterError, match="changed after export"):
        verify_export(rt.keyring.audit_key, export)


@pytest.mark.asyncio
async def test_a_date_that_is_not_a_date_is_explained(office, admin_app):
    async with admin_app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        await type_into(pilot, "#since", "25/11/2026")
        admin_app.screen.query_one("#since").focus()
        await pilot.press("enter")
        await settle(pilot)
        title, text = notice(admin_app)
        assert title == "Not done" and "since: '25/11/2026' is not a date" in text


@pytest.mark.asyncio
async def test_verifying_the_chain_shows_the_result_on_screen(office, admin_app):
    async with admin_app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert str(admin_app.screen.query_one("#verdict").render()).startswith("Chain OK")


@pytest.mark.asyncio
async def test_a_backup_made_now_is_restored_after_a_dry_run(office, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert notice(admin_app)[0] == "Backup done"
        await pilot.press("escape")
        await settle(pilot)
        assert admin_app.screen.query_one("#backups", DataTable).row_count == 1
        # When the admin asks to restore it, the dry run says what comes back first
        await pilot.press("r")
        await settle(pilot)
        question = str(admin_app.screen.query_one(".question").render())
        assert "3 customers and 3 messages" in question and "erases again 0" in question
        await pilot.click("#word")
        await pilot.press(*"RESTORE", "enter")
        await settle(pilot)
        title, text = notice(admin_app)
        assert title == "Restored" and "replaced files are in" in text
    db.close()
    restored = admin_app.rt  # reopened on the restored files
    assert read_customer(restored, 1, actor="system").name == "Pelanggan 0"
    assert AuditEntry.select().where(AuditEntry.action == "backup.restored").exists()


@pytest.mark.asyncio
async def test_the_status_screen_shows_what_is_down_and_the_audit_chain(office, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        summary = str(admin_app.screen.query_one("#summary").render())
        assert "audit chain intact" in summary and "Last backup: never" in summary
        assert "Webhook events waiting: 0" in summary
        services = admin_app.screen.query_one("#services", DataTable)
        states = {str(services.get_row_at(n)[0]): str(services.get_row_at(n)[1])
                  for n in range(services.row_count)}
        assert states["redis (queues)"] == "DOWN"  # nothing runs in this test


@pytest.mark.asyncio
async def test_the_status_screen_lists_open_data_subject_requests_by_time_left(office, admin_app):
    from datetime import timedelta

    from appliance.clock import utcnow
    from appliance.store.privacy import PrivacyRequest

    # Given an erasure request due in 10 hours and an access request just in
    now = utcnow()
    PrivacyRequest.create(customer=1, kind="access", channel="dpo", received_at=now,
                          due_at=now + timedelta(hours=72), recorded_by="cli")
    urgent = PrivacyRequest.create(customer=2, kind="erasure", channel="whatsapp",
                                   received_at=now - timedelta(hours=62),
                                   due_at=now + timedelta(hours=10), recorded_by="webhook")
    async with admin_app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        summary = str(admin_app.screen.query_one("#summary").render())
    # Then the most urgent is first, marked red, with its time left
    lines = [line for line in summary.splitlines() if line.startswith("Data-subject request")]
    assert len(lines) == 2
    assert lines[0].startswith(f"Data-subject request {urgent.id} (erasure): 9 h")
    assert lines[0].endswith("[RED]") and "71 h" in lines[1]

"""A backup brings real data back; an erased customer stays erased; the audit knows."""

from __future__ import annotations

import shutil

import pytest

from appliance import recovery
from appliance.audit.verify import verify
from appliance.auth.permissions import BOX_ADMIN
from appliance.inbox.customers import find_by_phone, read_customer
from appliance.inbox.messages import read_conversation
from appliance.keys.customer_keys import CustomerKeysGone
from appliance.privacy.erasure import erase_customer, ledger_ids
from appliance.runtime import open_runtime
from appliance.store.backup import BackupError
from appliance.store.db import db
from appliance.store.models import AuditEntry, Conversation
from tests.factories import make_customer, make_inbound


def test_a_backup_round_trips_and_an_erased_customer_stays_erased(rt, settings, tmp_path):
    # Given two customers with messages, a backup of that day, and a copy of it taken
    # off the box (a USB disk) where erasure cannot reach
    siti = make_customer(rt, name="Siti Rahayu", phone="+6281234500001")
    budi = make_customer(rt, name="Budi Santoso", phone="+6281234500002")
    make_inbound(rt, siti, body="Pesanan saya?", wamid="wamid.B1")
    make_inbound(rt, budi, body="Tagihan dobel", wamid="wamid.B2")
    folder = recovery.create(rt, BOX_ADMIN)
    assert not (folder / "master.key").exists()
    usb = shutil.copytree(folder, tmp_path / "usb-backup")
    # When Budi is erased afterwards, and later the copy is brought back and restored
    erase_customer(rt, BOX_ADMIN, budi)
    assert budi in ledger_ids(settings)
    make_customer(rt, name="Setelah Backup", phone="+6281234500003")
    db.close()
    assert recovery.dry_run(settings, folder).re_erase == []  # erasure reached it
    info = recovery.dry_run(settings, usb)
    assert (info.customers, info.messages, info.re_erase) == (2, 2, [budi])
    report = recovery.restore(settings, usb, principal=BOX_ADMIN)
    # Then Siti's data is back, readable; Budi is erased again; the later customer is gone
    rt2 = open_runtime(settings)
    assert report.re_erased == [budi]
    assert read_customer(rt2, siti, actor="system").name == "Siti Rahayu"
    convo = Conversation.get(Conversation.customer == siti)
    assert read_conversation(rt2, convo.id, actor="system")[0].body == "Pesanan saya?"
    with pytest.raises(CustomerKeysGone):
        read_customer(rt2, budi, actor="system")
    assert find_by_phone(rt2, "+6281234500002") is None
    assert find_by_phone(rt2, "+6281234500003") is None
    # and the audit chain holds, with the restore on record
    verdict = verify(rt2.keyring.audit_key, settings.audit_head_file)
    assert verdict.ok, verdict.summary
    assert AuditEntry.select().where(AuditEntry.action == "backup.restored").exists()
    assert (report.set_aside / "gembok.db").exists()


def test_a_damaged_backup_is_refused(rt, settings):
    folder = recovery.create(rt, BOX_ADMIN)
    with (folder / "gembok.db").open("r+b") as f:
        f.seek(5000)
        f.write(b"\x00" * 16)
    db.close()
    with pytest.raises(BackupError, match="damaged"):
        recovery.dry_run(settings, folder)


def test_a_restore_is_refused_while_the_appliance_runs(rt, settings):
    import fcntl

    folder = recovery.create(rt, BOX_ADMIN)
    db.close()
    settings.run_dir.mkdir(exist_ok=True)
    with open(settings.run_dir / "supervisor.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(BackupError, match="is running"):
            recovery.restore(settings, folder, principal=BOX_ADMIN)

"""Erasure on the box as `gembok run` runs it: afterwards no key on the box opens a byte of
what the customer wrote, and a restore of an older backup erases it all again.

Before issue 15 a backup made before the erasure kept the customer's wrapped key, which
the box's master key still unwrapped: everything she wrote could be read from it.
Before issue 11 every raw webhook body (name, phone, text, NIK) was kept for ever under
the system key, out of erasure's reach, and reveal reasons that named the customer too.
"""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

from appliance.store.db import db
from appliance.store.models import InboxEvent, Media, Message
from tests.conftest import files_under
from tests.keys_on_the_box import leaks
from tests.process.conftest import Office
from tests.running import eventually

PHONE = "6281377001234"
NAME = "Rina Kusumawati Canary"
NIK = "3174091203870007"
TEXT = f"Halo, saya {NAME}, NIK {NIK}, alamat Jl. Cempaka Putih 12"
PICTURE = b"\xff\xd8\xff\xe0" + b"KTP-RINA-CANARY-SCAN" * 50
REASON = "Ibu Rina Kusumawati Canary minta ditelepon balik"


def test_after_erasure_no_key_on_the_box_opens_what_the_customer_wrote(office: Office) -> None:
    # Given Rina, who wrote her name and NIK and sent a photo of her ID card, a supervisor
    # who revealed her number and her message with a reason that names her, and a webhook
    # about her that could not be applied
    office.division("Sales")
    budi = office.staff("budi", "Sales", role="supervisor")
    convo = office.customer_writes(PHONE, NAME, TEXT)
    office.sim.post(f"/_sim/customers/{PHONE}/messages", json={
        "type": "image", "image": {"caption": "foto KTP"}, "mime_type": "image/jpeg",
        "content_base64": base64.b64encode(PICTURE).decode()})
    eventually(lambda: Media.get_or_none(Media.state == "stored"), timeout=30)
    thread = budi.get(f"/api/conversations/{convo}").json()
    customer = thread["conversation"]["customer_id"]
    first = thread["messages"][0]["id"]
    assert budi.post(f"/api/customers/{customer}/reveal-phone", {"reason": REASON}
                     ).status_code == 200
    assert budi.post(f"/api/messages/{first}/reveal", {"reason": REASON}).status_code == 200
    broken = (b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": '
              b'{"contacts": [{"wa_id": "' + PHONE.encode() + b'", "profile": {"name": "'
              + NAME.encode() + b'"}}], "messages": [')  # cut short: it cannot be applied
    assert office.post_webhook(broken) == 200
    eventually(lambda: InboxEvent.get_or_none(InboxEvent.state == "failed"), timeout=30)
    applied = InboxEvent.select().where(InboxEvent.state == "done")
    assert applied.count() >= 2 and all(e.body_sealed is None for e in applied)
    canaries = [NAME.encode(), NIK.encode(), b"Cempaka Putih", b"KTP-RINA-CANARY-SCAN",
                b"minta ditelepon balik", PHONE.encode()]
    data_dir, master = office.settings.data_dir, office.settings.master_key_path
    # (the search sees them all while she is a customer: it would find a leak)
    assert leaks(data_dir, master, canaries) == sorted(c.decode() for c in canaries)
    backup = Path(re.search(r"backup written to (\S+)",
                            office.cli("backup", "create").stdout).group(1))

    # When the DPO erases her
    office.cli("customer", "erase", str(customer), "--yes")

    # Then no key on the box opens any of it, in any table, nor in the backup made before
    copy = data_dir.parent / "backup-as-a-thief-reads-it"  # opening it would change it
    shutil.copytree(backup, copy)
    assert leaks(copy, master, canaries) == []
    assert leaks(data_dir, master, canaries) == []
    # And no file under the data dir holds any of it in clear (a canary scan of the bytes)
    for path in files_under(data_dir):
        raw = path.read_bytes()
        assert not [c for c in canaries if c in raw], path
    db.close()
    assert Message.get_by_id(first).body_sealed is not None  # still there, under a key gone

    # And a restore of that backup brings nothing of her back (the backup itself was
    # erased, and the ledger is applied again on top)
    office.run.stop()
    restored = office.cli("backup", "restore", str(backup), check=False)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert leaks(data_dir, master, canaries) == []

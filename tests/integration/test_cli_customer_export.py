"""The DPO at the box: `gembok customer export ID FILE` writes the encrypted export and
prints its one-time password once; mistakes are one clear line."""

from __future__ import annotations

import json
import re

import pyzipper
from click.testing import CliRunner

from appliance.cli import cli
from appliance.store.db import db
from appliance.store.models import AuditEntry, Conversation, Message
from tests.factories import deliver_text


def run(settings, *args: str):
    result = CliRunner().invoke(cli, list(args), env={"GEMBOK_DATA_DIR": str(settings.data_dir)},
                                catch_exceptions=False)
    db.close()
    return result


def test_the_export_from_the_box_opens_only_with_the_password_it_printed(rt, settings, tmp_path):
    message = deliver_text(rt, wamid="wamid.CLI1", body="Alamat saya Jl. Melati 3",
                           wa_id="6281211112222", name="Wati Susanti")
    customer = Conversation.get_by_id(Message.get_by_id(message).conversation_id).customer_id
    db.close()
    target = tmp_path / "wati.zip"

    done = run(settings, "customer", "export", str(customer), str(target))

    assert done.exit_code == 0, done.output
    password = re.search(r"one-time password \(shown once, not kept\): (\S+)",
                         done.output).group(1)
    assert target.stat().st_mode & 0o777 == 0o600
    raw = target.read_bytes()
    assert b"Melati" not in raw and b"Wati" not in raw
    with pyzipper.AESZipFile(target) as archive:
        archive.setpassword(password.encode())
        data = json.loads(archive.read("data.json"))
    assert data["customer"]["name"] == "Wati Susanti"
    assert AuditEntry.get(AuditEntry.action == "customer.exported").actor == "cli"
    # An existing file is never overwritten; a customer who does not exist is said so
    again = run(settings, "customer", "export", str(customer), str(target))
    assert again.exit_code != 0 and "exists" in again.output
    missing = run(settings, "customer", "export", "99999", str(tmp_path / "x.zip"))
    assert missing.exit_code == 2 and "there is no customer 99999" in missing.output

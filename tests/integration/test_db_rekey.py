"""The database key's rotation: the file re-encrypted whole, openable at every instant."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from appliance.crypto.keyring import read_entries
from appliance.inbox.customers import read_customer
from appliance.keys.master_rotation import CRASH_ENV
from appliance.runtime import open_runtime
from appliance.store.db import db
from tests.conftest import settings_for
from tests.factories import make_customer


def rekey(data_dir, crash_at: str | None = None) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEMBOK")}
    env["GEMBOK_DATA_DIR"] = str(data_dir)
    if crash_at:
        env[CRASH_ENV] = crash_at
    return subprocess.run([sys.executable, "-m", "appliance", "keys", "rekey-database"],
                          env=env, capture_output=True, timeout=60).returncode


@pytest.mark.parametrize("crash_at", [None, "database_key_added", "database_rekeyed"])
def test_the_database_is_rekeyed_and_opens_whatever_instant_it_died(rt, settings, crash_at):
    customer = make_customer(rt, name="Siti Rahayu")
    db.close()
    code = rekey(settings.data_dir, crash_at)
    assert code == (-signal.SIGKILL if crash_at else 0)
    rt2 = open_runtime(settings_for(settings.data_dir))  # opens in every case
    assert read_customer(rt2, customer, actor="system").name == "Siti Rahayu"
    db.close()
    if crash_at:
        assert rekey(settings.data_dir) == 0  # running it again finishes the job
    versions = [e.version for e in read_entries(settings.keyring_file) if e.purpose == "database"]
    assert versions == [2]
    rt3 = open_runtime(settings_for(settings.data_dir))
    assert rt3.keyring.database_version == 2
    assert read_customer(rt3, customer, actor="system").name == "Siti Rahayu"

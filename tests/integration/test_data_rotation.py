"""Data-key rotation: new keys for every customer, every row re-sealed, no row ever unreadable."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from appliance.auth.permissions import BOX_ADMIN
from appliance.bootstrap import initialise
from appliance.crypto.aead import key_version_of
from appliance.inbox.customers import read_customer
from appliance.inbox.messages import read_conversation
from appliance.keys import data_rotation
from appliance.runtime import open_runtime
from appliance.store.db import db
from appliance.store.keystate import KeyJob
from appliance.store.models import Conversation, Customer, CustomerKey, Message
from tests.conftest import BOTH_ENGINES, copy_data_dir, settings_for, store_env
from tests.factories import make_customer, make_inbound

pytestmark = [pytest.mark.slow, *BOTH_ENGINES]
CUSTOMERS = 60
MESSAGES_EACH = 40


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, engine):
    root = tmp_path_factory.mktemp("rotation")
    rt, _ = initialise(settings_for(root / "var"))
    for n in range(CUSTOMERS):
        customer = make_customer(rt, name=f"Pelanggan {n}", phone=f"+62812888{n:05d}")
        for m in range(MESSAGES_EACH):
            make_inbound(rt, customer, body=f"Pesan {n}-{m}", wamid=f"wamid.D{n}x{m}")
    db.close()
    return root / "var"


@pytest.fixture
def data_dir(pristine, tmp_path):
    target = tmp_path / "var"
    copy_data_dir(pristine, target)
    yield target
    db.close()


def all_readable(rt) -> None:
    for n, customer in enumerate(Customer.select().order_by(Customer.id)):
        assert read_customer(rt, customer.id, actor="system").name == f"Pelanggan {n}"
        convo = Conversation.get(Conversation.customer == customer.id)
        bodies = [m.body for m in read_conversation(rt, convo.id, actor="system")]
        assert bodies == [f"Pesan {n}-{m}" for m in range(MESSAGES_EACH)]


def versions_in_use() -> set[int]:
    return {key_version_of(bytes(m.body_sealed)) for m in Message.select()} | {
        key_version_of(bytes(c.name_sealed)) for c in Customer.select()}


def test_a_rotation_reseals_every_row_and_destroys_the_old_keys(data_dir):
    rt = open_runtime(settings_for(data_dir))
    job = data_rotation.start(rt, principal=BOX_ADMIN)
    assert data_rotation.run(rt, job, budget_seconds=60)
    assert versions_in_use() == {2}
    assert {k.version for k in CustomerKey.select()} == {2}
    all_readable(rt)
    progress = data_rotation.progress(job)
    assert progress.state == "done" and progress.rows_done >= CUSTOMERS * (MESSAGES_EACH + 1)


def test_every_row_reads_while_the_job_is_half_done(data_dir):
    rt = open_runtime(settings_for(data_dir))
    job = data_rotation.start(rt, principal=BOX_ADMIN)
    KeyJob.update(cursor=0).execute()
    data_rotation._batch(rt, KeyJob.get_by_id(job))  # new keys for everyone
    for _ in range(3):
        data_rotation._batch(rt, KeyJob.get_by_id(job))  # part of the tables
    assert versions_in_use() == {1, 2}
    all_readable(rt)
    # and a message arriving now is sealed with the new version
    customer = Customer.select().first()
    make_inbound(rt, customer.id, body="baru", wamid="wamid.NEW")
    assert key_version_of(bytes(Message.get(Message.wamid == "wamid.NEW").body_sealed)) == 2


def test_a_paused_job_does_nothing_until_resumed(data_dir):
    rt = open_runtime(settings_for(data_dir))
    job = data_rotation.start(rt, principal=BOX_ADMIN)
    data_rotation.set_paused(rt, job, True, principal=BOX_ADMIN)
    assert not data_rotation.run(rt, job, budget_seconds=1)
    assert data_rotation.progress(job).rows_done == 0
    data_rotation.set_paused(rt, job, False, principal=BOX_ADMIN)
    assert data_rotation.run(rt, job, budget_seconds=60)


@pytest.mark.parametrize("seed", range(5))
def test_a_job_killed_at_a_random_instant_resumes_and_finishes(data_dir, seed):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEMBOK")}
    env.update(GEMBOK_DATA_DIR=str(data_dir), **store_env(data_dir))
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "keys", "rotate-data",
                             "--wait"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    time.sleep(random.Random(seed).uniform(0.5, 2.0))
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    rt = open_runtime(settings_for(data_dir))
    all_readable(rt)  # whatever instant it died at
    job = KeyJob.select().order_by(KeyJob.id.desc()).first()
    if job is not None and job.state != "done":
        assert data_rotation.run(rt, job.id, budget_seconds=60)
    assert versions_in_use() <= {2} or job is None
    all_readable(rt)

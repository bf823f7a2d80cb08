"""Master key rotation survives a crash at any instant: every row opens, and it finishes.

The rotation runs as `gembok keys rotate-master` in a child process that is SIGKILLed at
each step boundary and at random moments; after each kill the data dir is opened the way
every process opens it, every sealed field is read back, and a start finishes the job.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from appliance.bootstrap import initialise
from appliance.crypto.wrap import wrap
from appliance.inbox.customers import read_customer
from appliance.inbox.messages import read_conversation
from appliance.keys.master_rotation import CRASH_ENV, STEPS
from appliance.runtime import open_runtime
from appliance.store.db import db, execute_many
from appliance.store.keystate import AppState
from appliance.store.models import AuditEntry, Conversation, Customer, CustomerKey
from tests.conftest import BOTH_ENGINES, copy_data_dir, settings_for, store_env
from tests.factories import make_customer, make_inbound

pytestmark = [pytest.mark.slow, *BOTH_ENGINES]
CUSTOMERS = 30
EXTRA_KEYS = 20_000  # bare keys, so that a random kill lands mid-rotation
tried: list[str] = []


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, engine):
    root = tmp_path_factory.mktemp("pristine")
    settings = settings_for(root / "var")
    rt, _ = initialise(settings)
    for n in range(CUSTOMERS):
        customer = make_customer(rt, name=f"Pelanggan {n}", phone=f"+62812777{n:05d}")
        make_inbound(rt, customer, body=f"Pesan rahasia nomor {n}", wamid=f"wamid.R{n}")
    rows = []
    for _ in range(EXTRA_KEYS):
        cid = Customer.insert().execute()
        rows.append((cid, wrap(rt.master.key, os.urandom(32), f"customer:{cid}:v1"),
                     rt.master.key_id))
    with db.atomic():
        execute_many("INSERT INTO customer_key (customer_id, version, wrapped, "
                     "master_id, created_at) VALUES (?, 1, ?, ?, '2026-01-01')", rows)
    db.close()
    return root / "var"


def copy(pristine, tmp_path):
    return copy_data_dir(pristine, tmp_path / "var")


def rotate(data_dir, crash_at: str | None = None, kill_after: float | None = None) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEMBOK")}
    env.update(GEMBOK_DATA_DIR=str(data_dir), **store_env(data_dir))
    if crash_at:
        env[CRASH_ENV] = crash_at
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "keys", "rotate-master"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if kill_after is not None:
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=120)
    return proc.returncode


def everything_opens(data_dir) -> None:
    """Opens the data dir as any process would and reads every sealed field back."""
    rt = open_runtime(settings_for(data_dir))
    try:
        for n, customer in enumerate(Customer.select().where(Customer.name_sealed.is_null(False))
                                     .order_by(Customer.id)):
            record = read_customer(rt, customer.id, actor="system")
            assert record.name == f"Pelanggan {n}"
            convo = Conversation.get(Conversation.customer == customer.id)
            assert read_conversation(rt, convo.id, actor="system")[0].body == \
                f"Pesan rahasia nomor {n}"
    finally:
        db.close()


def finished(data_dir) -> None:
    """A start completes the interrupted rotation: one master, everything under it."""
    settings = settings_for(data_dir)
    initialise(settings)
    try:
        current = AppState.get(AppState.name == "master_id").value
        assert not (data_dir / "master.key.new").exists()
        assert {k.master_id for k in CustomerKey.select()} == {current}
    finally:
        db.close()
    everything_opens(data_dir)


@pytest.mark.parametrize("step", STEPS)
def test_a_crash_after_each_step_leaves_everything_readable_and_the_rotation_finishes(
        pristine, tmp_path, step):
    data_dir = copy(pristine, tmp_path)
    assert rotate(data_dir, crash_at=step) == -signal.SIGKILL
    tried.append(step)
    everything_opens(data_dir)
    finished(data_dir)


@pytest.fixture(scope="module")
def duration(pristine, tmp_path_factory) -> float:
    """How long a whole rotation takes here (start-up included), to aim the random kills."""
    data_dir = copy(pristine, tmp_path_factory.mktemp("timing"))
    started = time.monotonic()
    assert rotate(data_dir) == 0
    return time.monotonic() - started


@pytest.mark.parametrize("seed", range(10))
def test_a_crash_at_a_random_instant_leaves_everything_readable(pristine, tmp_path, seed,
                                                                 duration):
    data_dir = copy(pristine, tmp_path)
    delay = random.Random(seed).uniform(0.2 * duration, duration)
    code = rotate(data_dir, kill_after=delay)
    tried.append(f"random {delay:.2f} s ({'killed' if code == -9 else 'finished'})")
    everything_opens(data_dir)
    finished(data_dir)


def test_a_rotation_without_crashes_finishes_in_one_go_and_is_audited(pristine, tmp_path):
    data_dir = copy(pristine, tmp_path)
    old = (data_dir / "master.key").read_bytes()
    assert rotate(data_dir) == 0
    assert (data_dir / "master.key").read_bytes() != old
    assert not (data_dir / "master.key.new").exists()
    everything_opens(data_dir)
    open_runtime(settings_for(data_dir))
    try:
        assert AuditEntry.select().where(AuditEntry.action == "key.master_rotated").count() == 1
    finally:
        db.close()
    print(f"\ncrash points tried: {len(tried)} ({', '.join(tried)})")

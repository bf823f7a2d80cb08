"""What a process makes before gunicorn forks it is not its workers': each makes its own.

gunicorn builds the apps in its master (`preload_app`) and forks the workers; a thread,
a lock's file description or a socket made before the fork would be dead or shared in
every worker. These tests fork as gunicorn does.
"""

from __future__ import annotations

import os
import select
import signal
import threading

from appliance.audit.queue import AuditQueue
from appliance.store.db import db
from appliance.store.models import AuditEntry
from appliance.store.write_lock import write_lock
from tests.conftest import BOTH_ENGINES

pytestmark = BOTH_ENGINES


def _child(body) -> int:  # type: ignore[no-untyped-def]
    """Runs `body` in a forked child; returns its exit code (0: it did what it should)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if body() else 3
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_a_read_queued_in_a_forked_worker_reaches_the_chain(rt) -> None:
    # Given a read-audit queue built before the fork, as create_app builds it in the master
    reads = AuditQueue(rt.keyring.audit_key)
    db.close()

    # When a forked worker records a read and exits as gunicorn's workers do
    def worker() -> bool:
        reads({"actor": "user:7", "action": "conversation.read", "target": "conversation:3"})
        reads.close()
        return True

    assert _child(worker) == 0

    # Then the read is in the chain
    db.close()
    assert AuditEntry.select().where(AuditEntry.action == "conversation.read").count() == 1


def test_a_forked_child_waits_for_the_write_lock_its_parent_holds(tmp_path) -> None:
    db_file = tmp_path / "gembok.db"
    got_it_r, got_it_w = os.pipe()
    with write_lock(db_file):  # the parent holds the lock, and its descriptor, at the fork
        pid = os.fork()
        if pid == 0:
            os.close(got_it_r)
            with write_lock(db_file):
                os.write(got_it_w, b"x")
            os._exit(0)
        os.close(got_it_w)
        try:
            # The child must wait: with the parent's descriptor it would take it at once
            waited = select.select([got_it_r], [], [], 1.0)[0] == []
        except BaseException:
            os.kill(pid, signal.SIGKILL)
            raise
    try:
        # ... and get it once the parent lets go (with the parent's mutex, held at the
        # fork, it would wait forever)
        got_it = select.select([got_it_r], [], [], 10.0)[0] == [got_it_r]
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(got_it_r)
    assert waited and got_it


def test_threads_of_one_process_still_take_turns(tmp_path) -> None:
    db_file = tmp_path / "gembok.db"
    inside, most = 0, 0
    guard = threading.Lock()

    def take() -> None:
        nonlocal inside, most
        for _ in range(50):
            with write_lock(db_file):
                with guard:
                    inside += 1
                    most = max(most, inside)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 1


def test_a_worker_forked_with_the_masters_connection_open_opens_its_own(rt) -> None:
    # Given a master that has read from the store and still holds its connection
    before = AuditEntry.select().count()
    assert not db.is_closed()

    # When a forked worker writes (as a web worker records what its staff did)
    def worker() -> bool:
        rt.audit(actor="user:7", action="conversation.read", target="conversation:9")
        return AuditEntry.select().count() == before + 1

    # Then it did so on a connection of its own, and the master's still works after it
    assert _child(worker) == 0
    assert AuditEntry.select().count() == before + 1
    rt.audit(actor="user:8", action="conversation.read", target="conversation:9")
    assert AuditEntry.select().count() == before + 2

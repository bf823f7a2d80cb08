"""Provides `AuditQueue`: read audits appended by a background thread, many per transaction.

"Who opened this conversation" must be recorded for every page view, but an fsync per
view would slow the page that an agent is waiting for. Entries wait here for a few
milliseconds and go into the chain together; `close` (at shutdown) writes what is left.
The entries are built and validated by the same `chain.append` as every other.

The thread belongs to the process that queues, never to the one that built the queue:
gunicorn builds the app in its master and forks the workers (`preload_app`), and a
thread does not cross a fork. The first version started its thread in the factory, so
in production every worker queued reads into memory that nothing drained, and the
chain held none of them (found by an outside review under `gembok run`; the in-process
tests never forked). So the thread starts on the first entry of each process, and a
fork leaves the child a fresh queue and lock.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import weakref
from typing import Any

from appliance.audit import chain
from appliance.store.db import close_connection, db

log = logging.getLogger(__name__)
_Item = dict[str, Any] | None


class AuditQueue:
    def __init__(self, key: bytes, *, max_wait: float = 0.05, max_batch: int = 200) -> None:
        self._key, self._max_wait, self._max_batch = key, max_wait, max_batch
        self._fresh()
        ref = weakref.ref(self)

        def after_fork_in_child() -> None:
            if (q := ref()) is not None:
                q._fresh()

        os.register_at_fork(after_in_child=after_fork_in_child)

    def _fresh(self) -> None:
        """No thread yet in this process; whatever a parent had queued stays the parent's."""
        self._pid = -1
        self._start_lock = threading.Lock()
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._thread: threading.Thread | None = None

    def _running(self) -> queue.Queue[_Item]:
        if self._pid != os.getpid():
            with self._start_lock:
                if self._pid != os.getpid():
                    self._queue = queue.Queue()
                    self._thread = threading.Thread(target=self._run, args=(self._queue,),
                                                    name="audit-queue", daemon=True)
                    self._thread.start()
                    self._pid = os.getpid()
        return self._queue

    def __call__(self, entry: dict[str, Any]) -> None:
        self._running().put(entry)

    @property
    def started_here(self) -> bool:
        return self._pid == os.getpid() and self._thread is not None

    def close(self) -> None:
        """Writes what is left (gunicorn's worker exit, atexit); a no-op where nothing ran."""
        if not self.started_here:
            return
        assert self._thread is not None
        self._queue.put(None)
        self._thread.join(10)
        self._pid = -1

    def flush(self, timeout: float = 5.0) -> None:
        """Waits until everything queued so far is in the chain (for tests)."""
        if not self.started_here:
            return
        done = threading.Event()
        self._queue.put({"_flush": done})
        done.wait(timeout)

    def _run(self, q: queue.Queue[_Item]) -> None:
        while True:
            first = q.get()
            batch = [first]
            try:
                while len(batch) < self._max_batch:
                    batch.append(q.get(timeout=self._max_wait))
            except queue.Empty:
                pass
            stop = None in batch
            entries = [e for e in batch if e is not None and "_flush" not in e]
            if entries:
                self._write(entries)
            for e in batch:
                if e is not None and "_flush" in e:
                    e["_flush"].set()
            if stop:
                return

    def _write(self, entries: list[dict[str, Any]]) -> None:
        """Three tries (a rotation or a backup may hold the write lock past busy_timeout)."""
        for attempt in range(1, 4):
            try:
                with db.atomic():
                    for entry in entries:
                        chain.append(self._key, **entry)
                return
            except Exception:  # never silently: the log says how many were lost, and why
                if attempt == 3:
                    log.exception("%d read audit entries could not be written", len(entries))
                else:
                    time.sleep(attempt)
            finally:
                close_connection()

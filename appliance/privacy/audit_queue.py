"""Provides `AuditQueue`: read audits appended by a background thread, many per transaction.

"Who opened this conversation" must be recorded for every page view, but an fsync per
view would slow the page that an agent is waiting for. Entries wait here for a few
milliseconds and go into the chain together; `close` (at shutdown) writes what is left.
The entries are built and validated by the same `audit.append` as every other.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from appliance.privacy import audit
from appliance.store.db import db

log = logging.getLogger(__name__)


class AuditQueue:
    def __init__(self, key: bytes, *, max_wait: float = 0.05, max_batch: int = 200) -> None:
        self._key, self._max_wait, self._max_batch = key, max_wait, max_batch
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="audit-queue", daemon=True)
        self._thread.start()

    def __call__(self, entry: dict[str, Any]) -> None:
        self._queue.put(entry)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(10)

    def flush(self, timeout: float = 5.0) -> None:
        """Waits until everything queued so far is in the chain (for tests)."""
        done = threading.Event()
        self._queue.put({"_flush": done})
        done.wait(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            batch = [first]
            try:
                while len(batch) < self._max_batch:
                    batch.append(self._queue.get(timeout=self._max_wait))
            except queue.Empty:
                pass
            stop = None in batch
            entries = [e for e in batch if e is not None and "_flush" not in e]
            if entries:
                try:
                    with db.atomic():
                        for entry in entries:
                            audit.append(self._key, **entry)
                except Exception:  # never silently: the log says how many were lost, and why
                    log.exception("%d read audit entries could not be written", len(entries))
                finally:
                    db.close()
            for e in batch:
                if e is not None and "_flush" in e:
                    e["_flush"].set()
            if stop:
                return

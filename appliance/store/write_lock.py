"""Provides the write lock that hot writers (inbox writer, ingest worker) take in turn.

SQLite lets one writer in at a time and makes the others wait in its busy handler,
which sleeps with back-off (1, 2, 5 … 100 ms) instead of waiting on the lock: two busy
writers in two processes then make seconds-long tails (see the ingest reference). An
`flock` on a file beside the database makes them queue in the kernel instead, and the
waiter runs the moment the holder commits. Threads of one process queue on a mutex
first, because flock does not tell threads of the same process apart.

A lock belongs to an open file description, which a fork shares: a child that kept its
parent's descriptor would hold "the same" lock as its parent and never wait for it. So
a forked child forgets both the descriptors and the mutex and opens its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_mutex = threading.Lock()
_fds: dict[Path, int] = {}


def _forget_after_fork() -> None:
    global _mutex
    _mutex = threading.Lock()
    for fd in _fds.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _fds.clear()


os.register_at_fork(after_in_child=_forget_after_fork)


@contextmanager
def write_lock(db_file: Path) -> Iterator[None]:
    path = db_file.with_name(db_file.name + ".writelock")
    with _mutex:
        fd = _fds.get(path)
        if fd is None:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            _fds[path] = fd
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

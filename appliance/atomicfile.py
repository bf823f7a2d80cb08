"""Provides crash-safe file replacement: write a temp file, fsync, rename, fsync the directory.

Keys and checkpoints must never be half-written: after a power cut the file is either
the old one or the new one. The temp file sits in the same directory (so the rename
is atomic) and is created with the final mode, so a secret is never briefly readable.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replaces `path` with `data` atomically and durably."""
    tmp = _write_temp(path, data, mode)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def create_exclusive(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Creates `path` whole or not at all, and never replaces an existing file, even in a race.

    Raises FileExistsError when `path` exists: a key file is never overwritten.
    """
    tmp = _write_temp(path, data, mode)
    try:
        os.link(tmp, path)  # fails with EEXIST instead of replacing
    finally:
        os.unlink(tmp)
    fsync_dir(path.parent)


def _write_temp(path: Path, data: bytes, mode: int) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have narrowed it, a stale temp may have widened it
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        os.close(fd)
    return tmp


def fsync_dir(directory: Path) -> None:
    """Makes a rename or a new file in `directory` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

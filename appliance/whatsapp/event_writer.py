"""Provides group commit for the inbox: one writer process, many webhook requests per fsync.

A commit with `synchronous=FULL` costs an fsync; one per request caps a 2-core box at
about 1,350 acknowledgements/s, and several SQLite writers arbitrated by busy_timeout
make seconds-long tails (see the ingest reference). So every webhook request thread
sends its sealed event over a unix socket to this single-threaded process, which
commits whatever has arrived in one multi-row INSERT, then answers each request with
its row id. Nothing is acknowledged to Meta before its row is durable. Sealing stays in
the requests (spread over the web workers' cores); the writer only inserts.

Frame, both ways: 4-byte big-endian length, then the payload. Request payload: the
32-character uid, the body's 32-byte digest (zeros: none), then the sealed body. Answer
payload: the row id as 8 bytes (signed; 0 when the digest was already stored, a replay
acknowledged without storing it again; -1 when the batch could not be written, and the
request answers 503 so Meta retries).
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from appliance.clock import utcnow
from appliance.store import bulk

log = logging.getLogger(__name__)
_LEN = struct.Struct(">I")
_ID = struct.Struct(">q")
UID_BYTES = 32
DIGEST_BYTES = 32
_NO_DIGEST = bytes(DIGEST_BYTES)
MAX_FRAME = 8 * 2**20
MAX_BATCH = 2000  # rows per INSERT: 4 parameters each, far under SQLite's 32,766


class WriterUnavailable(Exception):
    """The writer process is not there (or went away): store the event directly instead."""


class _Peer:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.inbuf = bytearray()
        self.outbuf = bytearray()


_Pending = tuple[_Peer, str, bytes | None, bytes]  # peer, uid, digest, sealed body


def serve(socket_path: Path, connect: Callable[[], Any],
          on_commit: Callable[[list[int]], object], should_stop: Callable[[], bool],
          ready: Callable[[], None] = lambda: None,
          lock: Callable[[], AbstractContextManager[object]] = nullcontext,
          linger: float = 0.001, linger_until: int = 16) -> None:
    """Runs the writer until `should_stop()`; `connect()` gives a DB-API connection.

    `lock` is the write lock shared with the other hot writer (the ingest worker).
    """
    conn = connect()
    socket_path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o077)
    try:
        server.bind(str(socket_path))
    finally:
        os.umask(old_umask)
    server.listen(256)
    server.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(server, selectors.EVENT_READ, None)
    peers: dict[int, _Peer] = {}
    ready()
    try:
        while not should_stop():
            pending: list[_Pending] = []
            timeout, first_at = 0.5, 0.0
            while True:
                for key, _ in sel.select(timeout=timeout):
                    if key.data is None:
                        _accept(server, sel, peers)
                    else:
                        _read(key.data, sel, peers, pending)
                if not pending or len(pending) >= linger_until:
                    break
                # Linger briefly for more: one commit of many costs far less CPU than
                # many commits of one, and CPU is what a 2-core box runs out of first.
                first_at = first_at or time.monotonic()
                timeout = linger - (time.monotonic() - first_at)
                if timeout <= 0:
                    break
            while pending:
                batch, pending = pending[:MAX_BATCH], pending[MAX_BATCH:]
                with lock():
                    ids = _insert(conn, batch)
                for (peer, _, _, _), row_id in zip(batch, ids, strict=True):
                    peer.outbuf += _LEN.pack(_ID.size) + _ID.pack(row_id)
                _flush_all(batch, sel, peers)
                committed = [i for i in ids if i > 0]
                if committed:
                    on_commit(committed)
    finally:
        for peer in list(peers.values()):
            peer.sock.close()
        sel.close()
        server.close()
        socket_path.unlink(missing_ok=True)
        conn.close()


def _accept(server: socket.socket, sel: selectors.BaseSelector, peers: dict[int, _Peer]) -> None:
    with contextlib.suppress(BlockingIOError):
        while True:
            sock, _ = server.accept()
            sock.setblocking(False)
            peer = _Peer(sock)
            peers[sock.fileno()] = peer
            sel.register(sock, selectors.EVENT_READ, peer)


def _drop(peer: _Peer, sel: selectors.BaseSelector, peers: dict[int, _Peer]) -> None:
    with contextlib.suppress(KeyError, ValueError):
        sel.unregister(peer.sock)
    peers.pop(peer.sock.fileno(), None)
    peer.sock.close()


def _read(peer: _Peer, sel: selectors.BaseSelector, peers: dict[int, _Peer],
          pending: list[_Pending]) -> None:
    try:
        chunk = peer.sock.recv(1 << 20)
    except (BlockingIOError, InterruptedError):
        return
    except OSError:
        chunk = b""
    if not chunk:
        _drop(peer, sel, peers)
        return
    peer.inbuf += chunk
    while len(peer.inbuf) >= _LEN.size:
        (length,) = _LEN.unpack_from(peer.inbuf)
        if length > MAX_FRAME or length <= UID_BYTES + DIGEST_BYTES:
            log.error("inbox writer: malformed frame from a client; closing it")
            _drop(peer, sel, peers)
            return
        if len(peer.inbuf) < _LEN.size + length:
            return
        frame = bytes(peer.inbuf[_LEN.size:_LEN.size + length])
        del peer.inbuf[:_LEN.size + length]
        digest = frame[UID_BYTES:UID_BYTES + DIGEST_BYTES]
        pending.append((peer, frame[:UID_BYTES].decode("ascii", "replace"),
                        None if digest == _NO_DIGEST else digest,
                        frame[UID_BYTES + DIGEST_BYTES:]))


def _insert(conn: Any, batch: list[_Pending]) -> list[int]:
    """One statement, one transaction, one fsync for the whole batch; ids in batch order.

    A body whose digest is already stored (a replay, or Meta's own duplicate) is skipped
    by the statement itself and answered 0: acknowledged, not stored again.
    """
    try:
        by_uid = bulk.insert_inbox_events(conn, utcnow().isoformat(sep=" "), batch)
    except Exception:  # disk full, I/O error: nothing of this batch is acknowledged
        log.exception("inbox writer: a batch of %d events could not be committed", len(batch))
        with contextlib.suppress(Exception):
            conn.rollback()
        return [-1] * len(batch)
    return [by_uid.get(uid, 0) for _, uid, _, _ in batch]


def _flush_all(batch: list[_Pending], sel: selectors.BaseSelector,
               peers: dict[int, _Peer]) -> None:
    for peer in {id(p): p for p, _, _, _ in batch}.values():
        try:
            while peer.outbuf:
                sent = peer.sock.send(peer.outbuf)
                del peer.outbuf[:sent]
        except BlockingIOError:
            peer.sock.setblocking(True)  # rare: a client that stopped reading; finish it
            try:
                peer.sock.sendall(peer.outbuf)
                peer.outbuf.clear()
            except OSError:
                _drop(peer, sel, peers)
            else:
                peer.sock.setblocking(False)
        except OSError:
            _drop(peer, sel, peers)


class WriterClient:
    """One connection per request thread to the writer; reconnects when the writer restarts."""

    def __init__(self, socket_path: Path, timeout: float = 10.0) -> None:
        self.path, self.timeout = socket_path, timeout
        self._forget()
        # Built in gunicorn's master, used in its forked workers: a connection must never
        # be shared by two processes (their frames would interleave on one socket).
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._local = threading.local()
        self._all: set[socket.socket] = set()
        self._lock = threading.Lock()

    def close(self) -> None:
        """Closes every thread's connection (at shutdown)."""
        with self._lock:
            for sock in self._all:
                sock.close()
            self._all.clear()

    def store(self, uid: str, sealed: bytes, digest: bytes | None = None) -> int:
        """The row id once committed; 0 when the digest was stored already (a replay)."""
        if len(uid) != UID_BYTES or (digest is not None and len(digest) != DIGEST_BYTES):
            raise ValueError("a uid is 32 characters, a digest 32 bytes")
        frame = uid.encode("ascii") + (digest or _NO_DIGEST) + sealed
        for attempt in (1, 2):  # a stale connection (writer restarted) gets one fresh retry
            sock = self._socket()
            try:
                sock.sendall(_LEN.pack(len(frame)) + frame)
                answer = _recv_exact(sock, _LEN.size + _ID.size)
            except OSError:
                self._close()
                if attempt == 2:
                    raise WriterUnavailable("the inbox writer went away") from None
                continue
            (row_id,) = _ID.unpack_from(answer, _LEN.size)
            if row_id < 0:
                raise WriterUnavailable("the inbox writer could not commit")
            return int(row_id)
        raise WriterUnavailable("unreachable")  # pragma: no cover

    def _socket(self) -> socket.socket:
        sock: socket.socket | None = getattr(self._local, "sock", None)
        if sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(str(self.path))
            except OSError:
                sock.close()
                raise WriterUnavailable(f"no inbox writer at {self.path}") from None
            self._local.sock = sock
            with self._lock:
                self._all.add(sock)
        return sock

    def _close(self) -> None:
        sock = getattr(self._local, "sock", None)
        if sock is not None:
            sock.close()
            with self._lock:
                self._all.discard(sock)
        self._local.sock = None


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        chunk = sock.recv(size - len(buf))
        if not chunk:
            raise ConnectionError("writer closed the connection")
        buf += chunk
    return bytes(buf)


class IdBatcher:
    """Hands committed ids to the queue from a thread of its own, many ids per message.

    Queueing costs about as much as committing; done inline, per commit, it halves the
    writer's rate. Ids wait at most `max_wait` seconds: long enough that the worker gets
    hundreds of events to apply with one fsync, short enough that no one notices. A lost
    handful is found by the sweeper, as is anything queued while Redis was down.
    """

    def __init__(self, send: Callable[[list[int]], object], *, max_ids: int = 500,
                 max_wait: float = 0.05) -> None:
        self.send, self.max_ids, self.max_wait = send, max_ids, max_wait
        self._ids: list[int] = []
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="id-batcher", daemon=True)
        self._thread.start()

    def __call__(self, ids: list[int]) -> None:
        with self._cond:
            self._ids += ids
            if len(self._ids) >= self.max_ids:
                self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._thread.join(5)

    def _run(self) -> None:
        while True:
            with self._cond:
                if len(self._ids) < self.max_ids and not self._stopped:
                    self._cond.wait(self.max_wait)
                ids, self._ids = self._ids, []
                stopped = self._stopped
            for start in range(0, len(ids), self.max_ids):
                self.send(ids[start:start + self.max_ids])
            if stopped:
                return

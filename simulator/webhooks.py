"""Provides webhook delivery: signed POSTs, batching, duplicates, reordering, retries, a log.

Meta's delivery is what Gembok's endpoint must survive (reference §2.3, §9): several
updates per POST, the same POST twice, `read` before `delivered`, retries with back-off
until a 200, then a silent drop. One sender thread does it, started on first use (never
in the app factory: gunicorn builds the app before it forks), and tests can instead
call `flush()` to deliver synchronously.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import random
import ssl
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from simulator.config import SimulatorConfig
from simulator.payloads import envelope

log = logging.getLogger(__name__)
LOG_SIZE = 10_000
MAX_BATCH = 1000  # Meta: "a maximum of 1000 updates" per POST


@dataclass
class Mode:
    """How Meta-like (that is, how awkward) delivery is; set through `/_sim/webhooks/mode`."""

    batch: int = 1
    duplicate: float = 0.0  # probability that a POST is delivered twice
    reorder: bool = False


@dataclass
class _Pending:
    field: str
    value: dict[str, Any]
    due: float
    seq: int
    cancel_key: str | None = None
    on_take: Callable[[], None] | None = None
    account: str = ""  # the WABA the update is about ('': the business's first)


@dataclass
class Post:
    """One webhook POST and its fate; the log shows these."""

    id: int
    body: bytes
    updates: int
    duplicate_of: int | None = None
    attempts: int = 0
    status: int | None = None  # last HTTP status; None after a connection error or timeout
    error: str | None = None
    state: str = "pending"  # pending, retrying, delivered, dropped, skipped (no webhook_url)
    next_at: float = 0.0
    fields: list[str] = field(default_factory=list)

    def entry(self) -> dict[str, Any]:
        return {"id": self.id, "updates": self.updates, "fields": self.fields,
                "attempts": self.attempts, "status": self.status, "error": self.error,
                "state": self.state, "duplicate_of": self.duplicate_of,
                "body": json.loads(self.body)}


def sign(secret: str, body: bytes) -> str:
    """`X-Hub-Signature-256`: HMAC-SHA256 of the exact bytes sent, lower-case hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    def __init__(self, config: SimulatorConfig, clock: Callable[[], float],
                 rng: random.Random, *, background: bool = True) -> None:
        self._config = config
        self._clock = clock
        self._rng = rng
        self._background = background
        self._cond = threading.Condition()
        self._deliver_lock = threading.Lock()
        self._pending: list[_Pending] = []
        self._retrying: list[Post] = []
        self._log: deque[Post] = deque(maxlen=LOG_SIZE)
        self._seq = itertools.count()
        self._post_ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._client: httpx.Client | None = None
        self.mode = Mode()

    def enqueue(self, field_name: str, value: dict[str, Any], *, delay: float = 0.0,
                cancel_key: str | None = None,
                on_take: Callable[[], None] | None = None, account: str = "") -> None:
        """Queues one update (one change value); `delay` in simulated seconds; `account`:
        the WABA it is about, another than the first's (a POST names one per entry)."""
        with self._cond:
            self._pending.append(_Pending(field_name, value, self._clock() + delay,
                                          next(self._seq), cancel_key, on_take, account))
            self._start_thread()
            self._cond.notify_all()

    def cancel(self, cancel_key: str, *, due_after: float) -> bool:
        """Drops a queued update not yet due, e.g. `delivered` when the customer reads first
        (Meta skips it as implied); one already due stays, as it would have gone out."""
        with self._cond:
            before = len(self._pending)
            self._pending = [p for p in self._pending
                             if p.cancel_key != cancel_key or p.due <= due_after]
            return len(self._pending) != before

    def poke(self) -> None:
        """Wakes the sender after the simulated clock jumped."""
        with self._cond:
            self._cond.notify_all()

    def flush(self, *, scheduled: bool = True) -> list[dict[str, Any]]:
        """Delivers now, in this thread: every queued update (even those scheduled later,
        when `scheduled`) and every retry that is due. Returns the POSTs' log entries."""
        return [p.entry() for p in self._deliver(scheduled=scheduled, all_retries=False)]

    def retry_now(self) -> list[dict[str, Any]]:
        """Re-attempts every POST waiting for its back-off, at once."""
        return [p.entry() for p in self._deliver(scheduled=False, all_retries=True, new=False)]

    def entries(self) -> list[dict[str, Any]]:
        with self._cond:
            posts = list(self._log)
        return [p.entry() for p in posts]

    def pending_count(self) -> int:
        with self._cond:
            return len(self._pending) + len(self._retrying)

    def close(self) -> None:
        """Stops the sender thread and closes its HTTP client (tests, shutdown)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=self._config.webhook_timeout_seconds + 2)
        with self._deliver_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # -- the sender thread --------------------------------------------------------------

    def _start_thread(self) -> None:
        if self._background and self._thread is None and not self._stopping:
            self._thread = threading.Thread(target=self._run, name="gembok-sim-webhooks",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                wait = self._seconds_to_next()
                if wait is None or wait > 0:
                    self._cond.wait(timeout=None if wait is None else min(wait, 1.0))
                    continue
            try:
                self._deliver(scheduled=False, all_retries=False)
            except Exception:  # never let one bad POST kill delivery for good
                log.exception("webhook delivery failed unexpectedly")

    def _seconds_to_next(self) -> float | None:
        times = [p.due for p in self._pending] + [p.next_at for p in self._retrying]
        return min(times) - self._clock() if times else None

    # -- delivery -----------------------------------------------------------------------

    def _deliver(self, *, scheduled: bool, all_retries: bool, new: bool = True) -> list[Post]:
        with self._deliver_lock:
            now = self._clock()
            with self._cond:
                take = [p for p in self._pending if new and (scheduled or p.due <= now)]
                taken = {id(p) for p in take}
                self._pending = [p for p in self._pending if id(p) not in taken]
                retry = [p for p in self._retrying if all_retries or p.next_at <= now]
                retried = {id(p) for p in retry}
                self._retrying = [p for p in self._retrying if id(p) not in retried]
            for pending in take:
                if pending.on_take is not None:
                    pending.on_take()
            take.sort(key=lambda p: (p.due, p.seq))
            if self.mode.reorder:
                self._rng.shuffle(take)
            done: list[Post] = []
            for post in retry:
                self._attempt(post)
                done.append(post)
            size = max(1, min(self.mode.batch, MAX_BATCH))
            batches = [(account, group[i:i + size])
                       for account, group in _by_account(take, self._config.waba_id).items()
                       for i in range(0, len(group), size)]
            for account, batch in batches:
                post = self._new_post([(p.field, p.value) for p in batch], now, account)
                self._attempt(post)
                done.append(post)
                if self.mode.duplicate > 0 and self._rng.random() < self.mode.duplicate:
                    twin = self._new_post([], now, copy_of=post)
                    self._attempt(twin)
                    done.append(twin)
            return done

    def _new_post(self, updates: list[tuple[str, dict[str, Any]]], now: float,
                  account: str = "", copy_of: Post | None = None) -> Post:
        if copy_of is not None:
            post = Post(next(self._post_ids), copy_of.body, copy_of.updates,
                        duplicate_of=copy_of.id, fields=copy_of.fields)
        else:
            body = json.dumps(envelope(account, updates, now),
                              separators=(",", ":")).encode()  # \u-escaped, like Meta's
            post = Post(next(self._post_ids), body, len(updates),
                        fields=sorted({f for f, _ in updates}))
        with self._cond:
            self._log.append(post)
        return post

    def _attempt(self, post: Post) -> None:
        post.attempts += 1
        url = self._config.webhook_url
        if not url:
            post.state = "skipped"
            return
        try:
            response = self._http().post(url, content=post.body, headers={
                "Content-Type": "application/json", "User-Agent": "facebookexternalua",
                "X-Hub-Signature-256": sign(self._config.app_secret, post.body)})
            post.status, post.error = response.status_code, None
        except (httpx.HTTPError, OSError, ssl.SSLError) as exc:
            post.status, post.error = None, type(exc).__name__
        if post.status == 200:  # Meta counts only a 200 as delivered
            post.state = "delivered"
        elif post.attempts >= self._config.retry_max_attempts:
            post.state = "dropped"
            log.warning("webhook POST %d dropped after %d attempts (last status %s)",
                        post.id, post.attempts, post.status)
        else:
            post.state = "retrying"
            back_off = self._config.retry_base_seconds * 2 ** (post.attempts - 1)
            post.next_at = self._clock() + back_off * (1 + 0.25 * self._rng.random())
            with self._cond:
                self._retrying.append(post)
                self._cond.notify_all()

    def _http(self) -> httpx.Client:
        if self._client is None:
            ca = self._config.webhook_ca_file
            verify: ssl.SSLContext | bool = (ssl.create_default_context(cafile=ca) if ca
                                             else True)
            self._client = httpx.Client(verify=verify,
                                        timeout=self._config.webhook_timeout_seconds)
        return self._client


def _by_account(take: list[_Pending], first: str) -> dict[str, list[_Pending]]:
    """Updates of one account per POST, in their order (Meta's entry names one WABA)."""
    groups: dict[str, list[_Pending]] = {}
    for pending in take:
        groups.setdefault(pending.account or first, []).append(pending)
    return groups

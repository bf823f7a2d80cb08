"""Provides the audit log: an append-only hash chain, sealed with the audit key.

Each entry holds the hash of the one before it and an HMAC of its own hash under the
audit key, which lives in the keyring and never in the database: someone who can edit
the database can break the chain but cannot forge a new one. Entries carry ids and
short codes only, never personal data: the log answers "who saw customer 42?" without
itself becoming a copy of customer 42's data. Truncation and rollback, which a chain
alone cannot show, are caught by the checkpoint in `audit_checkpoint`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from appliance.store.db import db
from appliance.store.models import AuditEntry

GENESIS = "0" * 64
# Ids and short codes only: a shape that free text (a name, a phone, a message) cannot fit.
# The TUI names the Unix login at the terminal, in the shape useradd allows.
_ACTOR = re.compile(r"(system|cli|user:\d+|worker|scheduler|webhook|autoreply|broadcast"
                    r"|tui(:[a-z_][a-z0-9_.-]{0,31})?)")
_TARGET = re.compile(r"([a-z_]+(:[A-Za-z0-9_.-]{1,40})?)?")
_ACTION = re.compile(r"[a-z_]+(\.[a-z_]+)+")
_DETAIL_TEXT = re.compile(r"[A-Za-z0-9_.:-]{0,64}")

DetailValue = int | bool | str | None


@dataclass(frozen=True)
class Head:
    """Where the chain ends: the last entry's sequence number and hash (0 and GENESIS if empty)."""

    seq: int
    entry_hash: str


def append(key: bytes, *, actor: str, action: str, target: str = "",
           detail: Mapping[str, DetailValue] | None = None) -> AuditEntry:
    """Adds one entry at the end of the chain, in its own (or the caller's) transaction."""
    if not _ACTOR.fullmatch(actor):
        raise ValueError(f"audit actor {actor!r} is not an id such as user:12 or system")
    if not _ACTION.fullmatch(action):
        raise ValueError(f"audit action {action!r} is not a code such as key.created")
    if not _TARGET.fullmatch(target):
        raise ValueError(f"audit target {target!r} is not an id such as customer:42")
    detail = dict(detail or {})
    for name, value in detail.items():
        if isinstance(value, str) and not _DETAIL_TEXT.fullmatch(value):
            raise ValueError(f"audit detail {name} must be an id or short code, not free text")
    detail_json = json.dumps(detail, sort_keys=True, separators=(",", ":"))
    with db.atomic():  # a writer from BEGIN on (store.db)
        head = current_head()
        seq = head.seq + 1
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        digest = entry_hash(seq, at, actor, action, target, detail_json, head.entry_hash)
        return AuditEntry.create(seq=seq, at=at, actor=actor, action=action, target=target,
                                 detail=detail_json, prev_hash=head.entry_hash,
                                 entry_hash=digest, mac=seal(key, digest))


def entry_hash(seq: int, at: str, actor: str, action: str, target: str, detail: str,
               prev_hash: str) -> str:
    canonical = json.dumps([seq, at, actor, action, target, detail, prev_hash],
                           separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def seal(key: bytes, digest: str) -> str:
    return hmac.new(key, b"gembok-audit|" + digest.encode(), hashlib.sha256).hexdigest()


def current_head() -> Head:
    last = AuditEntry.select().order_by(AuditEntry.seq.desc()).first()
    return Head(last.seq, last.entry_hash) if last else Head(0, GENESIS)


def entry_at(seq: int) -> AuditEntry | None:
    return AuditEntry.get_or_none(AuditEntry.seq == seq)


@dataclass(frozen=True)
class Break:
    """The first place where the chain does not hold, in words an auditor can act on."""

    seq: int
    problem: str


def find_break(key: bytes) -> tuple[int, Break | None]:
    """Walks the whole chain; returns how many entries held, and the first break if any."""
    expected, prev, count = 1, GENESIS, 0
    for e in _entries():
        if e.seq != expected:
            missing = (f"entry #{expected} is" if e.seq == expected + 1
                       else f"entries #{expected} to #{e.seq - 1} are")
            return count, Break(expected, f"{missing} missing: deleted from the chain")
        if e.prev_hash != prev:
            return count, Break(e.seq, f"entry #{e.seq} does not follow entry #{e.seq - 1}: "
                                       "entries were inserted, removed or reordered here")
        digest = entry_hash(e.seq, e.at, e.actor, e.action, e.target, e.detail, e.prev_hash)
        if not hmac.compare_digest(digest, e.entry_hash):
            return count, Break(e.seq, f"entry #{e.seq} was edited: its content no longer "
                                       "matches its hash")
        if not hmac.compare_digest(seal(key, digest), e.mac):
            return count, Break(e.seq, f"entry #{e.seq} is not sealed by the audit key: the "
                                       "chain was rewritten or extended without the key")
        prev, expected, count = e.entry_hash, expected + 1, count + 1
    return count, None


def _entries() -> Iterator[AuditEntry]:
    return iter(AuditEntry.select().order_by(AuditEntry.seq).iterator())

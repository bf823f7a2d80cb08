"""Provides reading the audit log: filtered listings, and signed exports for an auditor.

An export is JSON lines, one entry each (with its hash and seal, so the chain can be
checked outside the box), and a last line that signs the whole file under the audit key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from appliance.atomicfile import write_atomic
from appliance.auth.permissions import Principal, require
from appliance.errors import GembokError
from appliance.runtime import Runtime
from appliance.store.models import AuditEntry


@dataclass(frozen=True)
class Filter:
    actor: str = ""
    action: str = ""
    target: str = ""
    since: datetime | None = None
    until: datetime | None = None


class AuditFilterError(GembokError):
    """A filter or an export that cannot be read as given."""


def read_filter(actor: str = "", action: str = "", target: str = "", since: str = "",
                until: str = "") -> Filter:
    """As typed by an admin: a bare number as target is that customer; `until` is inclusive."""
    target = target.strip()
    if target.isascii() and target.isdigit():
        target = f"customer:{target}"
    end = _day(until.strip(), "until")
    return Filter(actor.strip(), action.strip(), target, _day(since.strip(), "since"),
                  end + timedelta(days=1) if end else None)


def _day(text: str, field: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        raise AuditFilterError(f"{field}: {text!r} is not a date; write it as 2026-11-25") \
            from None


def listing(principal: Principal, f: Filter = Filter(), limit: int = 200) -> list[AuditEntry]:
    """Newest first."""
    require(principal, "audit.read")
    query = AuditEntry.select()
    if f.actor:
        query = query.where(AuditEntry.actor == f.actor)
    if f.action:
        query = query.where(AuditEntry.action.startswith(f.action))
    if f.target:
        query = query.where(AuditEntry.target == f.target)
    if f.since:
        query = query.where(AuditEntry.at >= f.since.isoformat())
    if f.until:
        query = query.where(AuditEntry.at < f.until.isoformat())
    return list(query.order_by(AuditEntry.seq.desc()).limit(limit))


def export(rt: Runtime, principal: Principal, f: Filter, path: Path) -> int:
    require(principal, "audit.read")
    rows = list(reversed(listing(principal, f, limit=10_000_000)))
    lines = [json.dumps({"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action,
                         "target": e.target, "detail": json.loads(e.detail),
                         "prev_hash": e.prev_hash, "entry_hash": e.entry_hash, "mac": e.mac},
                        sort_keys=True) for e in rows]
    body = "".join(line + "\n" for line in lines).encode()
    signature = _sign(rt.keyring.audit_key, body)
    write_atomic(path, body + json.dumps({"entries": len(lines), "signature": signature})
                 .encode() + b"\n", mode=0o600)
    rt.audit(actor=principal.actor, action="audit.exported", target="audit:export",
             detail={"entries": len(lines)})
    return len(lines)


def verify_export(audit_key: bytes, path: Path) -> int:
    """The number of entries when the file is whole and signed by this box; raises if not."""
    data = path.read_bytes()
    body, _, last = data.rstrip(b"\n").rpartition(b"\n")
    body = body + b"\n" if body else b""
    try:
        trailer = json.loads(last)
        count, signature = int(trailer["entries"]), str(trailer["signature"])
    except (ValueError, KeyError, TypeError):
        raise AuditFilterError(f"{path}: the last line is not an export signature; the file "
                               "is cut short or is not a Gembok audit export") from None
    if not hmac.compare_digest(signature, _sign(audit_key, body)) or \
            count != body.count(b"\n"):
        raise AuditFilterError(f"{path}: the signature does not match: the file was changed "
                               "after export, or comes from another box")
    return count


def _sign(audit_key: bytes, body: bytes) -> str:
    return hmac.new(audit_key, b"gembok-audit-export|" + hashlib.sha256(body).digest(),
                    hashlib.sha256).hexdigest()

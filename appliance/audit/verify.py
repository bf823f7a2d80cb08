"""Provides `verify`: the whole answer to "has the audit log been tampered with?"."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from appliance.audit import chain, checkpoint


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    summary: str
    broken_at: int | None = None


def verify(key: bytes, checkpoint_path: Path) -> Verdict:
    count, brk = chain.find_break(key)
    if brk is not None:
        return Verdict(False, count, f"audit chain broken at entry #{brk.seq}: {brk.problem}",
                       brk.seq)
    head = chain.current_head()
    try:
        point = checkpoint.read(checkpoint_path, key)
    except checkpoint.CheckpointError as exc:
        return Verdict(False, count, f"audit chain holds ({count} entries), but {exc}")
    if head.seq < point.seq:
        return Verdict(False, count,
                       f"audit log ends at entry #{head.seq}, but the checkpoint written at "
                       f"{point.written_at} records #{point.seq}: entries #{head.seq + 1} to "
                       f"#{point.seq} are gone (tail truncated, or the database was restored "
                       "from an older copy)", head.seq + 1)
    at = chain.entry_at(point.seq)
    if point.seq and (at is None or at.entry_hash != point.entry_hash):
        return Verdict(False, count,
                       f"entry #{point.seq} differs from the one the checkpoint written at "
                       f"{point.written_at} recorded: the database was replaced by another "
                       "copy (rolled back, then written again)", point.seq)
    return Verdict(True, count, f"audit chain intact: {count} entries, checkpoint at "
                                f"#{point.seq} ({point.written_at}) matches")

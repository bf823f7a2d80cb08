"""Provides data-key rotation: every customer gets a new key version, every row is re-sealed.

It runs in the background in short batches while the appliance serves: each batch
re-seals a few hundred rows and commits together with the job's cursor, so a crash or a
pause anywhere resumes from the last batch. Reads never fail meanwhile: a customer's key
set holds the old and the new version, and a value names the version that sealed it. The
old versions are destroyed only at the end, when every row has been re-sealed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from appliance.auth.permissions import Principal, require
from appliance.clock import utcnow
from appliance.crypto.aead import key_version_of, new_key, place
from appliance.crypto.wrap import wrap
from appliance.errors import GembokError
from appliance.keys.customer_keys import customer_keysets
from appliance.runtime import Runtime
from appliance.store import customer_data, key_rows
from appliance.store.customer_data import CUSTOMER_SEALED, Owned
from appliance.store.db import db, writing
from appliance.store.keystate import KeyJob

KIND = "data_keys"
BATCH = 500
# The share of one core the job takes while it runs: after each batch it rests for as
# long as the batch took, so the web UI keeps its latency (on 2 cores at full speed the
# inbox's p95 went 2.3x; the job still goes at over 10,000 rows/s at half speed).
DUTY = 0.5


STEPS = ("new_keys", *(t.table for t in CUSTOMER_SEALED), "retire")


class JobError(GembokError):
    """The key job cannot do what was asked (another one runs, or none does)."""


@dataclass(frozen=True)
class Progress:
    job_id: int
    state: str
    step: str
    rows_done: int
    rows_total: int
    rate: float  # rows per second since the job started
    seconds_left: float | None


def start(rt: Runtime, *, principal: Principal) -> int:
    """Starts a rotation (or returns the one not yet finished)."""
    require(principal, "keys.rotate")
    with db.atomic():
        running = KeyJob.get_or_none(KeyJob.kind == KIND, KeyJob.state != "done")
        if running is not None:
            return int(running.id)
        total = customer_data.count_rows()
        job = KeyJob.create(kind=KIND, state="running", step=STEPS[0], cursor=0,
                            rows_total=total)
        rt.audit(actor=principal.actor, action="key.data_rotation_started",
                 target=f"key_job:{job.id}")
    return int(job.id)


def set_paused(rt: Runtime, job_id: int, paused: bool, *, principal: Principal) -> None:
    require(principal, "keys.rotate")
    job = KeyJob.get_or_none(KeyJob.id == job_id)
    if job is None or job.state == "done":
        raise JobError(f"there is no unfinished key job {job_id}")
    KeyJob.update(state="paused" if paused else "running", updated_at=utcnow()).where(
        KeyJob.id == job_id).execute()
    rt.audit(actor=principal.actor, action="key.data_rotation_paused" if paused else
             "key.data_rotation_resumed", target=f"key_job:{job_id}")


def progress(job_id: int | None = None) -> Progress | None:
    query = KeyJob.select().where(KeyJob.kind == KIND)
    job = (query.where(KeyJob.id == job_id) if job_id else query.order_by(KeyJob.id.desc())
           ).first()
    if job is None:
        return None
    elapsed = max(((job.finished_at or utcnow()) - job.started_at).total_seconds(), 1e-3)
    rate = job.rows_done / elapsed
    left = (job.rows_total - job.rows_done) / rate if rate > 0 and job.state != "done" else None
    return Progress(job.id, job.state, job.step, job.rows_done, job.rows_total, rate, left)


def run(rt: Runtime, job_id: int, *, budget_seconds: float = 10.0,
        should_stop: Callable[[], bool] = lambda: False) -> bool:
    """Works on the job for about `budget_seconds`; returns True when it is finished."""
    deadline = time.monotonic() + budget_seconds
    while time.monotonic() < deadline and not should_stop():
        job = KeyJob.get_by_id(job_id)
        if job.state != "running":
            return job.state == "done"
        started = time.monotonic()
        if not _batch(rt, job):
            return True
        time.sleep((time.monotonic() - started) * (1 - DUTY) / DUTY)
    return KeyJob.get_by_id(job_id).state == "done"


def _batch(rt: Runtime, job: KeyJob) -> bool:
    """One committed batch; False when the job has just finished."""
    with writing(rt.settings.db_file):
        job = KeyJob.get_by_id(job.id)  # the state as of this transaction
        if job.step == "new_keys":
            done, cursor = _new_keys(rt, job.cursor)
            _advance(job, cursor, 0, finished_step=done)
        elif job.step == "retire":
            _retire(rt)
            KeyJob.update(state="done", finished_at=utcnow(), updated_at=utcnow()).where(
                KeyJob.id == job.id).execute()
            rt.audit(actor="system", action="key.data_rotation_finished",
                     target=f"key_job:{job.id}", detail={"rows": job.rows_done})
            return False
        else:
            table = next(t for t in CUSTOMER_SEALED if t.table == job.step)
            count, cursor = _reseal(rt, table, job.cursor)
            _advance(job, cursor, count, finished_step=count == 0)
    return True


def _advance(job: KeyJob, cursor: int, rows: int, *, finished_step: bool) -> None:
    step = STEPS[STEPS.index(job.step) + 1] if finished_step else job.step
    KeyJob.update(step=step, cursor=0 if finished_step else cursor,
                  rows_done=KeyJob.rows_done + rows, updated_at=utcnow()).where(
        KeyJob.id == job.id).execute()


def _new_keys(rt: Runtime, after: int) -> tuple[bool, int]:
    """The next version of the key of the next batch of customers."""
    rows = key_rows.key_versions_after(after, BATCH)
    if not rows:
        return True, after
    master = rt.master
    key_rows.insert_key_versions(
        [(cid, top + 1, master.key_id,
          wrap(master.key, new_key(), f"customer:{cid}:v{top + 1}"), str(utcnow()))
         for cid, top, low in rows if top == low])  # one version: a new one is due
    return False, rows[-1][0]


def _reseal(rt: Runtime, table: Owned, after: int) -> tuple[int, int]:
    rows = customer_data.rows_after(table, after, BATCH)
    if not rows:
        return 0, after
    keys = customer_keysets(rt.master, {r[1] for r in rows})
    updates, purposes = [], table.purposes()
    for row_id, customer_id, *values in rows:
        keyset = keys.get(customer_id)
        if keyset is None:  # erased: its keys are gone and its values stay unreadable
            continue
        new_values, changed = [], False
        for purpose, value in zip(purposes, values, strict=True):
            if value is not None and key_version_of(bytes(value)) < keyset.current:
                where = place(table.table, purpose, row_id)
                value = keyset.seal(keyset.open(bytes(value), where), where)
                changed = True
            new_values.append(value)
        if changed:
            updates.append((*new_values, row_id))
    customer_data.update_sealed(table, updates)
    return len(rows), int(rows[-1][0])


def _retire(rt: Runtime) -> None:
    """Destroys the versions no row uses any more.

    Every row that existed when its table's step ran was re-sealed by it; a row written
    later was sealed by a process that loaded the customer's keys after the new version
    existed (keys are loaded per operation, and the new versions are made first), so it
    already uses the newest version.
    """
    key_rows.delete_superseded_keys()

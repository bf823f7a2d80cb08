"""Two processes writing at once both land: an agent's note and the worker's delivery
ticks, committed at the same moment, were once answered "database is locked"."""

from __future__ import annotations

import threading
import time

from appliance.store.db import connect_raw, db
from appliance.store.keystate import AppState


def test_an_agents_note_and_the_workers_delivery_tick_both_land_at_the_same_moment(rt):
    # The worker's connection (another process in real life) writes while the agent's
    # request is between its read and its write
    worker = connect_raw(rt.settings.db_file, rt.keyring.database_key)
    done: list[str] = []

    def worker_writes() -> None:
        worker.execute("INSERT INTO app_state (name, value, updated_at) "
                       "VALUES ('ticks', '1', '2026-11-25 16:13:55')")
        done.append("worker")

    with db.atomic():
        AppState.select().count()  # the request reads first (authorisation, the conversation)
        crossing = threading.Thread(target=worker_writes)
        crossing.start()
        time.sleep(0.3)  # the worker's commit comes in between
        AppState.create(name="note", value="1")  # then writes: no "database is locked"
        done.append("agent")
    crossing.join(timeout=15)
    worker.close()
    # Both land; the worker simply waited for the request's commit
    assert done == ["agent", "worker"]
    assert {row.name for row in AppState.select()} >= {"note", "ticks"}

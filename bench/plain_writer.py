"""The `plain` baseline's inbox writer: Gembok's writer loop on a plain SQLite file.

Same protocol, same multi-row INSERT, same WAL with synchronous=FULL, same Redis
enqueue of the committed ids; no SQLCipher and nothing sealed.

    python bench/plain_writer.py <db-file> <socket> <redis-unix-socket>
"""

from __future__ import annotations

import signal
import sqlite3
import sys
from pathlib import Path

from dramatiq.brokers.redis import RedisBroker

from appliance import tasks
from appliance.store.db import PRAGMAS
from appliance.store.migrations.m0006_forgetful_inbox import STATEMENTS
from appliance.whatsapp.event_writer import IdBatcher, serve


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for name, value in PRAGMAS.items():
        conn.execute(f"PRAGMA {name} = {value}")
    for statement in STATEMENTS:  # the table as the latest migration leaves it
        if statement.startswith("CREATE") and "inbox_event" in statement:
            conn.execute(statement.replace('"inbox_event_new"', '"inbox_event"')
                         .replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS")
                         .replace("CREATE UNIQUE INDEX", "CREATE UNIQUE INDEX IF NOT EXISTS")
                         .replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS"))
    return conn


def main() -> None:
    db_file, sock, redis_sock = sys.argv[1:4]
    tasks.bind(RedisBroker(unix_socket_path=redis_sock))
    stop: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    enqueue = IdBatcher(tasks.process_events.send)
    serve(Path(sock), lambda: connect(db_file), on_commit=enqueue,
          should_stop=lambda: bool(stop))
    enqueue.close()


if __name__ == "__main__":
    main()

"""Raw webhooks keep no body once applied, and a replay is known by its digest; a reveal
names its customer, whose key now seals its reason (older rows: the system key, and
erasure finds them by their target).

SQLite cannot drop NOT NULL from a column, so `inbox_event` is rebuilt. Bodies of events
already applied are dropped on the way (they named customers under the system key, out
of erasure's reach); failed ones stay until the scheduler's purge.
"""

from __future__ import annotations

from peewee import Database

from appliance.store.db import execute

STATEMENTS = [
    'CREATE TABLE "inbox_event_new" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "uid" VARCHAR(32) NOT NULL, "received_at" DATETIME NOT NULL, "body_sealed" BLOB,'
    ' "digest" BLOB, "state" VARCHAR(12) NOT NULL, "attempts" INTEGER NOT NULL,'
    ' "processed_at" DATETIME, "error" VARCHAR(64) NOT NULL)',
    'INSERT INTO "inbox_event_new" ("id", "uid", "received_at", "body_sealed", "digest",'
    ' "state", "attempts", "processed_at", "error") SELECT "id", "uid", "received_at",'
    ' CASE WHEN "state" = \'done\' THEN NULL ELSE "body_sealed" END, NULL, "state",'
    ' "attempts", "processed_at", "error" FROM "inbox_event"',
    'DROP TABLE "inbox_event"',
    'ALTER TABLE "inbox_event_new" RENAME TO "inbox_event"',
    'CREATE UNIQUE INDEX "inbox_event_uid" ON "inbox_event" ("uid")',
    'CREATE UNIQUE INDEX "inbox_event_digest" ON "inbox_event" ("digest")',
    'CREATE INDEX "inbox_event_state" ON "inbox_event" ("state")',
    'ALTER TABLE "reveal" ADD COLUMN "customer_id" INTEGER',
    'CREATE INDEX "reveal_customer_id" ON "reveal" ("customer_id")',
]


def apply(db: Database) -> None:
    for statement in STATEMENTS:
        execute(db, statement)

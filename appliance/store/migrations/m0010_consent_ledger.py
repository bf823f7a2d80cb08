"""Adds the consent ledger: grants, withdrawals and notices shown, per customer and purpose.

Append-only in the database too, as the audit log is: no UPDATE ever, and a DELETE only
of an erased (or vanished) customer's rows, which erasure removes on purpose
(privacy/erasure.py says why).
"""

from __future__ import annotations

from peewee import Database

from appliance.store.db import execute

STATEMENTS = [
    'CREATE TABLE "consent_event" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "customer_id" INTEGER NOT NULL, "purpose" VARCHAR(16) NOT NULL,'
    ' "event" VARCHAR(16) NOT NULL, "source" VARCHAR(32) NOT NULL,'
    ' "proof" VARCHAR(160) NOT NULL, "notice_version" VARCHAR(32) NOT NULL,'
    ' "actor" VARCHAR(64) NOT NULL, "at" DATETIME NOT NULL, "recorded_at" DATETIME NOT NULL,'
    ' FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "consent_event_customer_id" ON "consent_event" ("customer_id")',
    'CREATE TRIGGER "consent_event_no_update" BEFORE UPDATE ON "consent_event"'
    " BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END",
    'CREATE TRIGGER "consent_event_no_delete" BEFORE DELETE ON "consent_event"'
    ' WHEN EXISTS (SELECT 1 FROM "customer" WHERE "id" = OLD."customer_id"'
    ' AND "erased_at" IS NULL)'
    " BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END",
]


def apply(db: Database) -> None:
    for statement in STATEMENTS:
        execute(db, statement)

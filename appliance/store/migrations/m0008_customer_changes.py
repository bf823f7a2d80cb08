"""Adds customer changes: a number changed by staff, with its reason, or waiting to merge."""

from __future__ import annotations

from peewee import Database

from appliance.store.db import execute

STATEMENTS = [
    'CREATE TABLE "customer_change" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "customer_id" INTEGER NOT NULL, "user_id" INTEGER, "field" VARCHAR(16) NOT NULL,'
    ' "state" VARCHAR(16) NOT NULL, "at" DATETIME NOT NULL, "reason_sealed" BLOB,'
    ' "value_sealed" BLOB, "value_index" BLOB, "settled_at" DATETIME,'
    ' FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE CASCADE,'
    ' FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE SET NULL)',
    'CREATE INDEX "customer_change_customer_id" ON "customer_change" ("customer_id")',
    'CREATE INDEX "customer_change_user_id" ON "customer_change" ("user_id")',
    'CREATE INDEX "customer_change_state" ON "customer_change" ("state")',
]


def apply(db: Database) -> None:
    for statement in STATEMENTS:
        execute(db, statement)

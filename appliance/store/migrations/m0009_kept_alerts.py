"""Adds kept alerts: WhatsApp alerts a disconnected number could not carry, sent late."""

from __future__ import annotations

from peewee import Database

from appliance.store.db import execute

STATEMENTS = [
    'CREATE TABLE "kept_alert" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "health_id" INTEGER NOT NULL, "reason" VARCHAR(32) NOT NULL,'
    ' "state" VARCHAR(12) NOT NULL, "kept_at" DATETIME NOT NULL, "sent_at" DATETIME,'
    ' FOREIGN KEY ("health_id") REFERENCES "number_health" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "kept_alert_health_id" ON "kept_alert" ("health_id")',
    'CREATE INDEX "kept_alert_state" ON "kept_alert" ("state")',
]


def apply(db: Database) -> None:
    for statement in STATEMENTS:
        execute(db, statement)

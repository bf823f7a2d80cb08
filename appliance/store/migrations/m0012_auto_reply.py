"""Adds Auto Reply: the ordered rules, and one row per inbound message it handled."""

from __future__ import annotations

from peewee import Database

from appliance.store.db import execute

STATEMENTS = [
    'CREATE TABLE "auto_rule" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "position" INTEGER NOT NULL, "name" VARCHAR(80) NOT NULL, "division_id" INTEGER,'
    ' "stop" INTEGER NOT NULL, "enabled" INTEGER NOT NULL, "triggers" TEXT NOT NULL,'
    ' "actions" TEXT NOT NULL, "updated_at" DATETIME NOT NULL, "updated_by" INTEGER,'
    ' FOREIGN KEY ("division_id") REFERENCES "division" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "auto_rule_position" ON "auto_rule" ("position")',
    'CREATE INDEX "auto_rule_division_id" ON "auto_rule" ("division_id")',
    'CREATE TABLE "auto_reply_log" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "message_id" INTEGER NOT NULL, "conversation_id" INTEGER NOT NULL, "rule_id" INTEGER,'
    ' "outcome" VARCHAR(16) NOT NULL, "replies" INTEGER NOT NULL, "at" DATETIME NOT NULL,'
    ' FOREIGN KEY ("message_id") REFERENCES "message" ("id") ON DELETE CASCADE,'
    ' FOREIGN KEY ("conversation_id") REFERENCES "conversation" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "auto_reply_log_message_id" ON "auto_reply_log" ("message_id")',
    'CREATE INDEX "auto_reply_log_conversation_id" ON "auto_reply_log" ("conversation_id")',
    'CREATE INDEX "auto_reply_log_at" ON "auto_reply_log" ("at")',
]


def apply(db: Database) -> None:
    for statement in STATEMENTS:
        execute(db, statement)

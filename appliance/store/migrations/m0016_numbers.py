"""Adds the business's numbers as records (issue 16): a data dir made before becomes "one
number", number 1, whose ids and secrets still come from the WhatsApp settings; every
conversation and health row so far is number 1's, and each customer's 24-hour window
so far is their window on it, and every campaign is sent from it."""

from __future__ import annotations

from peewee import Database

from appliance.clock import utcnow
from appliance.store.db import execute

STATEMENTS = [
    'CREATE TABLE "wa_number" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "phone_number_id" VARCHAR(32) NOT NULL, "waba_id" VARCHAR(32) NOT NULL,'
    ' "label" VARCHAR(80) NOT NULL, "display_phone_number" VARCHAR(32) NOT NULL,'
    ' "division_id" INTEGER, "access_token_sealed" BLOB, "app_secret_sealed" BLOB,'
    ' "verify_token_sealed" BLOB, "active" INTEGER NOT NULL, "created_at" DATETIME NOT NULL,'
    ' FOREIGN KEY ("division_id") REFERENCES "division" ("id") ON DELETE SET NULL)',
    'CREATE UNIQUE INDEX "wa_number_phone_number_id" ON "wa_number" ("phone_number_id")',
    'CREATE INDEX "wa_number_division_id" ON "wa_number" ("division_id")',
    'CREATE TABLE "customer_window" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "customer_id" INTEGER NOT NULL, "number_id" INTEGER NOT NULL,'
    ' "last_inbound_at" DATETIME NOT NULL,'
    ' FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "customer_window_customer_id" ON "customer_window" ("customer_id")',
    'CREATE UNIQUE INDEX "customer_window_customer_id_number_id" ON "customer_window"'
    ' ("customer_id", "number_id")',
    'ALTER TABLE "conversation" ADD COLUMN "number_id" INTEGER NOT NULL DEFAULT 1',
    'CREATE INDEX "conversation_number_id" ON "conversation" ("number_id")',
    'ALTER TABLE "number_health" ADD COLUMN "number_id" INTEGER NOT NULL DEFAULT 1',
    'CREATE INDEX "number_health_number_id" ON "number_health" ("number_id")',
    'ALTER TABLE "campaign" ADD COLUMN "number_id" INTEGER NOT NULL DEFAULT 1',
    'INSERT INTO "customer_window" ("customer_id", "number_id", "last_inbound_at")'
    ' SELECT "id", 1, "last_inbound_at" FROM "customer" WHERE "last_inbound_at" IS NOT NULL',
]


def apply(db: Database) -> None:
    for statement in STATEMENTS:
        execute(db, statement)
    execute(db, 'INSERT INTO "wa_number" ("id", "phone_number_id", "waba_id", "label",'
                ' "display_phone_number", "active", "created_at")'
                " VALUES (1, '', '', 'Nomor utama', '', 1, ?)", (utcnow(),))

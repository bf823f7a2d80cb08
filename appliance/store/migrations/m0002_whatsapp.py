"""Adds the WhatsApp pipeline: inbox, pending statuses, outbox, media, number health, secrets."""

from __future__ import annotations

from peewee import Database

from appliance.store.db import execute

STATEMENTS = [
    'ALTER TABLE "customer" ADD COLUMN "last_inbound_at" DATETIME',
    'ALTER TABLE "message" ADD COLUMN "payload_sealed" BLOB',
    'ALTER TABLE "message" ADD COLUMN "status_at" DATETIME',
    'ALTER TABLE "message" ADD COLUMN "error_code" INTEGER',
    'ALTER TABLE "message" ADD COLUMN "sent_at" DATETIME',
    'CREATE TABLE "inbox_event" ("id" INTEGER NOT NULL PRIMARY KEY, "uid" VARCHAR(32) NOT NULL,'
    ' "received_at" DATETIME NOT NULL, "body_sealed" BLOB NOT NULL, "state" VARCHAR(12) NOT NULL,'
    ' "attempts" INTEGER NOT NULL, "processed_at" DATETIME, "error" VARCHAR(64) NOT NULL)',
    'CREATE UNIQUE INDEX "inbox_event_uid" ON "inbox_event" ("uid")',
    'CREATE INDEX "inbox_event_state" ON "inbox_event" ("state")',
    'CREATE TABLE "media" ("id" INTEGER NOT NULL PRIMARY KEY, "message_id" INTEGER NOT NULL,'
    ' "wa_media_id" VARCHAR(64) NOT NULL, "mime_type" VARCHAR(100) NOT NULL, "size" INTEGER,'
    ' "sha256" VARCHAR(64) NOT NULL, "content_sealed" BLOB, "state" VARCHAR(12) NOT NULL,'
    ' "error" VARCHAR(64) NOT NULL,'
    ' FOREIGN KEY ("message_id") REFERENCES "message" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "media_message_id" ON "media" ("message_id")',
    'CREATE TABLE "number_health" ("id" INTEGER NOT NULL PRIMARY KEY, "at" DATETIME NOT NULL,'
    ' "source" VARCHAR(16) NOT NULL, "status" VARCHAR(32) NOT NULL,'
    ' "quality" VARCHAR(16) NOT NULL, "messaging_limit" VARCHAR(32) NOT NULL,'
    ' "event" VARCHAR(64) NOT NULL)',
    'CREATE INDEX "number_health_at" ON "number_health" ("at")',
    'CREATE TABLE "outbox" ("id" INTEGER NOT NULL PRIMARY KEY, "message_id" INTEGER NOT NULL,'
    ' "state" VARCHAR(12) NOT NULL, "attempts" INTEGER NOT NULL,'
    ' "next_attempt_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, "error_code" INTEGER,'
    ' FOREIGN KEY ("message_id") REFERENCES "message" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "outbox_message_id" ON "outbox" ("message_id")',
    'CREATE INDEX "outbox_state" ON "outbox" ("state")',
    'CREATE TABLE "pending_status" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "wamid" VARCHAR(128) NOT NULL, "status" VARCHAR(16) NOT NULL, "status_at" DATETIME,'
    ' "error_code" INTEGER, "received_at" DATETIME NOT NULL)',
    'CREATE INDEX "pending_status_wamid" ON "pending_status" ("wamid")',
    'CREATE TABLE "secret_setting" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "name" VARCHAR(64) NOT NULL, "value_sealed" BLOB NOT NULL, "updated_at" DATETIME NOT NULL)',
    'CREATE UNIQUE INDEX "secret_setting_name" ON "secret_setting" ("name")',
]


def apply(db: Database) -> None:
    for statement in STATEMENTS:
        execute(db, statement)

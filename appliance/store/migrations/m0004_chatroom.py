"""Adds the Chatroom: labels, notes, quick replies, read markers, search tokens, change feed."""

from __future__ import annotations

from peewee import Database

from appliance.store.db import execute

STATEMENTS = [
    'ALTER TABLE "conversation" ADD COLUMN "first_response_at" DATETIME',
    'ALTER TABLE "conversation" ADD COLUMN "resolved_at" DATETIME',
    'ALTER TABLE "message" ADD COLUMN "author_id" INTEGER'
    ' REFERENCES "user" ("id") ON DELETE SET NULL',
    'CREATE INDEX "message_author_id" ON "message" ("author_id")',
    'CREATE TABLE "label" ("id" INTEGER NOT NULL PRIMARY KEY, "division_id" INTEGER NOT NULL,'
    ' "name" VARCHAR(40) NOT NULL,'
    ' FOREIGN KEY ("division_id") REFERENCES "division" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "label_division_id" ON "label" ("division_id")',
    'CREATE UNIQUE INDEX "label_division_id_name" ON "label" ("division_id", "name")',
    'CREATE TABLE "conversation_label" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "conversation_id" INTEGER NOT NULL, "label_id" INTEGER NOT NULL,'
    ' FOREIGN KEY ("conversation_id") REFERENCES "conversation" ("id") ON DELETE CASCADE,'
    ' FOREIGN KEY ("label_id") REFERENCES "label" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "conversation_label_conversation_id" ON "conversation_label"'
    ' ("conversation_id")',
    'CREATE INDEX "conversation_label_label_id" ON "conversation_label" ("label_id")',
    'CREATE UNIQUE INDEX "conversation_label_conversation_id_label_id"'
    ' ON "conversation_label" ("conversation_id", "label_id")',
    'CREATE TABLE "note" ("id" INTEGER NOT NULL PRIMARY KEY, "conversation_id" INTEGER NOT NULL,'
    ' "author_id" INTEGER, "body_sealed" BLOB, "created_at" DATETIME NOT NULL,'
    ' FOREIGN KEY ("conversation_id") REFERENCES "conversation" ("id") ON DELETE CASCADE,'
    ' FOREIGN KEY ("author_id") REFERENCES "user" ("id") ON DELETE SET NULL)',
    'CREATE INDEX "note_conversation_id" ON "note" ("conversation_id")',
    'CREATE INDEX "note_author_id" ON "note" ("author_id")',
    'CREATE TABLE "quick_reply" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "division_id" INTEGER NOT NULL, "shortcut" VARCHAR(32) NOT NULL, "body" TEXT NOT NULL,'
    ' FOREIGN KEY ("division_id") REFERENCES "division" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "quick_reply_division_id" ON "quick_reply" ("division_id")',
    'CREATE UNIQUE INDEX "quick_reply_division_id_shortcut"'
    ' ON "quick_reply" ("division_id", "shortcut")',
    'CREATE TABLE "conversation_read" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "user_id" INTEGER NOT NULL, "conversation_id" INTEGER NOT NULL,'
    ' "last_message_id" INTEGER NOT NULL,'
    ' FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE,'
    ' FOREIGN KEY ("conversation_id") REFERENCES "conversation" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "conversation_read_user_id" ON "conversation_read" ("user_id")',
    'CREATE INDEX "conversation_read_conversation_id" ON "conversation_read"'
    ' ("conversation_id")',
    'CREATE UNIQUE INDEX "conversation_read_user_id_conversation_id"'
    ' ON "conversation_read" ("user_id", "conversation_id")',
    'CREATE TABLE "customer_token" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "customer_id" INTEGER NOT NULL, "token" BLOB NOT NULL,'
    ' FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "customer_token_customer_id" ON "customer_token" ("customer_id")',
    'CREATE INDEX "customer_token_token" ON "customer_token" ("token")',
    'CREATE TABLE "change_event" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "conversation_id" INTEGER NOT NULL, "kind" VARCHAR(16) NOT NULL, "at" DATETIME NOT NULL,'
    ' FOREIGN KEY ("conversation_id") REFERENCES "conversation" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "change_event_conversation_id" ON "change_event" ("conversation_id")',
]


def apply(db: Database) -> None:
    for statement in STATEMENTS:
        execute(db, statement)

"""Creates the first tables. Frozen: later changes go in new migrations, never here."""

from __future__ import annotations

from peewee import Database

from appliance.store.db import execute

STATEMENTS = [
    'CREATE TABLE "division" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(80) NOT NULL,'
    ' "retention_days" INTEGER, "created_at" DATETIME NOT NULL)',
    'CREATE UNIQUE INDEX "division_name" ON "division" ("name")',
    'CREATE TABLE "user" ("id" INTEGER NOT NULL PRIMARY KEY, "username" VARCHAR(64) NOT NULL,'
    ' "display_name" VARCHAR(120) NOT NULL, "email" VARCHAR(254), "role" VARCHAR(16) NOT NULL,'
    ' "password_hash" TEXT NOT NULL, "must_change_password" INTEGER NOT NULL,'
    ' "is_active" INTEGER NOT NULL, "created_at" DATETIME NOT NULL,'
    ' "password_changed_at" DATETIME)',
    'CREATE UNIQUE INDEX "user_username" ON "user" ("username")',
    'CREATE TABLE "user_division" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "user_id" INTEGER NOT NULL, "division_id" INTEGER NOT NULL,'
    ' FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE,'
    ' FOREIGN KEY ("division_id") REFERENCES "division" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "user_division_user_id" ON "user_division" ("user_id")',
    'CREATE INDEX "user_division_division_id" ON "user_division" ("division_id")',
    'CREATE UNIQUE INDEX "user_division_user_id_division_id"'
    ' ON "user_division" ("user_id", "division_id")',
    'CREATE TABLE "customer" ("id" INTEGER NOT NULL PRIMARY KEY, "name_sealed" BLOB,'
    ' "phone_sealed" BLOB, "phone_index" BLOB, "wa_user_sealed" BLOB, "wa_user_index" BLOB,'
    ' "created_at" DATETIME NOT NULL, "erased_at" DATETIME)',
    'CREATE UNIQUE INDEX "customer_phone_index" ON "customer" ("phone_index")',
    'CREATE UNIQUE INDEX "customer_wa_user_index" ON "customer" ("wa_user_index")',
    'CREATE TABLE "customer_key" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "customer_id" INTEGER NOT NULL, "version" INTEGER NOT NULL,'
    ' "master_id" VARCHAR(16) NOT NULL, "wrapped" BLOB NOT NULL, "created_at" DATETIME NOT NULL,'
    ' FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "customer_key_customer_id" ON "customer_key" ("customer_id")',
    'CREATE UNIQUE INDEX "customer_key_customer_id_version"'
    ' ON "customer_key" ("customer_id", "version")',
    'CREATE TABLE "conversation" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "customer_id" INTEGER NOT NULL, "division_id" INTEGER, "assignee_id" INTEGER,'
    ' "status" VARCHAR(16) NOT NULL, "created_at" DATETIME NOT NULL,'
    ' "last_message_at" DATETIME NOT NULL,'
    ' FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE CASCADE,'
    ' FOREIGN KEY ("division_id") REFERENCES "division" ("id") ON DELETE SET NULL,'
    ' FOREIGN KEY ("assignee_id") REFERENCES "user" ("id") ON DELETE SET NULL)',
    'CREATE INDEX "conversation_customer_id" ON "conversation" ("customer_id")',
    'CREATE INDEX "conversation_division_id" ON "conversation" ("division_id")',
    'CREATE INDEX "conversation_assignee_id" ON "conversation" ("assignee_id")',
    'CREATE INDEX "conversation_last_message_at" ON "conversation" ("last_message_at")',
    'CREATE TABLE "message" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "conversation_id" INTEGER NOT NULL, "direction" VARCHAR(3) NOT NULL,'
    ' "wamid" VARCHAR(128), "kind" VARCHAR(24) NOT NULL, "body_sealed" BLOB,'
    ' "status" VARCHAR(16) NOT NULL, "created_at" DATETIME NOT NULL,'
    ' FOREIGN KEY ("conversation_id") REFERENCES "conversation" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "message_conversation_id" ON "message" ("conversation_id")',
    'CREATE UNIQUE INDEX "message_wamid" ON "message" ("wamid")',
    'CREATE INDEX "message_created_at" ON "message" ("created_at")',
    'CREATE TABLE "audit_entry" ("seq" INTEGER NOT NULL PRIMARY KEY,'
    ' "at" VARCHAR(32) NOT NULL, "actor" VARCHAR(64) NOT NULL, "action" VARCHAR(64) NOT NULL,'
    ' "target" VARCHAR(64) NOT NULL, "detail" TEXT NOT NULL, "prev_hash" VARCHAR(64) NOT NULL,'
    ' "entry_hash" VARCHAR(64) NOT NULL, "mac" VARCHAR(64) NOT NULL)',
    'CREATE INDEX "audit_entry_action" ON "audit_entry" ("action")',
    'CREATE INDEX "audit_entry_target" ON "audit_entry" ("target")',
    # Append-only in the database too: a bug cannot edit history. (Someone holding the
    # database key can drop these; the hash chain and the checkpoint catch that.)
    'CREATE TRIGGER "audit_entry_no_update" BEFORE UPDATE ON "audit_entry"'
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    'CREATE TRIGGER "audit_entry_no_delete" BEFORE DELETE ON "audit_entry"'
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
]


def apply(db: Database) -> None:
    for statement in STATEMENTS:
        execute(db, statement)

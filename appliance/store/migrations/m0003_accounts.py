"""Adds staff sign-in: second factor, sessions, known devices, throttles, login events, reveals."""

from __future__ import annotations

from peewee import Database

from appliance.store.db import execute

STATEMENTS = [
    """ALTER TABLE "user" ADD COLUMN "extra_permissions" VARCHAR(200) NOT NULL DEFAULT ''""",
    'ALTER TABLE "user" ADD COLUMN "totp_secret_sealed" BLOB',
    'ALTER TABLE "user" ADD COLUMN "totp_enabled" INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE "user" ADD COLUMN "totp_last_step" INTEGER NOT NULL DEFAULT 0',
    """ALTER TABLE "user" ADD COLUMN "language" VARCHAR(8) NOT NULL DEFAULT 'id'""",
    'CREATE TABLE "recovery_code" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "user_id" INTEGER NOT NULL, "code_hash" VARCHAR(64) NOT NULL, "used_at" DATETIME,'
    ' FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "recovery_code_user_id" ON "recovery_code" ("user_id")',
    'CREATE TABLE "user_session" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "user_id" INTEGER NOT NULL, "token_hash" VARCHAR(64) NOT NULL,'
    ' "created_at" DATETIME NOT NULL, "last_seen_at" DATETIME NOT NULL,'
    ' "expires_at" DATETIME NOT NULL, "ip" VARCHAR(64) NOT NULL,'
    ' "user_agent" VARCHAR(200) NOT NULL, "second_factor_done" INTEGER NOT NULL,'
    ' "revoked_at" DATETIME, "revoked_reason" VARCHAR(32) NOT NULL,'
    ' FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "user_session_user_id" ON "user_session" ("user_id")',
    'CREATE UNIQUE INDEX "user_session_token_hash" ON "user_session" ("token_hash")',
    'CREATE TABLE "known_device" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "user_id" INTEGER NOT NULL, "device_hash" VARCHAR(64) NOT NULL,'
    ' "created_at" DATETIME NOT NULL, "last_seen_at" DATETIME NOT NULL,'
    ' FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "known_device_user_id" ON "known_device" ("user_id")',
    'CREATE UNIQUE INDEX "known_device_user_id_device_hash"'
    ' ON "known_device" ("user_id", "device_hash")',
    'CREATE TABLE "login_throttle" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "key" VARCHAR(80) NOT NULL, "failures" INTEGER NOT NULL,'
    ' "last_failure_at" DATETIME NOT NULL, "blocked_until" DATETIME)',
    'CREATE UNIQUE INDEX "login_throttle_key" ON "login_throttle" ("key")',
    'CREATE TABLE "login_event" ("id" INTEGER NOT NULL PRIMARY KEY, "user_id" INTEGER,'
    ' "at" DATETIME NOT NULL, "ip" VARCHAR(64) NOT NULL, "user_agent" VARCHAR(200) NOT NULL,'
    ' "outcome" VARCHAR(24) NOT NULL, "new_device" INTEGER NOT NULL,'
    ' FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "login_event_user_id" ON "login_event" ("user_id")',
    'CREATE INDEX "login_event_at" ON "login_event" ("at")',
    'CREATE TABLE "reveal" ("id" INTEGER NOT NULL PRIMARY KEY, "user_id" INTEGER NOT NULL,'
    ' "target" VARCHAR(64) NOT NULL, "at" DATETIME NOT NULL, "reason_sealed" BLOB NOT NULL,'
    ' FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "reveal_user_id" ON "reveal" ("user_id")',
]


def apply(db: Database) -> None:
    for statement in STATEMENTS:
        execute(db, statement)

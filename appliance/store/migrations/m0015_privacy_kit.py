"""Adds the DPO's tables (UU PDP): data-subject requests with their deadlines, legal holds
and recorded breaches."""

from __future__ import annotations

from peewee import Database

from appliance.store.db import execute

STATEMENTS = [
    'CREATE TABLE "privacy_request" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "customer_id" INTEGER NOT NULL, "kind" VARCHAR(16) NOT NULL,'
    ' "channel" VARCHAR(12) NOT NULL, "received_at" DATETIME NOT NULL,'
    ' "due_at" DATETIME NOT NULL, "state" VARCHAR(10) NOT NULL,'
    ' "recorded_by" VARCHAR(64) NOT NULL, "reminded_at" DATETIME, "done_at" DATETIME,'
    ' "done_by" VARCHAR(64) NOT NULL, "outcome" VARCHAR(32) NOT NULL,'
    ' "answer" VARCHAR(16) NOT NULL, "answer_outbox" VARCHAR(16) NOT NULL,'
    ' FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "privacy_request_customer_id" ON "privacy_request" ("customer_id")',
    'CREATE INDEX "privacy_request_due_at" ON "privacy_request" ("due_at")',
    'CREATE INDEX "privacy_request_state" ON "privacy_request" ("state")',
    'CREATE TABLE "legal_hold" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "customer_id" INTEGER NOT NULL, "reason_sealed" BLOB,'
    ' "set_by" VARCHAR(64) NOT NULL, "set_at" DATETIME NOT NULL,'
    ' "released_at" DATETIME, "released_by" VARCHAR(64) NOT NULL,'
    ' FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "legal_hold_customer_id" ON "legal_hold" ("customer_id")',
    'CREATE INDEX "legal_hold_released_at" ON "legal_hold" ("released_at")',
    'CREATE TABLE "breach" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "recorded_at" DATETIME NOT NULL, "recorded_by" VARCHAR(64) NOT NULL,'
    ' "starts_at" DATETIME NOT NULL, "ends_at" DATETIME NOT NULL,'
    ' "accounts" TEXT NOT NULL, "addresses" TEXT NOT NULL, "description_sealed" BLOB,'
    ' "due_at" DATETIME NOT NULL, "state" VARCHAR(10) NOT NULL, "notified_at" DATETIME)',
]


def apply(db: Database) -> None:
    for statement in STATEMENTS:
        execute(db, statement)

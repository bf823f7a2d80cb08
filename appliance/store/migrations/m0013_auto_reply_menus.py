"""Adds what Auto Reply says beyond its rules: the privacy notice's versions, the menu's
state per conversation, its settings, the label of what it sent, where it routed, and
which of Meta's opt-out signals it confirmed to the customer."""

from __future__ import annotations

from peewee import Database

from appliance.store.db import execute

STATEMENTS = [
    'ALTER TABLE "auto_reply_log" ADD COLUMN "routed_to" INTEGER',
    'ALTER TABLE "auto_reply_log" ADD COLUMN "waited_at" DATETIME',
    # a worker asks for the rule book's latest change before each batch: an index, not a scan
    'CREATE INDEX "auto_rule_updated_at" ON "auto_rule" ("updated_at")',
    'CREATE TABLE "auto_sent" ("message_id" INTEGER NOT NULL PRIMARY KEY,'
    ' "rule_id" INTEGER, "label" VARCHAR(80) NOT NULL,'
    ' FOREIGN KEY ("message_id") REFERENCES "message" ("id") ON DELETE CASCADE)',
    'CREATE TABLE "menu_state" ("conversation_id" INTEGER NOT NULL PRIMARY KEY,'
    ' "sent_at" DATETIME NOT NULL, "page" INTEGER NOT NULL, "resent" INTEGER NOT NULL,'
    ' "closed_at" DATETIME, "outcome" VARCHAR(16) NOT NULL,'
    ' FOREIGN KEY ("conversation_id") REFERENCES "conversation" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "menu_state_sent_at" ON "menu_state" ("sent_at")',
    'CREATE TABLE "consent_confirmed" ("event_id" INTEGER NOT NULL PRIMARY KEY,'
    ' "at" DATETIME NOT NULL,'
    ' FOREIGN KEY ("event_id") REFERENCES "consent_event" ("id") ON DELETE CASCADE)',
    'CREATE TABLE "automation_setting" ("name" VARCHAR(32) NOT NULL PRIMARY KEY,'
    ' "value" TEXT NOT NULL, "updated_at" DATETIME NOT NULL, "updated_by" INTEGER)',
    'CREATE TABLE "privacy_notice" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "version" VARCHAR(32) NOT NULL, "summary_id" TEXT NOT NULL, "summary_en" TEXT NOT NULL,'
    ' "full_id" TEXT NOT NULL, "full_en" TEXT NOT NULL, "published_at" DATETIME NOT NULL,'
    ' "published_by" VARCHAR(64) NOT NULL)',
    'CREATE UNIQUE INDEX "privacy_notice_version" ON "privacy_notice" ("version")',
    # A published notice is what customers were shown: it is never rewritten or removed.
    'CREATE TRIGGER "privacy_notice_kept" BEFORE UPDATE ON "privacy_notice"'
    " BEGIN SELECT RAISE(ABORT, 'a published privacy notice is never changed'); END",
    'CREATE TRIGGER "privacy_notice_not_deleted" BEFORE DELETE ON "privacy_notice"'
    " BEGIN SELECT RAISE(ABORT, 'a published privacy notice is never deleted'); END",
]


def apply(db: Database) -> None:
    for statement in STATEMENTS:
        execute(db, statement)

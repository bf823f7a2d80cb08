"""Adds Broadcast: the WABA's templates as Meta last told us, campaigns, one row per
recipient (the unit of "exactly once"), and the rate table of what a message costs.

A recipient row is unique per (campaign, customer): the database itself refuses a second
message of one campaign to one person, whatever a worker, a retry or a restart does.
"""

from __future__ import annotations

from peewee import Database

from appliance.store.db import execute

STATEMENTS = [
    'CREATE TABLE "wa_template" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "meta_id" VARCHAR(32) NOT NULL, "name" VARCHAR(512) NOT NULL,'
    ' "language" VARCHAR(16) NOT NULL, "category" VARCHAR(16) NOT NULL,'
    ' "previous_category" VARCHAR(16) NOT NULL, "status" VARCHAR(24) NOT NULL,'
    ' "reason" VARCHAR(64) NOT NULL, "components" TEXT NOT NULL,'
    ' "parameter_format" VARCHAR(12) NOT NULL, "synced_at" DATETIME NOT NULL,'
    ' "updated_at" DATETIME NOT NULL)',
    'CREATE UNIQUE INDEX "wa_template_name_language" ON "wa_template" ("name", "language")',
    'CREATE INDEX "wa_template_meta_id" ON "wa_template" ("meta_id")',
    'CREATE TABLE "campaign" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "name" VARCHAR(80) NOT NULL, "template_id" INTEGER NOT NULL,'
    ' "division_id" INTEGER, "created_by" VARCHAR(64) NOT NULL,'
    ' "created_at" DATETIME NOT NULL, "state" VARCHAR(12) NOT NULL,'
    ' "start_at" DATETIME, "quiet_start" VARCHAR(5) NOT NULL, "quiet_end" VARCHAR(5) NOT NULL,'
    ' "parameters" TEXT NOT NULL, "audience" TEXT NOT NULL,'
    ' "note" VARCHAR(200) NOT NULL, "runner" VARCHAR(32) NOT NULL, "lease_until" DATETIME,'
    ' "started_at" DATETIME, "finished_at" DATETIME, "updated_at" DATETIME NOT NULL,'
    ' FOREIGN KEY ("template_id") REFERENCES "wa_template" ("id"),'
    ' FOREIGN KEY ("division_id") REFERENCES "division" ("id") ON DELETE SET NULL)',
    'CREATE INDEX "campaign_state" ON "campaign" ("state")',
    'CREATE INDEX "campaign_template_id" ON "campaign" ("template_id")',
    'CREATE INDEX "campaign_division_id" ON "campaign" ("division_id")',
    'CREATE TABLE "campaign_recipient" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "campaign_id" INTEGER NOT NULL, "customer_id" INTEGER NOT NULL,'
    ' "state" VARCHAR(10) NOT NULL, "reason" VARCHAR(32) NOT NULL,'
    ' "values_sealed" BLOB, "wamid" VARCHAR(128), "api" VARCHAR(20) NOT NULL,'
    ' "error_code" INTEGER, "attempts" INTEGER NOT NULL, "capped_times" INTEGER NOT NULL,'
    ' "in_doubt" INTEGER NOT NULL,'
    ' "next_at" DATETIME NOT NULL, "sent_at" DATETIME, "delivered_at" DATETIME,'
    ' "read_at" DATETIME, "failed_at" DATETIME, "replied_at" DATETIME,'
    ' "updated_at" DATETIME NOT NULL,'
    ' FOREIGN KEY ("campaign_id") REFERENCES "campaign" ("id") ON DELETE CASCADE,'
    ' FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE CASCADE)',
    # one message of a campaign per person, whatever a worker or a retry does
    'CREATE UNIQUE INDEX "campaign_recipient_campaign_id_customer_id" ON "campaign_recipient"'
    ' ("campaign_id", "customer_id")',
    'CREATE INDEX "campaign_recipient_campaign_id_state_next_at" ON "campaign_recipient"'
    ' ("campaign_id", "state", "next_at")',
    'CREATE INDEX "campaign_recipient_customer_id" ON "campaign_recipient" ("customer_id")',
    'CREATE UNIQUE INDEX "campaign_recipient_wamid" ON "campaign_recipient" ("wamid")',
    'CREATE TABLE "message_rate" ("category" VARCHAR(16) NOT NULL PRIMARY KEY,'
    ' "currency" VARCHAR(3) NOT NULL, "price" VARCHAR(24) NOT NULL,'
    ' "updated_at" DATETIME NOT NULL, "updated_by" VARCHAR(64) NOT NULL)',
]


def apply(db: Database) -> None:
    for statement in STATEMENTS:
        execute(db, statement)

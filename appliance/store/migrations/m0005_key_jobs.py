"""Adds key management state: the current master key's id, and resumable key jobs."""

from __future__ import annotations

from peewee import Database

from appliance.store.db import execute

STATEMENTS = [
    'CREATE TABLE "app_state" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(64) NOT NULL,'
    ' "value" TEXT NOT NULL, "updated_at" DATETIME NOT NULL)',
    'CREATE UNIQUE INDEX "app_state_name" ON "app_state" ("name")',
    'CREATE TABLE "key_job" ("id" INTEGER NOT NULL PRIMARY KEY, "kind" VARCHAR(32) NOT NULL,'
    ' "state" VARCHAR(16) NOT NULL, "step" VARCHAR(32) NOT NULL, "cursor" INTEGER NOT NULL,'
    ' "rows_done" INTEGER NOT NULL, "rows_total" INTEGER NOT NULL,'
    ' "started_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, "finished_at" DATETIME)',
]


def apply(db: Database) -> None:
    for statement in STATEMENTS:
        execute(db, statement)

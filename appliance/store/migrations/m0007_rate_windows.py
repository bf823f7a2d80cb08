"""Adds per-user rate windows (searches: a number cannot be completed by trying)."""

from __future__ import annotations

from peewee import Database

from appliance.store.db import execute

STATEMENTS = [
    'CREATE TABLE "rate_window" ("id" INTEGER NOT NULL PRIMARY KEY, "key" VARCHAR(80) NOT NULL,'
    ' "window_start" DATETIME NOT NULL, "count" INTEGER NOT NULL)',
    'CREATE UNIQUE INDEX "rate_window_key" ON "rate_window" ("key")',
]


def apply(db: Database) -> None:
    for statement in STATEMENTS:
        execute(db, statement)

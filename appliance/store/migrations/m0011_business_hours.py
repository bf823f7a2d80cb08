"""Adds business hours: a schedule per division (or the global default), periods, own days."""

from __future__ import annotations

from peewee import Database

from appliance.store.db import execute

STATEMENTS = [
    'CREATE TABLE "hours_schedule" ("id" INTEGER NOT NULL PRIMARY KEY, "division_id" INTEGER,'
    ' "time_zone" VARCHAR(40) NOT NULL, "holidays_close" INTEGER NOT NULL,'
    ' "away_message_id" TEXT NOT NULL, "away_message_en" TEXT NOT NULL,'
    ' "updated_at" DATETIME NOT NULL,'
    ' FOREIGN KEY ("division_id") REFERENCES "division" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "hours_schedule_division_id" ON "hours_schedule" ("division_id")',
    'CREATE TABLE "hours_period" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "schedule_id" INTEGER NOT NULL, "weekday" INTEGER NOT NULL, "opens" INTEGER NOT NULL,'
    ' "closes" INTEGER NOT NULL,'
    ' FOREIGN KEY ("schedule_id") REFERENCES "hours_schedule" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "hours_period_schedule_id" ON "hours_period" ("schedule_id")',
    'CREATE TABLE "hours_day" ("id" INTEGER NOT NULL PRIMARY KEY, "division_id" INTEGER,'
    ' "day" DATE NOT NULL, "kind" VARCHAR(8) NOT NULL, "label" VARCHAR(120) NOT NULL,'
    ' "opens" INTEGER, "closes" INTEGER,'
    ' FOREIGN KEY ("division_id") REFERENCES "division" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "hours_day_division_id_day" ON "hours_day" ("division_id", "day")',
]


def apply(db: Database) -> None:
    for statement in STATEMENTS:
        execute(db, statement)

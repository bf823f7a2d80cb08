"""Gives each template its WhatsApp Business Account (issue 16): two brands' WABAs may
each hold an `order_update` in `id`, with their own words and status, so a template is
one (WABA, name, language), not one (name, language) per box.

The rows so far are number 1's account's, but the migration cannot know its id (it may
be in the config file, not the database): they keep `waba_id = ''` until the first sync
or template webhook of number 1's account takes them (`template_book.adopt`), so a past
campaign keeps its template row. The business portfolio of each number (whose messaging
limit it shares) starts empty: every number in number 1's, as every box had until now.
"""

from __future__ import annotations

from peewee import Database

from appliance.store.db import execute

STATEMENTS = [
    'ALTER TABLE "wa_template" ADD COLUMN "waba_id" VARCHAR(32) NOT NULL DEFAULT \'\'',
    'DROP INDEX "wa_template_name_language"',
    'CREATE UNIQUE INDEX "wa_template_waba_id_name_language" ON "wa_template"'
    ' ("waba_id", "name", "language")',
    'ALTER TABLE "wa_number" ADD COLUMN "portfolio" VARCHAR(32) NOT NULL DEFAULT \'\'',
]


def apply(db: Database) -> None:
    for statement in STATEMENTS:
        execute(db, statement)

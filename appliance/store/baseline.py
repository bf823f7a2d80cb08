"""Provides the PostgreSQL store's first schema: the tables as the models declare them,
the guards SQLite's migrations put in triggers, and the rows those migrations seed.

SQLite's migrations and this baseline give the same tables, columns and indexes
(tests/integration/test_postgres_store.py compares them). The guards are what
the models cannot say: the audit chain and published privacy notices are never changed
or deleted, and the consent ledger is append-only until its customer is erased. They
refuse with SQLSTATE 23000, an integrity error as SQLite's RAISE(ABORT) is.
"""

from __future__ import annotations

from peewee import Database

from appliance.clock import utcnow
from appliance.store.db import execute
from appliance.store.schema import ALL_MODELS

GUARDS = [
    "CREATE FUNCTION gembok_refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN RAISE EXCEPTION USING MESSAGE = TG_ARGV[0], ERRCODE = 'integrity_constraint_violation';"
    " END $$",
    "CREATE FUNCTION gembok_consent_kept() RETURNS trigger LANGUAGE plpgsql AS $$"
    ' BEGIN IF EXISTS (SELECT 1 FROM "customer" WHERE "id" = OLD."customer_id"'
    ' AND "erased_at" IS NULL) THEN'
    " RAISE EXCEPTION USING MESSAGE = 'the consent ledger is append-only',"
    " ERRCODE = 'integrity_constraint_violation'; END IF; RETURN OLD; END $$",
    'CREATE TRIGGER "audit_entry_no_update" BEFORE UPDATE ON "audit_entry" FOR EACH ROW'
    " EXECUTE FUNCTION gembok_refuse('the audit log is append-only')",
    'CREATE TRIGGER "audit_entry_no_delete" BEFORE DELETE ON "audit_entry" FOR EACH ROW'
    " EXECUTE FUNCTION gembok_refuse('the audit log is append-only')",
    'CREATE TRIGGER "consent_event_no_update" BEFORE UPDATE ON "consent_event" FOR EACH ROW'
    " EXECUTE FUNCTION gembok_refuse('the consent ledger is append-only')",
    'CREATE TRIGGER "consent_event_no_delete" BEFORE DELETE ON "consent_event" FOR EACH ROW'
    " EXECUTE FUNCTION gembok_consent_kept()",
    'CREATE TRIGGER "privacy_notice_kept" BEFORE UPDATE ON "privacy_notice" FOR EACH ROW'
    " EXECUTE FUNCTION gembok_refuse('a published privacy notice is never changed')",
    'CREATE TRIGGER "privacy_notice_not_deleted" BEFORE DELETE ON "privacy_notice"'
    " FOR EACH ROW EXECUTE FUNCTION gembok_refuse('a published privacy notice is never"
    " deleted')",
]


def create(db: Database) -> None:
    """Tables, guards and seed rows, in the caller's transaction."""
    db.create_tables(ALL_MODELS, safe=False)
    for statement in GUARDS:
        execute(db, statement)
    execute(db, 'INSERT INTO "wa_number" ("id", "phone_number_id", "waba_id", "portfolio",'
                ' "label", "display_phone_number", "active", "created_at")'
                " VALUES (1, '', '', '', 'Nomor utama', '', TRUE, ?)", (utcnow(),))
    execute(db, "SELECT setval(pg_get_serial_sequence('wa_number', 'id'), 1)")

"""Customer data is unreadable on disk: the file, its WAL, and every field inside."""

from __future__ import annotations

import base64
import sqlite3

import pytest
from peewee import IntegrityError

from appliance.inbox.customers import find_by_phone, read_customer
from appliance.inbox.messages import read_conversation
from appliance.keys.customer_keys import CustomerKeysGone, shred_customer_keys
from appliance.store import migrations
from appliance.store.db import db, execute, open_database
from appliance.store.models import AuditEntry, Conversation, Customer, Message
from appliance.store.schema import ALL_MODELS
from tests.conftest import BOTH_ENGINES, files_under
from tests.factories import make_customer, make_inbound

pytestmark = BOTH_ENGINES


def the_file_only(engine: str) -> None:
    if engine == "postgres":
        pytest.skip("about the SQLCipher file; a PostgreSQL volume's encryption is the "
                    "operator's (README, PostgreSQL)")

CANARY_NAME = "Kanari Wulandari Zzyzx"
CANARY_PHONE = "+62 811-9876-5432"
CANARY_E164 = "+6281198765432"
CANARY_BODY = "NIK saya 3174051234567890, alamat Jl. Kanari Zzyzx No. 7"


def encodings(secret: str) -> dict[str, bytes]:
    """The forms a leaked value could take in a file: clear, hex, base64 at every alignment."""
    raw = secret.encode()
    forms = {"utf-8": raw, "utf-16": secret.encode("utf-16-le"),
             "hex": raw.hex().encode(), "HEX": raw.hex().upper().encode()}
    for shift in range(3):
        chunk = base64.b64encode(b"\0" * shift + raw)[4:-4]  # drop the edges touched by padding
        forms[f"base64+{shift}"] = chunk
    return forms


def test_plain_sqlite_cannot_read_the_database(rt, settings, engine):
    the_file_only(engine)
    make_customer(rt, name=CANARY_NAME)
    with pytest.raises(sqlite3.DatabaseError, match="file is not a database"):
        sqlite3.connect(settings.db_file).execute("SELECT * FROM sqlite_master").fetchall()


def test_canary_customer_data_appears_in_no_file_under_the_data_dir(rt, settings, engine,
                                                                     request):
    # Given a customer and a message written and read back through the services
    customer_id = make_customer(rt, name=CANARY_NAME, phone=CANARY_PHONE,
                                wa_user_id="ID.1234567890zzyzx")
    make_inbound(rt, customer_id, body=CANARY_BODY)
    assert read_customer(rt, customer_id, actor="user:1").name == CANARY_NAME
    convo = Conversation.get(Conversation.customer == customer_id)
    assert read_conversation(rt, convo.id, actor="user:1")[0].body == CANARY_BODY
    # When the files are looked at while open (WAL present) and after close
    # (on PostgreSQL: and every file of the server's own, its WAL and tables, checkpointed)
    server = request.getfixturevalue("pg_server") if engine == "postgres" else None
    for moment in ("open", "closed"):
        if moment == "closed":
            db.close()
        files = files_under(settings.data_dir)
        if server is None:
            assert any(p.name.endswith("-wal") for p in files) or moment == "closed"
        else:
            server.psql("postgres", "CHECKPOINT")
            files += files_under(server.data)
            assert any("pg_wal" in p.parts for p in files)
        # Then no canary shows in any encoding
        for path in files:
            try:
                content = path.read_bytes()
            except FileNotFoundError:  # the server replaced one of its own files meanwhile
                continue
            for secret in (CANARY_NAME, CANARY_E164, "6281198765432", CANARY_BODY,
                           "3174051234567890", "ID.1234567890zzyzx"):
                for form, needle in encodings(secret).items():
                    assert needle not in content, f"{secret!r} found as {form} in {path}"


def test_fields_are_sealed_even_inside_the_decrypted_database(rt):
    customer_id = make_customer(rt, name=CANARY_NAME, phone=CANARY_PHONE)
    message_id = make_inbound(rt, customer_id, body=CANARY_BODY)
    row = execute(db, "SELECT name_sealed, phone_sealed, phone_index FROM customer "
                      "WHERE id = ?", (customer_id,)).fetchone()
    body = execute(db, "SELECT body_sealed FROM message WHERE id = ?", (message_id,)).fetchone()
    for cell in (*row, body[0]):
        assert CANARY_NAME.encode() not in cell and b"6281198765432" not in cell
        assert CANARY_BODY.encode()[:20] not in cell


def test_a_customer_is_found_by_phone_however_it_is_typed(rt):
    customer_id = make_customer(rt, phone=CANARY_PHONE)
    assert find_by_phone(rt, "0811 9876 5432") == customer_id
    assert find_by_phone(rt, "+62 811 0000 0000") is None


def test_the_same_phone_cannot_become_two_customers(rt):
    make_customer(rt, phone=CANARY_PHONE)
    with pytest.raises(IntegrityError):
        make_customer(rt, name="Someone Else", phone="0811-9876-5432")


def test_a_sealed_field_copied_onto_another_customer_does_not_open(rt):
    first = make_customer(rt, name="Ani", phone="+62 812 1111 2222")
    second = make_customer(rt, name="Budi", phone="+62 812 3333 4444")
    stolen = Customer.get_by_id(first).name_sealed
    Customer.update(name_sealed=stolen).where(Customer.id == second).execute()
    with pytest.raises(Exception, match="cannot be opened"):
        read_customer(rt, second, actor="user:1")


def test_shredding_a_customers_keys_makes_their_data_unreadable(rt):
    customer_id = make_customer(rt, name=CANARY_NAME)
    make_inbound(rt, customer_id, body=CANARY_BODY)
    shred_customer_keys(customer_id)
    with pytest.raises(CustomerKeysGone):
        read_customer(rt, customer_id, actor="user:1")
    assert Message.select().count() == 1  # the ciphertext stays, and stays unreadable


def test_reads_are_audited_with_ids_only(rt):
    customer_id = make_customer(rt, name=CANARY_NAME)
    read_customer(rt, customer_id, actor="user:7")
    entry = AuditEntry.select().order_by(AuditEntry.seq.desc()).get()
    assert (entry.actor, entry.action, entry.target) == ("user:7", "customer.read",
                                                          f"customer:{customer_id}")


def test_writes_are_durable_wal_with_synchronous_full(rt, engine):
    the_file_only(engine)
    assert execute(db, "PRAGMA journal_mode").fetchone()[0] == "wal"
    assert execute(db, "PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert execute(db, "PRAGMA foreign_keys").fetchone()[0] == 1
    assert execute(db, "PRAGMA secure_delete").fetchone()[0] == 1


def test_a_wrong_database_key_is_one_clear_error(rt, settings, engine):
    the_file_only(engine)
    db.close()
    with pytest.raises(Exception, match="does not open with the key from the keyring"):
        open_database(settings.db_file, bytes(32))


def schema(database, *, types: bool = True) -> dict:
    """Tables, columns, indexes and foreign keys; without `types` what both engines must
    agree on (column types are each engine's own, and so are the primary keys' indexes)."""
    tables = {}
    for table in sorted(t for t in database.get_tables() if t != "schema_version"):
        columns = sorted((c.name, c.data_type.upper() if types else "", c.null, c.primary_key)
                         for c in database.get_columns(table))  # ALTER appends at the end
        indexes = sorted((i.name, tuple(i.columns), i.unique)
                         for i in database.get_indexes(table)
                         if types or (not i.name.endswith("_pkey")
                         and not i.name.startswith("sqlite_autoindex")))
        fks = sorted((f.column, f.dest_table, f.dest_column)
                     for f in database.get_foreign_keys(table))
        tables[table] = (columns, indexes, fks)
    return tables


def test_migrations_build_exactly_the_schema_the_models_declare(tmp_path):
    open_database(tmp_path / "migrated.db", bytes(range(32)))
    assert migrations.migrate(db) == list(range(1, migrations.latest_version() + 1))
    assert migrations.migrate(db) == []  # a second run applies nothing
    migrated = schema(db)
    open_database(tmp_path / "declared.db", bytes(range(32)))
    db.create_tables(ALL_MODELS)
    declared = schema(db)
    db.close()
    assert migrated == declared


def test_the_audit_log_refuses_updates_and_deletes_in_the_database(rt):
    with pytest.raises(IntegrityError, match="append-only"):
        AuditEntry.update(actor="user:99").execute()
    with pytest.raises(IntegrityError, match="append-only"):
        AuditEntry.delete().execute()

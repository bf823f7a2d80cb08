"""A business whose DBAs run PostgreSQL keeps Gembok's store there: the same tables, the
same guarantees (writers take turns, ids never collide, an erased customer's key is gone
from the files), and a connection that never crosses a network in the clear.

The shared story tests (ingest, access, erasure, the audit chain, the consent ledger)
run on both engines through `BOTH_ENGINES`; these are what only PostgreSQL needs."""

from __future__ import annotations

import gc
import threading
import time

import psycopg
import pytest

from appliance import recovery
from appliance.auth.permissions import BOX_ADMIN
from appliance.bootstrap import initialise
from appliance.config import ConfigError
from appliance.privacy.erasure import erase_customer
from appliance.runtime import DataDirError, open_runtime
from appliance.store import bulk, migrations
from appliance.store.backup import BackupError
from appliance.store.db import close_connection, connect_raw, db, execute, open_database
from appliance.store.models import CustomerKey, InboxEvent, Message
from appliance.store.postgres import StoreConfigError, connect_params
from appliance.store.schema import ALL_MODELS
from tests.conftest import settings_for
from tests.integration.test_encrypted_store import schema
from tests.web.conftest import inbound

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_rt(pg_server, tmp_path):
    settings = settings_for(tmp_path / "var", GEMBOK_STORE_URL=pg_server.new_database())
    rt, _ = initialise(settings)
    yield rt
    db.close()


def test_postgres_gets_the_schema_sqlites_migrations_build(pg_rt, tmp_path):
    on_postgres = schema(db, types=False)
    open_database(tmp_path / "migrated.db", bytes(range(32)))
    migrations.migrate(db)
    on_sqlite = schema(db, types=False)
    db.close()
    assert on_postgres == on_sqlite
    assert len(on_postgres) == len(ALL_MODELS)


def test_the_baseline_is_recorded_and_a_second_start_migrates_nothing(pg_rt):
    rows = execute(db, "SELECT version, name FROM schema_version ORDER BY version").fetchall()
    assert [v for v, _ in rows] == list(range(1, migrations.latest_version() + 1))
    assert rows[0][1] == "initial (baseline)"
    db.close()
    _, report = initialise(pg_rt.settings)
    assert report.migrated == []


def test_a_store_made_before_templates_had_an_account_is_migrated_like_sqlite(pg_rt, tmp_path):
    """A PostgreSQL store made by the Gembok of 16 migrations (its baseline) takes the
    later migrations as SQLite does, and ends with the same schema."""
    execute(db, 'ALTER TABLE "wa_template" DROP COLUMN "waba_id"')
    execute(db, 'ALTER TABLE "wa_number" DROP COLUMN "portfolio"')
    execute(db, 'CREATE UNIQUE INDEX "wa_template_name_language" ON "wa_template"'
                ' ("name", "language")')
    execute(db, "DELETE FROM schema_version WHERE version >= ?", (migrations.FIRST_ON_BOTH,))
    db.close()
    _, report = initialise(pg_rt.settings)
    assert report.migrated == list(range(migrations.FIRST_ON_BOTH,
                                         migrations.latest_version() + 1))
    on_postgres = schema(db, types=False)
    open_database(tmp_path / "migrated.db", bytes(range(32)))
    migrations.migrate(db)
    assert schema(db, types=False) == on_postgres
    db.close()


def test_a_password_in_the_store_url_is_refused_and_never_printed(tmp_path):
    with pytest.raises(ConfigError) as refused:
        settings_for(tmp_path / "var", GEMBOK_STORE_URL="postgresql://gembok:s3cret@db/gembok")
    assert "s3cret" not in str(refused.value)
    assert "store.password_file" in str(refused.value)


def test_a_remote_server_is_reached_only_over_tls_with_its_name_checked(tmp_path):
    with pytest.raises(StoreConfigError, match=r"store\.ca_file"):
        connect_params("postgresql://gembok@db.office.lan/gembok", None, None)
    with pytest.raises(StoreConfigError, match="verify-full"):
        connect_params("postgresql://gembok@10.1.2.3/gembok?sslmode=require", None,
                       tmp_path / "ca.pem")
    params = connect_params("postgresql://gembok@db.office.lan/gembok", None, tmp_path / "ca.pem")
    assert params["sslmode"] == "verify-full" and params["sslrootcert"] == str(tmp_path / "ca.pem")
    # on this host (a unix socket or loopback) TLS is the operator's choice
    assert "sslmode" not in connect_params("postgresql://gembok@/gembok?host=/run/pg", None, None)
    assert "sslmode" not in connect_params("postgresql://gembok@127.0.0.1/gembok", None, None)


def test_the_password_comes_from_its_file(tmp_path):
    secret = tmp_path / "pg.password"
    secret.write_text("kata-sandi-db\n")
    assert connect_params("postgresql://gembok@/g", secret, None)["password"] == "kata-sandi-db"
    with pytest.raises(StoreConfigError, match="cannot be read"):
        connect_params("postgresql://gembok@/g", tmp_path / "missing", None)


def test_an_empty_store_beside_a_keyring_is_refused_not_filled_anew(pg_rt, pg_server):
    # The DBA restored nothing yet: a new empty database under the same keyring
    moved = settings_for(pg_rt.settings.data_dir, GEMBOK_STORE_URL=pg_server.new_database())
    db.close()
    with pytest.raises(DataDirError, match="reapply-erasures"):
        open_runtime(moved)


def test_writers_on_two_hosts_take_turns(pg_rt):
    # Two write transactions on two connections (two hosts, as far as the server knows)
    order: list[str] = []
    first_in, second_tried = threading.Event(), threading.Event()

    def first() -> None:
        with db.atomic():
            order.append("first in")
            first_in.set()
            second_tried.wait(5)
            time.sleep(0.2)  # the second one is waiting on the lock meanwhile
            order.append("first out")
        db.close()

    def second() -> None:
        first_in.wait(5)
        second_tried.set()
        with db.atomic():
            order.append("second in")
        db.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert order == ["first in", "first out", "second in"]


def test_ids_handed_out_to_a_batch_never_collide_with_a_row_made_meanwhile(pg_rt):
    convo = inbound(pg_rt, "wamid.ID1", "6281234567890", "Siti", "Halo")
    ids = bulk.Ids("message")
    planned = [ids.take() for _ in range(3)]
    made = Message.create(conversation=convo, direction="out", kind="text", status="queued")
    assert made.id not in planned
    assert planned == sorted(planned) and len(set(planned)) == 3


def test_the_inbox_writer_writes_to_the_server_and_skips_a_replay(pg_rt):
    conn = connect_raw(pg_rt.settings.db_file, b"")
    try:
        rows = [("a", "u" * 32, b"d" * 32, b"sealed-1"), ("b", "v" * 32, b"e" * 32, b"sealed-2")]
        first = bulk.insert_inbox_events(conn, "2026-12-05 10:00:00", rows)
        again = bulk.insert_inbox_events(conn, "2026-12-05 10:00:01", rows[:1])
    finally:
        conn.close()
    assert set(first) == {"u" * 32, "v" * 32} and again == {}
    assert InboxEvent.select().count() == 2


def relation_bytes(pg_server, table: str) -> bytes:
    """The table's file as PostgreSQL wrote it to disk (after a checkpoint)."""
    pg_server.psql("postgres", "CHECKPOINT")
    path = execute(db, "SELECT pg_relation_filepath(?)", (table,)).fetchone()[0]
    return (pg_server.data / path).read_bytes()


def test_an_erased_customers_key_is_gone_from_the_tables_file(pg_rt, pg_server):
    # Given Siti's key, wrapped under the master key, on disk in customer_key's file
    convo = inbound(pg_rt, "wamid.ER1", "6281298765432", "Siti Rahayu", "NIK 3174091203870007")
    siti = Message.get(Message.conversation == convo).conversation.customer_id
    wrapped = bytes(CustomerKey.get(CustomerKey.customer == siti).wrapped)
    assert wrapped in relation_bytes(pg_server, "customer_key")
    # When the DPO erases her
    erase_customer(pg_rt, BOX_ADMIN, siti)
    # Then no dead version of that row is left in the file for the master key to unwrap
    assert wrapped not in relation_bytes(pg_server, "customer_key")


def test_backups_of_a_postgres_store_are_the_operators(pg_rt):
    with pytest.raises(BackupError, match="pg_dump"):
        recovery.create(pg_rt, BOX_ADMIN)


def test_a_thread_that_connects_anew_for_every_request_holds_one_connection(pg_rt):
    # A web worker's thread lets go of its connection after each request and opens one
    # for the next: a thousand requests must not leave a thousand connections behind.
    def alive() -> int:
        gc.collect()
        return sum(isinstance(o, psycopg.Connection) for o in gc.get_objects())

    before = alive()
    for _ in range(50):
        close_connection()
        execute(db, "SELECT 1")
    assert alive() <= before + 1

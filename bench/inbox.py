"""The Chatroom's two hot pages on a big store: the inbox (50 rows) and a thread (latest 50).

Builds 100,000 customers, 100,000 conversations (20,000 open) and 1,000,000 messages twice:
in Gembok's encrypted store (SQLCipher, every field sealed under its customer's key) and,
as the baseline, the same rows on plain SQLite with nothing sealed (the same code runs,
with a key set that does not encrypt). Then times both pages through the Flask app
(server time: the request handled in-process, JSON included) for a supervisor who sees
one division of three.

    .venv/bin/python bench/inbox.py [--customers 100000] [--messages 1000000] [--samples 300]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil
from procs import scratch_dir

from appliance.audit.queue import AuditQueue
from appliance.auth import sessions
from appliance.auth.permissions import BOX_ADMIN
from appliance.auth.users import create_user
from appliance.bootstrap import initialise
from appliance.clock import utcnow
from appliance.config import load_settings
from appliance.crypto.aead import place
from appliance.crypto.wrap import wrap
from appliance.inbox import conversations, work
from appliance.inbox.divisions import create_division
from appliance.inbox.search_tokens import tokens_for
from appliance.keys import customer_keys
from appliance.store import db as store_db
from appliance.store import migrations
from appliance.store.db import PRAGMAS, db
from appliance.store.models import User
from webui import create_app

FIRST = ("Siti", "Budi", "Dewi", "Agus", "Rina", "Eko", "Tono", "Wati", "Joko", "Sari")
LAST = ("Rahayu", "Santoso", "Lestari", "Pratama", "Wijaya", "Saputra", "Hidayat", "Kusuma")
LINES = ("Halo kak, pesanan saya belum sampai", "Baik kak, kami cek dulu ya",
         "Nomor resi JNE00123456", "Terima kasih, sudah diterima", "Ada promo minggu ini?")


class PlainKeys:
    """The baseline's key set: the same calls, nothing encrypted."""

    current = 1

    def seal(self, plaintext: bytes, where: bytes) -> bytes:
        return plaintext

    def open(self, token: bytes, where: bytes) -> bytes:
        return token


def fill(rt: Any, customers: int, messages: int, sealed: bool, divisions: list[int]) -> None:
    """Writes the rows with bulk statements (the services would take an hour)."""
    rng = random.Random(7)
    now = utcnow()
    per_convo = max(1, messages // customers)
    open_ids = set(rng.sample(range(1, customers + 1), customers // 5))
    message_id = 0
    cur = db.cursor()
    for start in range(1, customers + 1, 5000):
        ids = range(start, min(start + 5000, customers + 1))
        customers_rows, key_rows, token_rows, convo_rows, message_rows = [], [], [], [], []
        for cid in ids:
            key = os.urandom(32)
            keys: Any = customer_keys.KeySet({1: key}) if sealed else PlainKeys()
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            phone = f"+62812{cid:08d}"
            customers_rows.append((cid, keys.seal(name.encode(), place("customer", "name", cid)),
                                   keys.seal(phone.encode(), place("customer", "phone", cid)),
                                   rt.index("phone", phone), str(now - timedelta(hours=2))))
            key_rows.append((cid, wrap(rt.master.key, key, f"customer:{cid}:v1")
                             if sealed else key, rt.master.key_id, str(now)))
            token_rows += [(cid, t) for t in tokens_for(rt, name, phone)]
            last = now - timedelta(minutes=rng.randrange(0, 90 * 24 * 60))
            convo_rows.append((cid, cid, rng.choice(divisions),
                               "open" if cid in open_ids else "resolved", str(last), str(last)))
            for n in range(per_convo):
                message_id += 1
                text = rng.choice(LINES)
                payload = json.dumps({"type": "text", "text": {"body": text}}).encode()
                message_rows.append((
                    message_id, cid, "in" if n % 2 == 0 else "out", f"wamid.{message_id}",
                    keys.seal(text.encode(), place("message", "body", message_id)),
                    keys.seal(payload, place("message", "payload", message_id)),
                    str(last - timedelta(minutes=per_convo - n))))
        with db.atomic():
            cur.executemany("INSERT INTO customer (id, name_sealed, phone_sealed, phone_index, "
                            "last_inbound_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                            [(*r, str(now)) for r in customers_rows])
            cur.executemany("INSERT INTO customer_key (customer_id, version, wrapped, master_id,"
                            " created_at) VALUES (?, 1, ?, ?, ?)", key_rows)
            cur.executemany("INSERT INTO customer_token (customer_id, token) VALUES (?, ?)",
                            token_rows)
            cur.executemany("INSERT INTO conversation (id, customer_id, division_id, status, "
                            "created_at, last_message_at) VALUES (?, ?, ?, ?, ?, ?)", convo_rows)
            cur.executemany("INSERT INTO message (id, conversation_id, direction, wamid, kind, "
                            "body_sealed, payload_sealed, status, created_at) "
                            "VALUES (?, ?, ?, ?, 'text', ?, ?, 'read', ?)", message_rows)


@contextmanager
def plain_store() -> Iterator[None]:
    """The baseline: customer key sets that do not encrypt (the database has no key)."""
    saved = (conversations.customer_keysets, work.customer_keys, work.customer_keysets)
    conversations.customer_keysets = lambda master, ids: {i: PlainKeys() for i in ids}
    work.customer_keysets = conversations.customer_keysets
    work.customer_keys = lambda master, cid: PlainKeys()
    try:
        yield
    finally:
        conversations.customer_keysets, work.customer_keys, work.customer_keysets = saved


def build(base: Path, customers: int, messages: int,
          sealed: bool) -> tuple[Any, Any, str, Path | None]:
    settings = load_settings({"GEMBOK_DATA_DIR": str(base / ("sealed" if sealed else "plain")
                                                     / "var")})
    rt, _ = initialise(settings)
    plain = None
    if not sealed:  # the same schema on a plain SQLite file: no database key
        db.close()
        plain = settings.db_file.with_name("plain.db")
        db.init(str(plain), pragmas=PRAGMAS)
        migrations.migrate(db)
    divisions = [create_division(rt, BOX_ADMIN, n) for n in ("Sales", "Billing", "Support")]
    user, _ = create_user(rt, username="budi", display_name="Budi", role="supervisor",
                          actor="cli", principal=BOX_ADMIN, divisions=[divisions[0]])
    User.update(must_change_password=False, totp_enabled=True).where(
        User.id == user.id).execute()
    started = time.perf_counter()
    fill(rt, customers, messages, sealed, divisions)
    label = "sealed" if sealed else "plain"
    print(f"  {label} store filled in {time.perf_counter() - started:.0f} s")
    token = sessions.create(User.get_by_id(user.id), settings.auth, ip="10.0.0.1",
                            user_agent="bench", second_factor_done=True)
    return rt, settings, token, plain


def timed(call: Callable[[], Any], samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def measure(rt: Any, settings: Any, token: str, samples: int,
            plain: Path | None) -> dict[str, list[float]]:
    app = create_app(settings, enqueue=False)
    if plain is not None:  # the app opened the encrypted file; the baseline reads the plain one
        db.close()
        db.init(str(plain), pragmas=PRAGMAS)
    rt = app.extensions["gembok"]
    rt.read_audit = AuditQueue(rt.keyring.audit_key)  # as in the served app
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    with client.session_transaction() as s:
        s["sid"] = token
    visible = [c["id"] for c in client.get("/api/conversations").get_json()["conversations"]]
    ids = [row[0] for row in store_db.tuples(
        conversations.Conversation.select(conversations.Conversation.id)
        .where(conversations.Conversation.division == 1).limit(5000))]
    rng = random.Random(3)
    assert visible, "the supervisor sees nothing"

    def inbox() -> None:
        assert client.get("/api/conversations").status_code == 200

    def thread() -> None:
        resp = client.get(f"/api/conversations/{rng.choice(ids)}")
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]

    inbox()
    thread()
    result = {"inbox": timed(inbox, samples), "thread": timed(thread, samples)}
    rt.read_audit.close()
    db.close()
    return result


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    with scratch_dir("gembok-inbox-") as base:  # removed at the end, on Ctrl-C too
        figures = {}
        for sealed in (True, False):
            rt, settings, token, plain = build(base, args.customers, args.messages, sealed)
            if sealed:
                figures["sealed"] = measure(rt, settings, token, args.samples, None)
            else:
                with plain_store():
                    figures["plain"] = measure(rt, settings, token, args.samples, plain)
            files = settings.data_dir.glob("gembok.db*" if sealed else "plain.db*")
            size = sum(p.stat().st_size for p in files)
            print(f"  {'sealed' if sealed else 'plain'} database: {size / 2**20:.0f} MB")
        print(f"# Chatroom pages, {platform.node()}: {psutil.cpu_count()} cores, "
              f"Python {platform.python_version()}; {args.customers:,} customers, "
              f"{args.customers // 5:,} open conversations, {args.messages:,} messages; "
              f"{args.samples} requests each, in-process through the Flask app")
        print(f"{'page':<28} {'sealed p50':>10} {'p95':>7} {'plain p50':>10} {'p95':>7} "
              f"{'ratio p95':>10}")
        for page, label in (("inbox", "inbox, 50 rows"), ("thread", "thread, latest 50 msgs")):
            s, p = figures["sealed"][page], figures["plain"][page]
            print(f"{label:<28} {statistics.median(s):>8.1f}ms {p95(s):>5.1f}ms "
                  f"{statistics.median(p):>8.1f}ms {p95(p):>5.1f}ms {p95(s) / p95(p):>10.2f}")


if __name__ == "__main__":
    main()

"""An auditor can trust the log: every kind of tampering is found, and where it happened.

The attacker here holds the database key (they can drop the append-only triggers and
rewrite rows) but not the audit key, which lives in the keyring under the master key.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from appliance.audit import chain as audit
from appliance.audit import checkpoint
from appliance.audit.verify import verify
from appliance.runtime import open_runtime
from appliance.store.baseline import GUARDS
from appliance.store.db import db, execute, is_postgres
from tests.conftest import BOTH_ENGINES

pytestmark = BOTH_ENGINES


@pytest.fixture
def chain(rt):
    """A chain of 10 entries (6 from initialisation, 4 reads) with a fresh checkpoint."""
    for n in range(4):
        rt.audit(actor=f"user:{n + 2}", action="customer.read", target=f"customer:{n + 1}")
    checkpoint.write(rt.settings.audit_head_file, rt.keyring.audit_key)
    return rt


def tamper(*statements: tuple[str, tuple[object, ...]]) -> None:
    on = " ON audit_entry" if is_postgres() else ""  # PostgreSQL's triggers are per table
    execute(db, f"DROP TRIGGER audit_entry_no_update{on}")
    execute(db, f"DROP TRIGGER audit_entry_no_delete{on}")
    for sql, params in statements:
        execute(db, sql, params)


def check(rt):
    return verify(rt.keyring.audit_key, rt.settings.audit_head_file)


def test_an_untouched_chain_verifies(chain):
    verdict = check(chain)
    assert verdict.ok and verdict.entries == 10
    assert "intact: 10 entries" in verdict.summary


def test_an_edited_entry_is_found(chain):
    tamper(("UPDATE audit_entry SET actor = 'user:99' WHERE seq = 8", ()))
    verdict = check(chain)
    assert not verdict.ok and verdict.broken_at == 8
    assert "entry #8 was edited" in verdict.summary


def test_a_deleted_entry_is_found(chain):
    tamper(("DELETE FROM audit_entry WHERE seq = 5", ()))
    verdict = check(chain)
    assert verdict.broken_at == 5 and "entry #5 is missing" in verdict.summary


def test_an_inserted_entry_is_found(chain):
    # The attacker renumbers to make room and writes a well-formed entry at #7
    # (right prev hash, right content hash) but cannot seal it without the audit key.
    prev = execute(db, "SELECT entry_hash FROM audit_entry WHERE seq = 6").fetchone()[0]
    digest = audit.entry_hash(7, "2026-01-01T00:00:00+00:00", "user:99", "customer.read",
                              "customer:1", "{}", prev)
    tamper(("UPDATE audit_entry SET seq = seq + 1000 WHERE seq >= 7", ()),
           ("UPDATE audit_entry SET seq = seq - 999 WHERE seq >= 1000", ()),
           ("INSERT INTO audit_entry VALUES (7, '2026-01-01T00:00:00+00:00', 'user:99', "
            "'customer.read', 'customer:1', '{}', ?, ?, ?)", (prev, digest, "0" * 64)))
    verdict = check(chain)
    assert verdict.broken_at == 7 and "not sealed by the audit key" in verdict.summary


def test_reordered_entries_are_found(chain):
    rows = {seq: row for seq, *row in execute(
        db, "SELECT seq, at, actor, action, target, detail, prev_hash, entry_hash, mac "
            "FROM audit_entry WHERE seq IN (7, 8)").fetchall()}
    swap = "UPDATE audit_entry SET at=?, actor=?, action=?, target=?, detail=?, prev_hash=?, " \
           "entry_hash=?, mac=? WHERE seq = ?"
    tamper((swap, (*rows[8], 7)), (swap, (*rows[7], 8)))
    verdict = check(chain)
    assert verdict.broken_at == 7 and "inserted, removed or reordered" in verdict.summary


def test_a_truncated_tail_is_found_by_the_checkpoint(chain):
    tamper(("DELETE FROM audit_entry WHERE seq > 7", ()))
    verdict = check(chain)
    assert verdict.broken_at == 8
    assert "ends at entry #7" in verdict.summary and "records #10" in verdict.summary


def test_a_database_restored_from_an_older_copy_is_found(chain, tmp_path, engine):
    if engine == "postgres":
        pytest.skip("copies the database file; a PostgreSQL store is cut back in "
                    "test_a_rolled_back_database_that_was_written_again_is_found")
    # Given a copy of the database taken at entry #10
    settings = chain.settings
    db.close()
    shutil.copy(settings.db_file, tmp_path / "old.db")
    rt = open_runtime(settings)
    # When more happens and is checkpointed, then the old copy is put back
    for n in range(3):
        rt.audit(actor="user:5", action="customer.read", target=f"customer:{n}")
    checkpoint.write(settings.audit_head_file, rt.keyring.audit_key)
    db.close()
    for suffix in ("-wal", "-shm"):
        settings.db_file.with_name(settings.db_file.name + suffix).unlink(missing_ok=True)
    shutil.copy(tmp_path / "old.db", settings.db_file)
    rt = open_runtime(settings)
    # Then verify says what is gone
    verdict = check(rt)
    assert not verdict.ok and verdict.broken_at == 11
    assert "restored from an older copy" in verdict.summary


def test_a_rolled_back_database_that_was_written_again_is_found(chain):
    # The attacker cuts the tail and appends new, properly sealed entries (as the
    # appliance would after a rollback): the chain holds, the checkpoint disagrees.
    tamper(("DELETE FROM audit_entry WHERE seq > 8", ()))
    if is_postgres():
        execute(db, next(g for g in GUARDS if '"audit_entry_no_delete"' in g))
    else:
        execute(db, "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
                    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
    for n in range(3):
        chain.audit(actor="user:4", action="customer.read", target=f"customer:{n}")
    verdict = check(chain)
    assert verdict.broken_at == 10 and "replaced by another copy" in verdict.summary
    # and the scheduler's checkpoint refuses to paper over the fork
    assert checkpoint.write(chain.settings.audit_head_file, chain.keyring.audit_key) is None


def test_a_chain_rewritten_without_the_key_is_found(chain):
    # The attacker edits entry #4 and recomputes every hash after it, but has to guess MACs.
    rows = execute(db, "SELECT seq, at, actor, action, target, detail FROM audit_entry "
                       "WHERE seq >= 4 ORDER BY seq").fetchall()
    prev = execute(db, "SELECT entry_hash FROM audit_entry WHERE seq = 3").fetchone()[0]
    updates = []
    for seq, at, actor, action, target, detail in rows:
        actor = "user:99" if seq == 4 else actor
        digest = audit.entry_hash(seq, at, actor, action, target, detail, prev)
        forged_mac = hashlib.sha256(digest.encode()).hexdigest()
        updates.append(("UPDATE audit_entry SET actor=?, prev_hash=?, entry_hash=?, mac=? "
                        "WHERE seq=?", (actor, prev, digest, forged_mac, seq)))
        prev = digest
    tamper(*updates)
    verdict = check(chain)
    assert verdict.broken_at == 4 and "not sealed by the audit key" in verdict.summary


def test_an_edited_checkpoint_is_found(chain):
    path = chain.settings.audit_head_file
    doc = json.loads(path.read_text())
    doc["seq"] = 3
    path.write_text(json.dumps(doc))
    verdict = check(chain)
    assert not verdict.ok and "not sealed by the audit key" in verdict.summary


def test_a_deleted_checkpoint_is_found(chain):
    chain.settings.audit_head_file.unlink()
    verdict = check(chain)
    assert not verdict.ok and "checkpoint" in verdict.summary and "missing" in verdict.summary


@pytest.mark.parametrize("detail", [{"reason": "customer Siti asked"}, {"phone": "+62 812"}])
def test_free_text_cannot_enter_the_log(rt, detail):
    with pytest.raises(ValueError, match="not free text"):
        rt.audit(actor="user:1", action="customer.read", target="customer:1", detail=detail)


def test_a_name_cannot_pose_as_an_actor_or_target(rt):
    with pytest.raises(ValueError):
        rt.audit(actor="Siti Rahayu", action="customer.read")
    with pytest.raises(ValueError):
        rt.audit(actor="user:1", action="customer.read", target="customer:Siti Rahayu")

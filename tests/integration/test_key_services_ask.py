"""Key, rekey and restore services ask who is asking, like every other service (issue 12).

Only a face that already checked (the CLI as root, the TUI on the box) used to call them;
now a web route or a script that reaches them with a lesser principal is refused too.
"""

from __future__ import annotations

import pytest

from appliance import recovery
from appliance.auth.permissions import BOX_ADMIN, Denied, Principal, box_admin
from appliance.keys import data_rotation
from appliance.keys.db_rekey import rekey_database
from appliance.keys.master_rotation import rotate_master
from appliance.store.models import AuditEntry

SUPERVISOR = Principal(7, "supervisor", frozenset({1}), frozenset({"conversation.read"}))


def test_a_supervisor_cannot_rotate_a_key_or_rekey_the_database(rt):
    with pytest.raises(Denied):
        data_rotation.start(rt, principal=SUPERVISOR)
    with pytest.raises(Denied):
        rotate_master(rt, principal=SUPERVISOR)
    with pytest.raises(Denied):
        rekey_database(rt.settings, principal=SUPERVISOR)
    assert not AuditEntry.select().where(AuditEntry.actor == SUPERVISOR.actor).exists()


def test_a_supervisor_cannot_restore_a_backup(rt):
    folder = recovery.create(rt, BOX_ADMIN)
    with pytest.raises(Denied):
        recovery.restore(rt.settings, folder, principal=SUPERVISOR)


def test_the_admin_at_the_terminal_is_named_in_the_audit_not_as_the_cli(rt):
    job = data_rotation.start(rt, principal=box_admin("tui:ayu"))
    data_rotation.set_paused(rt, job, True, principal=BOX_ADMIN)
    actors = [(e.actor, e.action) for e in AuditEntry.select().where(
        AuditEntry.action.startswith("key.data_rotation")).order_by(AuditEntry.seq)]
    assert actors == [("tui:ayu", "key.data_rotation_started"),
                      ("cli", "key.data_rotation_paused")]

"""`content`, the right to read customers' messages: never self-given, never quiet.

Ayu the admin runs people and divisions but reads no messages; Eko the admin was trusted
with content. An admin who wants to read must ask a second admin or the IT admin at the
box, and every admin is e-mailed the moment anyone gains it (issue 11, item 7).
"""

from __future__ import annotations

import email
import email.policy
from datetime import datetime
from zoneinfo import ZoneInfo

import dramatiq
from click.testing import CliRunner
from dramatiq.brokers.stub import StubBroker

from appliance import tasks
from appliance.cli import cli
from appliance.store.db import db
from appliance.store.models import AuditEntry, User
from tests.web.conftest import make_user, sign_in_as

CUSTOMER_DATA = ("Siti", "Tono", "6281111111111", "6281333333333", "3174051234567890")


def text_of(mail) -> str:
    parsed = email.message_from_bytes(mail.content, policy=email.policy.default)
    return parsed["Subject"] + "\n" + " ".join(parsed.get_content().split())


def office_time(entry: AuditEntry) -> str:
    return f"{datetime.fromisoformat(entry.at).astimezone(ZoneInfo('Asia/Jakarta')):%H:%M} WIB"


def last(action: str) -> AuditEntry:
    return AuditEntry.select().where(AuditEntry.action == action).order_by(
        AuditEntry.seq.desc()).first()


def test_an_admin_cannot_grant_content_to_itself(world, mailbox):
    ayu = sign_in_as(world, "ayu")
    me = world.users["ayu"]
    # When Ayu, curious about a complaint, asks the admin API to give herself content
    answer = ayu.post(f"/api/admin/users/{me}", {"extra_permissions": ["content"]})
    # Then she is refused, in words that say who can
    assert answer.status_code == 422
    assert "cannot give yourself a permission" in answer.get_json()["error"]
    # And nothing changed: no content, her session goes on, the conversations stay closed
    assert User.get_by_id(me).extra_permissions == ""
    assert ayu.get("/api/admin/users").status_code == 200
    assert ayu.get(f"/api/conversations/{world.conversations['billing']}").status_code == 404
    assert not mailbox
    # And the attempt is in the audit log
    refused = last("user.self_grant_refused")
    assert (refused.actor, refused.target) == (f"user:{me}", f"user:{me}")
    assert last("user.content_granted") is None


def test_a_second_admin_grants_content_and_every_admin_is_emailed(world, mailbox):
    # Given Fikri, a new admin who must look into a customer's complaint,
    # and Gilang, an admin who left the company (deactivated)
    fikri = make_user(world, "fikri", role="admin")
    gilang = make_user(world, "gilang", role="admin")
    User.update(is_active=False).where(User.id == gilang.id).execute()
    # When Ayu, a second admin, grants Fikri content from the web
    answer = sign_in_as(world, "ayu").post(f"/api/admin/users/{fikri.id}",
                                           {"extra_permissions": ["content"]})
    assert answer.status_code == 200
    # Then Fikri reads conversations of every division
    assert sign_in_as(world, "fikri").get(
        f"/api/conversations/{world.conversations['billing']}").status_code == 200
    # And the grant is in the audit log: who granted whom
    grant = last("user.content_granted")
    assert (grant.actor, grant.target) == (f"user:{world.users['ayu']}", f"user:{fikri.id}")
    # And every active admin with an address got the news, at once: Gilang did not
    [mail] = mailbox
    assert sorted(mail.rcpt_tos) == ["ayu@toko.example", "eko@toko.example",
                                     "fikri@toko.example"]
    text = text_of(mail)
    assert "Fikri (fikri) was given the `content` permission by Ayu (ayu)" in text
    assert f"at {office_time(grant)}" in text
    assert not any(data in text for data in CUSTOMER_DATA)


def test_a_grant_in_a_served_app_reaches_the_admins_through_the_worker(world, mailbox,
                                                                        monkeypatch):
    # Given the web app as served, which hands its e-mails to a queue worker
    broker = StubBroker()
    monkeypatch.setitem(world.app.extensions, "gembok.queue", tasks.DramatiqQueue(broker))
    monkeypatch.setattr(tasks, "_runtime", world.app.extensions["gembok"])
    joko = make_user(world, "joko", role="admin")
    # When Eko grants Joko content
    answer = sign_in_as(world, "eko").post(f"/api/admin/users/{joko.id}",
                                           {"extra_permissions": ["content"]})
    # Then the request only queued the news (the grant's audit seq, nothing else)
    assert answer.status_code == 200 and not mailbox
    assert broker.queues["send"].qsize() == 1
    # And once the worker has run, every admin has read it
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=1)
    worker.start()
    try:
        broker.join("send", fail_fast=True)
        worker.join()
    finally:
        worker.stop()
        tasks.bind(StubBroker())
    [mail] = mailbox
    assert "joko@toko.example" in mail.rcpt_tos and "ayu@toko.example" in mail.rcpt_tos
    assert "Joko (joko) was given the `content` permission by Eko (eko)" in text_of(mail)


def test_content_is_granted_on_the_box(world, smtpd):
    # Given Hana, a new admin, and the IT admin at the box's shell
    hana = make_user(world, "hana", role="admin")
    env = {"GEMBOK_DATA_DIR": str(world.rt.settings.data_dir),
           "GEMBOK_SMTP_HOST": "127.0.0.1", "GEMBOK_SMTP_PORT": str(smtpd.port),
           "GEMBOK_SMTP_CA_FILE": str(smtpd.ca_file)}

    def gembok(*args: str):
        result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
        db.close()
        return result

    # When the IT admin runs `gembok user grant-content hana`
    granted = gembok("user", "grant-content", "hana")
    # Then Hana has content, the box is named as the granter, and every admin is e-mailed
    assert granted.exit_code == 0, granted.output
    assert "hana may now read every division's conversations" in granted.output
    assert User.get_by_id(hana.id).extra_permissions == "content"
    grant = last("user.content_granted")
    assert (grant.actor, grant.target) == ("cli", f"user:{hana.id}")
    [mail] = smtpd.handler.messages
    assert {"ayu@toko.example", "eko@toko.example", "hana@toko.example"} <= set(mail.rcpt_tos)
    text = text_of(mail)
    assert "Hana (hana) was given the `content` permission by the IT admin on the box" in text
    assert f"at {office_time(grant)}" in text
    # And granting it again changes nothing and e-mails nobody
    assert "hana already had content" in gembok("user", "grant-content", "hana").output
    # And `gembok user revoke-content hana` takes it back, quietly
    revoked = gembok("user", "revoke-content", "hana")
    assert revoked.exit_code == 0 and User.get_by_id(hana.id).extra_permissions == ""
    assert len(smtpd.handler.messages) == 1


def test_content_is_not_regained_by_a_round_trip_through_another_role(world, mailbox):
    # Given Indra, an admin trusted with content
    indra = make_user(world, "indra", role="admin")
    eko = sign_in_as(world, "eko")
    assert eko.post(f"/api/admin/users/{indra.id}",
                    {"extra_permissions": ["content"]}).status_code == 200
    # When he is made a supervisor and then an admin again
    eko.post(f"/api/admin/users/{indra.id}", {"role": "supervisor"})
    eko.post(f"/api/admin/users/{indra.id}", {"role": "admin"})
    # Then content went with the admin role: regaining it takes a new, e-mailed grant
    assert User.get_by_id(indra.id).extra_permissions == ""
    assert len(mailbox) == 1

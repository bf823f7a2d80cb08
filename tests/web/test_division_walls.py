"""Agents only see their division's conversations, on every path, however they ask."""

from __future__ import annotations

import json
import threading
import time

from peewee import fn

from appliance.auth import users
from appliance.auth.permissions import BOX_ADMIN, principal_for
from appliance.privacy.reveal import reason_of
from appliance.store.models import AuditEntry, Conversation, Customer, Division, User
from tests.conftest import BOTH_ENGINES
from tests.web.conftest import PASSWORD, inbound, make_user, sign_in_as

pytestmark = BOTH_ENGINES


def test_an_agent_of_sales_cannot_reach_a_billing_conversation_even_by_guessing(world):
    dedi = sign_in_as(world, "dedi")
    billing = world.conversations["billing"]
    # Not by opening, replying, exporting, or through its customer, message or media
    assert dedi.get(f"/api/conversations/{billing}").status_code == 404
    assert dedi.post(f"/api/conversations/{billing}/reply", {"text": "hai"}).status_code == 404
    assert dedi.get(f"/api/conversations/{billing}/export").status_code == 404
    assert dedi.get(f"/api/customers/{world.customers['billing']}").status_code == 404
    assert dedi.get(f"/api/media/{world.media['billing']}").status_code == 404
    # Not by searching for the customer's number
    assert dedi.post("/api/search", {"q": "0813-3333-3333"}).get_json() == {"conversations": []}
    # Not by walking ids: every id that is not his answers like one that does not exist
    visible = {c["id"] for c in dedi.get("/api/conversations").get_json()["conversations"]}
    for guess in range(1, 60):
        status = dedi.get(f"/api/conversations/{guess}").status_code
        assert status == (200 if guess in visible else 404)
    assert billing not in visible and world.conversations["none"] not in visible


def test_an_agent_sees_unassigned_conversations_and_their_own_not_a_colleagues(world):
    dedi = sign_in_as(world, "dedi")
    ids = {c["id"] for c in dedi.get("/api/conversations").get_json()["conversations"]}
    assert world.conversations["sales"] in ids
    assert world.conversations["sales_taken"] not in ids  # Sari's
    sari = sign_in_as(world, "sari")
    assert sari.get(f"/api/conversations/{world.conversations['sales_taken']}").status_code \
        == 200


def test_counts_and_reports_count_only_what_the_user_may_see(world):
    citra = sign_in_as(world, "citra").get("/api/counts").get_json()
    assert citra["open"] == Conversation.select().where(
        Conversation.division == world.divisions["Billing"]).count()
    report = sign_in_as(world, "budi").get("/api/reports/summary").get_json()["divisions"]
    assert {row["division_id"] for row in report} == {world.divisions["Sales"]}


def test_an_admin_without_the_content_permission_sees_no_message_text(world):
    ayu = sign_in_as(world, "ayu")
    assert ayu.post("/api/search", {"q": "081111111111"}).status_code == 404
    for path in ("/api/conversations", f"/api/conversations/{world.conversations['sales']}",
                 "/api/stream"):
        resp = ayu.get(path, buffered=False)
        assert resp.status_code == 404
        resp.close()
    listing = json.dumps(ayu.get("/api/admin/users").get_json())
    assert "NIK" not in listing and "3174" not in listing


def test_message_text_is_masked_on_the_server_and_a_reveal_is_audited_with_its_reason(world):
    budi = sign_in_as(world, "budi")
    convo = budi.get(f"/api/conversations/{world.conversations['sales']}").get_json()
    assert convo["messages"][0]["text"] == "NIK ************7890"
    assert convo["conversation"]["phone"] == "+62 811-****-1111"
    raw = json.dumps(convo)
    assert "3174051234567890" not in raw and "6281111111111" not in raw
    # A reveal needs a reason, returns the text, and is in the audit log with the reason
    message_id = world.messages["sales"]
    assert budi.post(f"/api/messages/{message_id}/reveal", {"reason": ""}).status_code == 422
    answer = budi.post(f"/api/messages/{message_id}/reveal",
                       {"reason": "pelanggan minta cek NIK untuk klaim"}).get_json()
    assert answer == {"text": "NIK 3174051234567890", "revealed": True}
    entry = AuditEntry.select().where(AuditEntry.action == "message.revealed") \
        .order_by(AuditEntry.seq.desc()).get()
    assert (entry.actor, entry.target) == (f"user:{world.users['budi']}",
                                           f"message:{message_id}")
    reveal_id = json.loads(entry.detail)["reveal"]
    assert reason_of(world.rt, BOX_ADMIN, reveal_id) == "pelanggan minta cek NIK untuk klaim"
    assert "klaim" not in entry.detail  # the reason stays out of the log itself


def test_an_agent_cannot_raise_their_role_or_move_a_conversation_by_adding_fields(world):
    dedi = sign_in_as(world, "dedi")
    convo = world.conversations["sales"]
    resp = dedi.post(f"/api/conversations/{convo}/reply", {
        "text": "Baik, kak", "division_id": world.divisions["Billing"],
        "user_id": world.users["ayu"], "role": "admin", "conversation_id": 1})
    assert resp.status_code == 202
    assert Conversation.get_by_id(convo).division_id == world.divisions["Sales"]
    assert User.get_by_id(world.users["dedi"]).role == "agent"
    # and through a form: the password page takes the new password, and not a role
    make_user(world, "dimas")
    dimas = sign_in_as(world, "dimas")
    changed = dimas.form("/account/password", {"current": PASSWORD, "role": "admin",
                                               "new": "teh manis hangat di warung pojok",
                                               "is_active": "0"})
    assert changed.status_code == 302
    assert User.get_by_id(world.users["dimas"]).role == "agent"
    assert User.get_by_id(world.users["dimas"]).is_active
    # and an admin creating a user cannot set the password or skip the first change
    ayu = sign_in_as(world, "ayu")
    made = ayu.post("/api/admin/users", {"username": "baru1", "display_name": "Baru",
                                         "role": "agent", "password": "my own password!!",
                                         "must_change_password": False}).get_json()
    user = User.get_by_id(made["id"])
    assert user.must_change_password and "one_time_password" in made


def test_a_number_another_divisions_customer_holds_waits_for_a_merge_without_a_name(world):
    # Given Budi, supervisor of Sales, correcting Siti's number to one that is Tono's,
    # a customer of Billing he may not see
    budi = sign_in_as(world, "budi")
    resp = budi.post(f"/api/customers/{world.customers['sales']}/phone",
                     {"phone": "0813-3333-3333", "reason": "Siti minta ganti nomor"})
    # Then the change waits for a merge, and nothing in the answer names the other record
    assert resp.status_code == 202, resp.get_data(as_text=True)
    text = resp.get_data(as_text=True)
    assert "merge" in resp.get_json()["message"]
    assert "Tono" not in text and "Billing" not in text and "3333" not in text
    assert str(world.customers["billing"]) not in text
    customer = Customer.get_by_id(world.customers["sales"])
    assert customer.phone_index == world.rt.index.phone("+6281111111111")


def test_an_agent_cannot_repoint_a_customers_number(world):
    dedi = sign_in_as(world, "dedi")
    resp = dedi.post(f"/api/customers/{world.customers['sales']}/phone",
                     {"phone": "0857-1234-0000", "reason": "pelanggan minta"})
    assert resp.status_code in (403, 404)
    customer = Customer.get_by_id(world.customers["sales"])
    assert customer.phone_index == world.rt.index.phone("+6281111111111")


def test_a_number_change_needs_a_reason_and_is_audited(world):
    budi = sign_in_as(world, "budi")
    path = f"/api/customers/{world.customers['sales']}/phone"
    refused = budi.post(path, {"phone": "0857-4444-0001", "reason": ""})
    assert refused.status_code == 422 and "reason" in refused.get_json()["error"]
    done = budi.post(path, {"phone": "0857-4444-0001", "reason": "nomor lama hilang"})
    assert done.status_code == 200
    entry = AuditEntry.select().where(AuditEntry.action == "customer.phone_changed").order_by(
        AuditEntry.seq.desc()).get()
    assert entry.actor == f"user:{world.users['budi']}"
    assert "hilang" not in entry.detail


def test_no_get_changes_anything(world):
    """Every GET route, as every role: the business tables stay exactly as they were."""
    def state():
        return [(m.__name__, [tuple(r) for r in m.select().tuples()])
                for m in (User, Division, Conversation, Customer)]

    before = state()
    for rule in world.app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        for role in (None, "ayu", "eko", "budi", "dedi", "citra"):
            path = rule.rule.replace("<int:conversation_id>", str(world.conversations["sales"])) \
                .replace("<int:customer_id>", str(world.customers["sales"])) \
                .replace("<int:media_id>", str(world.media["sales"]))
            resp = sign_in_as(world, role).get(path, buffered=False)
            resp.close()
    assert state() == before


def test_removing_an_agent_from_a_division_ends_their_live_stream_within_5_seconds(world):
    user = make_user(world, "lina")
    lina = sign_in_as(world, "lina")
    resp = lina.get("/api/stream", buffered=False)
    assert resp.status_code == 200
    chunks: list[bytes] = []
    ended = threading.Event()

    def read() -> None:
        for chunk in resp.response:
            chunks.append(chunk)
            if b"event: end" in chunk:
                break
        ended.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(1.5)
    ayu = principal_for(User.get_by_id(world.users["ayu"]))
    started = time.monotonic()
    users.set_divisions(world.rt, ayu, user.id, [])
    assert ended.wait(5), "the stream was still open 5 s after the change"
    assert time.monotonic() - started < 5
    resp.close()
    # and her session is gone too
    assert lina.get("/api/conversations").status_code == 401


def test_deactivating_a_user_ends_their_sessions(world):
    user = make_user(world, "joko")
    joko = sign_in_as(world, "joko")
    assert joko.get("/api/counts").status_code == 200
    ayu = sign_in_as(world, "ayu")
    assert ayu.post(f"/api/admin/users/{user.id}", {"active": False}).status_code == 200
    assert joko.get("/api/counts").status_code == 401


def test_the_stream_tells_only_of_the_users_conversations(world):
    citra = sign_in_as(world, "citra")
    resp = citra.get("/api/stream", buffered=False)
    chunks: list[bytes] = []

    def read() -> None:
        for chunk in resp.response:
            chunks.append(chunk)
            if len(chunks) > 6:
                break

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(1.2)
    sales = inbound(world.rt, "wamid.STREAM1", "6281111111111", "Siti", "lagi")
    billing = inbound(world.rt, "wamid.STREAM2", "6281333333333", "Tono", "lagi")
    reader.join(6)
    resp.close()
    seen = {change["conversation"]
            for line in b"".join(chunks).decode().splitlines() if line.startswith("data: {\"")
            for change in json.loads(line[6:]).get("changes", [])}
    assert billing in seen and sales not in seen


def test_a_reconnecting_stream_gets_the_changes_it_missed_and_only_its_own(world):
    # Given Citra's stream dropped after change N (her browser remembers N)
    from appliance.store.chatroom import ChangeEvent

    last_seen = ChangeEvent.select(fn.MAX(ChangeEvent.id)).scalar() or 0
    # When a Billing and a Sales conversation change while she is away
    billing = inbound(world.rt, "wamid.AWAY1", "6281333333333", "Tono", "masih di sana?")
    sales = inbound(world.rt, "wamid.AWAY2", "6281111111111", "Siti", "halo")
    # Then the reconnect, sending Last-Event-ID as browsers do, starts with what she missed
    citra = sign_in_as(world, "citra")
    resp = citra.get("/api/stream", buffered=False, headers={"Last-Event-ID": str(last_seen)})
    text = b""
    for chunk in resp.response:
        text += chunk
        if b"event: changes" in text:
            break
    resp.close()
    event = text.decode().split("event: changes")[0].rsplit("\n\n", 1)[-1]
    assert event.startswith("id: ")
    changed = {c["conversation"] for line in text.decode().splitlines()
               if line.startswith('data: {"changes"')
               for c in json.loads(line[6:])["changes"]}
    assert billing in changed and sales not in changed

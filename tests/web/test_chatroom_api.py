"""The day's work through the API: find, read, answer, hand over, label, note, resolve."""

from __future__ import annotations

from datetime import timedelta

from appliance.clock import utcnow
from appliance.store.accounts import RateWindow
from appliance.store.chatroom import ChangeEvent, Note
from appliance.store.models import AuditEntry, Conversation, Message, Outbox
from appliance.store.numbers import CustomerWindow
from tests.web.conftest import inbound, sign_in_as


def test_an_agent_finds_a_customer_by_a_word_of_her_name_or_the_last_digits(world):
    dedi = sign_in_as(world, "dedi")
    sales = world.conversations["sales"]
    for query in ("Siti", "siti", "1111", "81111111111", "0811-1111-1111"):
        found = {c["id"] for c in dedi.post("/api/search", {"q": query})
                 .get_json()["conversations"]}
        assert sales in found, query
    # nothing of Billing, even when the words match
    assert dedi.post("/api/search", {"q": "Tono"}).get_json() == {"conversations": []}
    assert dedi.post("/api/search", {"q": "3333"}).get_json() == {"conversations": []}
    # a word that is only part of a word does not match (whole words only)
    assert dedi.post("/api/search", {"q": "Sit"}).get_json() == {"conversations": []}


def test_a_masked_number_cannot_be_completed_by_searching_digit_by_digit(world):
    # Given Dedi sees Siti's number masked as +62 811-****-1111
    dedi = sign_in_as(world, "dedi")
    # When he tries the digits to the left of the tail he can see, one search each
    answers = [dedi.post("/api/search", {"q": f"{d}1111"}) for d in "0123456789"]
    # Then no search tells him more than the mask shows: each says what to type instead
    assert {a.status_code for a in answers} == {422}
    assert all("last four digits" in a.get_json()["error"] for a in answers)
    assert dedi.post("/api/search", {"q": "111111111"}).status_code == 422


def test_a_search_is_audited_without_what_was_typed(world):
    dedi = sign_in_as(world, "dedi")
    before = AuditEntry.select().where(AuditEntry.action == "inbox.searched").count()
    dedi.post("/api/search", {"q": "Siti"})
    world.rt.read_audit and world.rt.read_audit.flush()
    entries = list(AuditEntry.select().where(AuditEntry.action == "inbox.searched")
                   .order_by(AuditEntry.seq))
    assert len(entries) == before + 1
    assert "Siti" not in entries[-1].target + entries[-1].detail
    assert entries[-1].actor == f"user:{world.users['dedi']}"


def test_searches_are_throttled_per_user(world):
    # Given an agent (or a script in her browser) searching far faster than a person types
    RateWindow.delete().execute()  # the other stories of this office searched too
    sari, dedi = sign_in_as(world, "sari"), sign_in_as(world, "dedi")
    answers = [sari.post("/api/search", {"q": f"nama{n}"}) for n in range(25)]
    # Then after twenty in a minute she is told to wait, and how long
    assert [a.status_code for a in answers[:20]] == [200] * 20
    assert answers[20].status_code == 429
    assert int(answers[20].headers["Retry-After"]) > 0
    assert "try again in" in answers[20].get_json()["error"]
    # And her colleague searches on as usual
    assert dedi.post("/api/search", {"q": "Siti"}).status_code == 200


def test_unread_counts_are_per_user_and_clear_when_read(world):
    convo = world.conversations["sales"]
    inbound(world.rt, "wamid.U1", "6281111111111", "Siti", "masih ada?")
    dedi, budi = sign_in_as(world, "dedi"), sign_in_as(world, "budi")

    def unread(browser):
        rows = browser.get("/api/conversations").get_json()["conversations"]
        return next(r["unread"] for r in rows if r["id"] == convo)

    assert unread(dedi) >= 1 and unread(budi) >= 1
    assert dedi.post(f"/api/conversations/{convo}/read").status_code == 200
    assert unread(dedi) == 0 and unread(budi) >= 1


def test_the_window_left_shows_and_closes_after_a_day(world):
    budi = sign_in_as(world, "budi")
    convo = world.conversations["sales"]
    row = next(r for r in budi.get("/api/conversations").get_json()["conversations"]
               if r["id"] == convo)
    assert 23 * 3600 < row["window_seconds_left"] <= 24 * 3600
    customer = world.customers["sales"]
    CustomerWindow.update(last_inbound_at=utcnow() - timedelta(hours=25)).where(
        CustomerWindow.customer == customer).execute()
    try:
        thread = budi.get(f"/api/conversations/{convo}").get_json()
        assert thread["conversation"]["window_seconds_left"] == 0
        refused = budi.post(f"/api/conversations/{convo}/reply", {"text": "halo"})
        assert refused.status_code == 422 and "template" in refused.get_json()["error"]
        ok = budi.post(f"/api/conversations/{convo}/template",
                       {"name": "order_update", "language": "id",
                        "parameters": ["Siti", "INV-9"]})
        assert ok.status_code == 202
        last = Message.select().where(Message.conversation == convo).order_by(
            Message.id.desc()).get()
        assert last.kind == "template" and Outbox.get(Outbox.message == last.id)
    finally:
        CustomerWindow.update(last_inbound_at=utcnow()).where(
            CustomerWindow.customer == customer).execute()


def test_a_conversation_is_transferred_with_a_note_and_leaves_the_agents_inbox(world):
    convo = inbound(world.rt, "wamid.T1", "6281555555555", "Joni", "salah divisi")
    Conversation.update(division=world.divisions["Sales"]).where(
        Conversation.id == convo).execute()
    dedi = sign_in_as(world, "dedi")
    resp = dedi.post(f"/api/conversations/{convo}/transfer",
                     {"division_id": world.divisions["Billing"], "note": "soal tagihan"})
    assert resp.status_code == 200
    assert dedi.get(f"/api/conversations/{convo}").status_code == 404
    citra = sign_in_as(world, "citra")
    thread = citra.get(f"/api/conversations/{convo}").get_json()
    assert [n["text"] for n in thread["notes"]] == ["soal tagihan"]
    assert thread["conversation"]["division"] == "Billing"
    assert ChangeEvent.select().where(ChangeEvent.conversation == convo,
                                      ChangeEvent.kind == "transferred").exists()


def test_an_agent_labels_notes_and_resolves_a_conversation(world):
    convo = world.conversations["sales"]
    dedi = sign_in_as(world, "dedi")
    assert dedi.post(f"/api/conversations/{convo}/labels",
                     {"labels": ["vip", "  komplain ", "vip"]}).get_json() == {
        "labels": ["komplain", "vip"]}
    # The inbox filters by the label's id: a label's words never go into a URL
    labels = {label["name"]: label["id"] for label in dedi.get("/api/labels").get_json()["labels"]}
    rows = dedi.get(f"/api/conversations?label={labels['vip']}").get_json()["conversations"]
    assert [r["id"] for r in rows] == [convo]
    assert dedi.get("/api/conversations?label=vip").status_code == 400
    # Citra of Billing is not offered Sales' labels, and filtering by one shows her nothing
    citra = sign_in_as(world, "citra")
    assert "vip" not in {label["name"] for label in citra.get("/api/labels").get_json()["labels"]}
    assert citra.get(f"/api/conversations?label={labels['vip']}").get_json()[
        "conversations"] == []
    assert dedi.post(f"/api/conversations/{convo}/notes",
                     {"text": "pelanggan lama, sabar"}).status_code == 201
    note = Note.select().order_by(Note.id.desc()).get()
    assert b"sabar" not in bytes(note.body_sealed)  # sealed like a message
    assert dedi.post(f"/api/conversations/{convo}/status", {"status": "resolved"}).status_code \
        == 200
    assert Conversation.get_by_id(convo).resolved_at is not None
    assert dedi.post(f"/api/conversations/{convo}/status", {"status": "open"}).status_code \
        == 200
    assert dedi.post(f"/api/conversations/{convo}/status", {"status": "gone"}).status_code \
        == 422


def test_an_agent_takes_a_conversation_but_cannot_give_it_to_someone_else(world):
    convo = world.conversations["sales"]
    dedi = sign_in_as(world, "dedi")
    me = world.users["dedi"]
    assert dedi.post(f"/api/conversations/{convo}/assign", {"assignee_id": me}).status_code \
        == 200
    assert dedi.post(f"/api/conversations/{convo}/assign",
                     {"assignee_id": world.users["sari"]}).status_code == 404
    budi = sign_in_as(world, "budi")  # a supervisor can, within the division
    assert budi.post(f"/api/conversations/{convo}/assign",
                     {"assignee_id": world.users["sari"]}).status_code == 200
    assert budi.post(f"/api/conversations/{convo}/assign",
                     {"assignee_id": world.users["citra"]}).status_code == 404  # Billing
    assert budi.post(f"/api/conversations/{convo}/assign", {"assignee_id": None}).status_code \
        == 200


def test_quick_replies_belong_to_a_division(world):
    budi, dedi, citra = (sign_in_as(world, n) for n in ("budi", "dedi", "citra"))
    sales = world.divisions["Sales"]
    assert budi.post("/api/quick-replies", {"division_id": sales, "shortcut": "/Terima-Kasih",
                                            "body": "Terima kasih sudah menghubungi kami!"}
                     ).status_code == 201
    listed = dedi.get(f"/api/quick-replies?division={sales}").get_json()["quick_replies"]
    assert [q["shortcut"] for q in listed] == ["terima-kasih"]
    assert citra.get(f"/api/quick-replies?division={sales}").get_json() == {"quick_replies": []}
    assert dedi.post("/api/quick-replies", {"division_id": sales, "shortcut": "x",
                                            "body": "y"}).status_code == 404


def test_an_attachment_is_sealed_and_queued(world):
    convo = world.conversations["sales"]
    dedi = sign_in_as(world, "dedi")
    picture = b"\xff\xd8\xff\xe0" + b"struk belanja" * 50
    assert dedi.upload(f"/api/conversations/{convo}/attachment", "struk.jpg", picture,
                       "image/jpeg").status_code == 202
    refused = dedi.upload(f"/api/conversations/{convo}/attachment", "x.exe", b"MZ",
                          "application/x-msdownload")
    assert refused.status_code == 422


def test_a_supervisors_report_shows_load_per_division_and_agent(world):
    rows = sign_in_as(world, "budi").get("/api/reports/summary").get_json()["divisions"]
    [sales] = rows
    assert sales["division"] == "Sales" and sales["open"] >= 1
    assert sales["waiting"] >= 1  # a customer wrote last


def test_opening_a_thread_is_recorded_as_who_read_what(world):
    convo = world.conversations["sales"]
    sign_in_as(world, "budi").get(f"/api/conversations/{convo}")
    entry = AuditEntry.select().where(AuditEntry.action == "conversation.read").order_by(
        AuditEntry.seq.desc()).get()
    assert (entry.actor, entry.target) == (f"user:{world.users['budi']}",
                                           f"conversation:{convo}")


def test_the_first_answer_is_timed(world):
    convo = inbound(world.rt, "wamid.F1", "6281666666666", "Nia", "halo")
    Conversation.update(division=world.divisions["Sales"]).where(
        Conversation.id == convo).execute()
    dedi = sign_in_as(world, "dedi")
    dedi.post(f"/api/conversations/{convo}/reply", {"text": "Halo kak"})
    dedi.post(f"/api/conversations/{convo}/reply", {"text": "Ada yang bisa dibantu?"})
    row = Conversation.get_by_id(convo)
    assert row.first_response_at is not None
    first = Message.select().where(Message.conversation == convo, Message.direction == "out") \
        .order_by(Message.id).first()
    assert first.author_id == world.users["dedi"]


def test_a_failed_reply_says_why_in_the_readers_language(world):
    from appliance.store.models import User

    convo = world.conversations["sales"]
    failed = Message.create(conversation=convo, direction="out", kind="text", status="failed",
                            error_code=131047, wamid="wamid.FAILED-LANG")
    budi = sign_in_as(world, "budi")

    def reason() -> str:
        lines = budi.get(f"/api/conversations/{convo}").get_json()["messages"]
        return next(line["failure"] for line in lines if line["id"] == failed.id)

    assert "24 jam" in reason()  # Indonesian by default
    User.update(language="en").where(User.id == world.users["budi"]).execute()
    try:
        assert "24 hours" in reason()
    finally:
        User.update(language="").where(User.id == world.users["budi"]).execute()


def test_template_values_whatsapp_would_refuse_are_caught_here_in_words(world):
    budi = sign_in_as(world, "budi")
    convo = world.conversations["sales"]
    for values, words in ((["Siti\nRahayu", "INV-9"], "line break"),
                          (["Siti", "INV\t9"], "tab"),
                          (["Siti", "INV      9"], "five spaces"),
                          (["Siti"], "needs 2 value"),
                          (["Siti", " "], "empty")):
        refused = budi.post(f"/api/conversations/{convo}/template",
                            {"name": "order_update", "language": "id", "parameters": values})
        assert refused.status_code == 422 and words in refused.get_json()["error"], values


def test_only_a_supervisor_sends_a_marketing_template(world):
    convo = world.conversations["sales"]
    body = {"name": "promo_lebaran", "language": "id", "parameters": ["Siti"]}
    refused = sign_in_as(world, "dedi").post(f"/api/conversations/{convo}/template", body)
    assert refused.status_code == 422 and "supervisor" in refused.get_json()["error"]
    assert sign_in_as(world, "budi").post(f"/api/conversations/{convo}/template", body
                                          ).status_code == 202


def test_a_template_that_is_not_approved_is_refused(world):
    refused = sign_in_as(world, "budi").post(
        f"/api/conversations/{world.conversations['sales']}/template",
        {"name": "made_up", "language": "id", "parameters": []})
    assert refused.status_code == 422 and "no approved template" in refused.get_json()["error"]

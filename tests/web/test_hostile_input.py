"""Bad input gets a clear 4xx, never a 500: cursors, ids and numbers as nobody should send them.

Before issue 11 (item 13), `before=2026-01-01|abc`, an id over 2^63 (SQLite's INTEGER
overflows), and digits that are digits only to Unicode ('²' passes str.isdigit(); U+0661,
an Arabic-Indic one, passes it and int() too) all ended in a 500. Malformed input is a
400 whose words say what is wrong, where, and what to do; an id that no row can have is
a 404, like any id that does not exist. Generated from the URL map: a new route must say
which numbers it reads, or this file fails.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from appliance.store.models import Conversation
from tests.web.conftest import World, sign_in_as

BIGGEST = 2**63 - 1  # SQLite's INTEGER
UNICODE_DIGITS = ["²", "\u0661", "\u0661\u0662", "\u0967\u0968"]  # superscript, Arabic, Devanagari
IDS_NO_ROW_CAN_HAVE = [str(BIGGEST + 1), "9" * 30, *UNICODE_DIGITS, "-1", "1e3", "0x1F"]
NUMBERS_NOBODY_WRITES: list[Any] = [*UNICODE_DIGITS, str(BIGGEST + 1), "9" * 30, "12abc", "1.5",
                                    "-1", " 7", 2**63, 10**30, -1, 1.5, True, [1], {"id": 1}]

# Every route, and the numbers it reads: (where, name). Routes not listed read none.
NUMERIC_FIELDS: dict[str, list[tuple[str, str]]] = {
    "api.list_conversations": [("query", "division"), ("query", "label"), ("query", "number")],
    "api.open_conversation": [("query", "before")],
    "api.quick_replies": [("query", "division")],
    "api.assign": [("body", "assignee_id")],
    "api.transfer": [("body", "division_id")],
    "api.save_quick_reply": [("body", "division_id")],
    "chatroom.dashboard": [("query", "days")],
    "admin.create_division": [("body", "retention_days")],
    "admin.update_division": [("body", "retention_days")],
    "admin.create_user": [("body", "divisions")],
    "admin.update_user": [("body", "divisions")],
    "automation.hours_page": [("query", "division")],
    "automation.hours": [("query", "division")],
    "automation.create_rule": [("body", "division_id")],
    "automation.update_rule": [("body", "division_id")],
    "automation.try_rules": [("body", "division_id")],
    "automation.save_hours": [("body", "division_id")],
    "automation.clear_hours": [("body", "division_id")],
    "automation.save_day": [("body", "division_id")],
    "automation.remove_day": [("body", "division_id")],
}
WITHOUT_NUMBERS = {
    "healthz", "auth.login_page", "auth.next_step", "auth.second_factor", "auth.enrol",
    "auth.password", "auth.password_strength", "auth.logout", "auth.language",
    "auth.my_sessions", "auth.end_session", "home.index", "api.mark_read", "api.reply",
    "api.send_template", "api.attach", "api.set_status", "api.set_labels", "api.add_note",
    "api.export", "api.search", "api.counts", "api.media", "api.customer", "api.edit_phone",
    "api.reveal_customer_phone", "api.reveal_message_text", "api.record_consent",
    "api.list_templates",
    "api.list_divisions", "api.list_labels", "api.list_numbers", "api.list_agents",
    "api.report", "api.stream",
    "admin.list_users", "admin.list_divisions",
    # HTML forms, not JSON: their numbers are tried in test_welcome_page.py
    "welcome.page", "welcome.publish_notice", "welcome.save_menu", "welcome.save_words",
    # (a rule's own numbers, its triggers' minutes and its actions' targets, are tried in
    #  test_automation_pages.py)
    "automation.rules_page", "automation.list_rules", "automation.delete_rule",
    "automation.move_rule",
    # HTML forms: their numbers (template, division, days, dates, prices) are tried in
    # test_broadcast_pages.py
    "broadcast.index", "broadcast.templates_page", "broadcast.sync_templates", "broadcast.new",
    "broadcast.campaign", "broadcast.import_csv", "broadcast.start", "broadcast.change",
    "broadcast.report_csv", "broadcast.progress", "broadcast.rates",
    # HTML forms of the DPO: their numbers and dates are tried in test_privacy_pages.py
    "privacy.queue_page", "privacy.record_request", "privacy.request_page", "privacy.answer",
    "privacy.customer_page", "privacy.customer_action", "privacy.download",
    "privacy.retention_page", "privacy.breaches_page", "privacy.breach_page",
    "privacy.breach_notified", "privacy.records_page", "privacy.records_json",
    "privacy.api_record",
}
WHO = {"api": "budi", "chatroom": "budi", "admin": "ayu",  # who may call each blueprint
       "automation": "budi", "privacy": "dewi"}


def endpoints(world: World) -> set[str]:
    return {r.endpoint for r in world.app.url_map.iter_rules() if r.endpoint != "static"}


def test_every_route_says_which_numbers_it_reads(world):
    listed = set(NUMERIC_FIELDS) | WITHOUT_NUMBERS
    assert endpoints(world) - listed == set(), "say which numbers the new route reads"
    assert listed - endpoints(world) == set(), "a route listed here no longer exists"


def test_an_id_in_an_address_that_no_row_can_have_is_a_404(world):
    # Given Budi, who may use every route of his division
    budi = sign_in_as(world, "budi")
    rules = [r for r in world.app.url_map.iter_rules() if "<int:" in r.rule]
    assert len(rules) >= 15
    for rule in rules:
        method = "GET" if "GET" in rule.methods else "POST"
        for value in [*IDS_NO_ROW_CAN_HAVE, str(BIGGEST)]:
            path = rule.rule
            for name in rule.arguments:
                path = path.replace(f"<int:{name}>", value)
            # When he sends it an id that cannot be a row's, in an otherwise good request
            if method == "GET":
                resp = budi.get(path, buffered=False)
            elif rule.endpoint == "api.attach":
                resp = budi.upload(path, "a.jpg", b"\xff\xd8\xff\xe0", "image/jpeg")
            else:
                resp = budi.post(path, {"reason": "cek data pelanggan", "text": "x",
                                        "status": "open", "labels": [], "division_id": 1,
                                        "q": "Siti", "phone": "0811", "name": "x"})
            resp.close()
            # Then it is not there: the same answer as for an id that does not exist
            assert resp.status_code == 404, f"{method} {path}: {resp.status_code}"


def _path(world: World, endpoint: str) -> str:
    rule = next(r for r in world.app.url_map.iter_rules() if r.endpoint == endpoint)
    ids = {"conversation_id": world.conversations["sales"], "user_id": world.users["citra"],
           "division_id": world.divisions["Support"], "customer_id": world.customers["sales"],
           "message_id": world.messages["sales"], "media_id": world.media["sales"],
           "rule_id": 1}
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<int:{name}>", str(ids[name]))
    return path


FIELD_CASES = [(endpoint, where, name, value) for endpoint, fields in NUMERIC_FIELDS.items()
               for where, name in fields for value in NUMBERS_NOBODY_WRITES
               if where == "body" or isinstance(value, str)]


@pytest.mark.parametrize(("endpoint", "where", "name", "value"), FIELD_CASES,
                         ids=[f"{e}-{n}-{v!r}" for e, _, n, v in FIELD_CASES])
def test_a_number_nobody_writes_is_refused_with_words_never_a_500(world, endpoint, where,
                                                                  name, value):
    # Given someone allowed to call the route
    browser = sign_in_as(world, WHO[endpoint.split(".")[0]])
    path = _path(world, endpoint)
    # When a number comes as no form of ours writes it
    if where == "query":
        resp = browser.get(path, query_string={name: value}, buffered=False)
    else:
        body: dict[str, Any] = {"name": "Divisi Uji", "username": "uji", "role": "agent",
                                "display_name": "Uji", "shortcut": "uji", "body": "halo",
                                "note": "catatan"}
        body[name] = [value] if name == "divisions" else value
        resp = browser.post(path, body)
    resp.close()
    # Then it is refused for what it is, and never with a 500
    assert resp.status_code < 500, f"{path} {name}={value!r}: {resp.status_code}"
    if endpoint == "chatroom.dashboard":  # a period it does not offer shows the default one
        assert resp.status_code == 200
    elif endpoint.startswith("api."):
        assert resp.status_code == 400, f"{path} {name}={value!r}: {resp.status_code}"
        words = resp.get_json()["error"]
        beyond_json = isinstance(value, int) and not isinstance(value, bool) and value > BIGGEST
        assert (str(BIGGEST) if beyond_json else name) in words, words


def test_a_number_too_big_for_the_database_anywhere_in_a_json_body_is_a_400(world):
    # Given every JSON route, and a body whose every number overflows SQLite's INTEGER
    huge = "9" * 25
    raw = ('{"assignee_id": %s, "division_id": %s, "retention_days": %s, "divisions": [%s],'
           ' "text": "halo", "q": "Siti", "status": "open", "labels": [], "note": "x",'
           ' "reason": "cek data pelanggan", "phone": "0811", "name": "x"}') % ((huge,) * 4)
    for rule in world.app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or "POST" not in rule.methods:
            continue
        browser = sign_in_as(world, WHO[rule.endpoint.split(".")[0]])
        path = _path(world, rule.endpoint)
        # When it is sent
        resp = browser.client.post(path, data=raw, headers={
            "Content-Type": "application/json", "X-CSRFToken": browser.csrf()})
        # Then it is refused as a body that cannot be read, never a 500
        assert resp.status_code < 500, f"{path}: {resp.status_code}"
        if rule.endpoint in NUMERIC_FIELDS:
            assert resp.status_code == 400, f"{path}: {resp.status_code}"


@pytest.mark.parametrize("cursor", [
    "2026-01-01|abc", "garbage", "2026-13-45|1", f"2026-01-01|{BIGGEST + 1}", "2026-01-01|²",
    "2026-01-01|\u0661", "|", "2026-01-01|-1"])
def test_an_inbox_cursor_it_did_not_give_is_refused_with_words(world, cursor):
    # Given Budi's inbox, paged by cursor
    budi = sign_in_as(world, "budi")
    # When the next page is asked with a cursor the inbox never gave
    resp = budi.get("/api/conversations", query_string={"before": cursor})
    # Then he is told what is wrong, where, and what to do
    assert resp.status_code == 400
    words = resp.get_json()["error"]
    assert "before" in words, words


def test_the_cursor_the_inbox_gave_still_pages(world):
    budi = sign_in_as(world, "budi")
    rows = budi.get("/api/conversations").get_json()["conversations"]
    first = rows[0]
    cursor = f"{Conversation.get_by_id(first['id']).last_message_at}|{first['id']}"
    page = budi.get("/api/conversations", query_string={"before": cursor})
    assert page.status_code == 200
    assert [r["id"] for r in page.get_json()["conversations"]] == [r["id"] for r in rows[1:]]


def test_a_body_that_is_not_json_of_an_object_is_refused_with_words(world):
    budi = sign_in_as(world, "budi")
    convo = world.conversations["sales"]
    for raw in ("[1, 2]", "{not json", '"text"'):
        resp = budi.client.post(f"/api/conversations/{convo}/notes", data=raw, headers={
            "Content-Type": "application/json", "X-CSRFToken": budi.csrf()})
        assert resp.status_code == 400, raw
        assert "JSON" in resp.get_json()["error"]
    assert budi.post(f"/api/conversations/{convo}/notes", {"text": "ok"}).status_code == 201


def _first_events(browser, headers: dict[str, str]) -> tuple[int, bytes]:
    """Opens the live stream in a thread of its own (the test client leaves a streamed
    request's context in the opening thread) and reads it up to its first tick."""
    got: dict[str, Any] = {}

    def read() -> None:
        resp = browser.get("/api/stream", buffered=False, headers=headers)
        text = b""
        for chunk in resp.response:
            text += chunk
            if b": tick" in text or b"event:" in text:
                break
        resp.close()
        got.update(status=resp.status_code, text=text)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    return got.get("status", 0), got.get("text", b"")


@pytest.mark.parametrize("last_event_id", [*UNICODE_DIGITS, "9" * 30, "-1", "abc"])
def test_a_live_stream_resumed_from_an_id_no_browser_sent_starts_from_now(world,
                                                                         last_event_id):
    # When a reconnect carries a Last-Event-ID no stream of ours ever gave
    status, text = _first_events(sign_in_as(world, "budi"), {"Last-Event-ID": last_event_id})
    # Then the stream simply starts from now
    assert status == 200
    assert text.startswith(b"retry: 3000") and b": tick" in text

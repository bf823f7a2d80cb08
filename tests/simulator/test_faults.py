"""Injected faults: the next N Graph calls fail the way Meta sometimes does."""

from __future__ import annotations

import time

import pytest

from tests.simulator.conftest import PHONE_ID, error_of

PHONE = "6281234567890"


@pytest.mark.parametrize(("kind", "http", "code"), [
    ("http_500", 500, 131000), ("http_503", 503, 131016), ("rate_limit", 400, 130429),
    ("token_expired", 401, 190)])
def test_the_next_calls_fail_the_injected_way_then_recover(api, siti, kind, http, code):
    # Given two faults on the messages edge
    api.control("POST", "faults", {"path": "messages", "kind": kind, "count": 2}, expect=200)
    # When Gembok sends three times
    answers = [api.text(PHONE) for _ in range(3)]
    # Then the first two fail that way and the third goes through
    assert [r.status_code for r in answers] == [http, http, 200]
    assert error_of(answers[0])["code"] == code
    assert api.control("GET", "faults")["faults"] == []


def test_an_expired_token_carries_graph_s_subcode(api, siti):
    api.control("POST", "faults", {"path": "any", "kind": "token_expired"}, expect=200)
    error = error_of(api.graph("GET", f"/v25.0/{PHONE_ID}"))
    assert (error["code"], error["error_subcode"]) == (190, 463)


def test_a_fault_on_media_leaves_messages_alone(api, siti):
    api.control("POST", "faults", {"path": "media", "kind": "http_500"}, expect=200)
    assert api.text(PHONE).status_code == 200
    assert api.graph("GET", "/v25.0/123456789").status_code == 500


def test_a_timeout_answers_late_but_the_message_still_goes_out(api, siti):
    # Given a timeout fault, shortened for the test
    api.control("POST", "faults", {"path": "messages", "kind": "timeout",
                                   "delay_seconds": 0.05}, expect=200)
    # When Gembok sends
    started = time.monotonic()
    response = api.text(PHONE)
    # Then the answer is late, and the message was really sent (a lost answer, not a loss)
    assert time.monotonic() - started >= 0.05
    assert response.status_code == 200
    assert len(api.control("GET", f"customers/{PHONE}/inbox")["messages"]) == 1


@pytest.mark.parametrize("body", [{"path": "everywhere", "kind": "http_500"},
                                  {"path": "any", "kind": "gremlins"},
                                  {"path": "any", "kind": "http_500", "count": 0}])
def test_a_bad_fault_request_is_refused(api, body):
    assert "error" in api.control("POST", "faults", body, expect=400)

"""WhatsApp's 24-hour window, as the Chatroom shows it and the outbox enforces it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from appliance.inbox import window

NOON = datetime(2026, 12, 4, 5, 0, tzinfo=UTC)  # noon in Jakarta


def test_a_customer_who_wrote_a_minute_short_of_a_day_ago_can_still_be_answered_freely():
    wrote = NOON - timedelta(hours=23, minutes=59)
    assert window.is_open(wrote, NOON)
    assert window.seconds_left(wrote, NOON) == 60


def test_a_day_after_the_customers_last_message_only_a_template_may_be_sent():
    wrote = NOON - timedelta(hours=24)
    assert not window.is_open(wrote, NOON)
    assert window.seconds_left(wrote, NOON) == 0


def test_a_customer_who_never_wrote_has_no_window():
    assert not window.is_open(None, NOON)
    assert window.seconds_left(None, NOON) == 0

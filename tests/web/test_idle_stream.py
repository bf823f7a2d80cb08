"""A Chatroom left open on a desk signs out after the idle time, live stream or not.

Before issue 11 (item 11), the live stream checked revocation and the absolute timeout
only: a tab left open kept its session for 12 hours. An open stream is not activity;
only the user's own requests are.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import time_machine

from appliance.auth import sessions
from appliance.store.accounts import UserSession
from appliance.store.models import User
from tests.web.conftest import make_user, sign_in_as


class Stream:
    """The browser's EventSource: opened and read in a thread of its own until it ends.

    (Opened in that thread because Flask's test client leaves a streamed request's context
    pushed in the thread that opened it: the next requests there would reuse its `g`.)
    """

    def __init__(self, browser) -> None:
        self.browser = browser
        self.text = b""
        self.status = 0
        self.opened, self.ended, self.leaving = (threading.Event() for _ in range(3))
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        assert self.opened.wait(5) and self.status == 200

    def _read(self) -> None:
        self.resp = self.browser.get("/api/stream", buffered=False)
        self.status = self.resp.status_code
        self.opened.set()
        for chunk in self.resp.response:
            self.text += chunk
            if b"event: end" in chunk:
                self.ended.set()
                break
            if self.leaving.is_set():
                break
        self.resp.close()

    def ticks(self) -> int:
        return self.text.count(b": tick")

    def close(self) -> None:
        """As the browser leaving the page: stop reading (at the next tick) and hang up."""
        self.leaving.set()
        self.reader.join(5)


def last_seen(name: str, world) -> datetime:
    user = world.users[name]
    return UserSession.select().where(UserSession.user == user).order_by(
        UserSession.id.desc()).get().last_seen_at


def test_a_chatroom_left_open_signs_out_after_the_idle_time_although_its_stream_is_open(world):
    idle = timedelta(minutes=world.rt.settings.auth.idle_minutes)
    with time_machine.travel(datetime.now(UTC), tick=True) as clock:
        # Given Yuni, signed in with the Chatroom open (its live stream too)
        make_user(world, "yuni")
        yuni = sign_in_as(world, "yuni")
        stream = Stream(yuni)
        try:
            # When she works a while (her own request), then leaves for lunch
            clock.shift(idle * 2 / 3)
            assert yuni.get("/api/counts").status_code == 200
            worked_at = last_seen("yuni", world)
            clock.shift(idle * 2 / 3)  # more than the idle time since she signed in
            time.sleep(2.5)
            # Then the stream goes on while her last request is recent enough, and its
            # ticks, and its reconnects, are not her activity
            assert not stream.ended.is_set() and stream.ticks() >= 1
            again = Stream(yuni)
            time.sleep(1.2)
            again.close()
            assert last_seen("yuni", world) == worked_at

            # When the idle time has passed since her last request
            clock.shift(idle / 3 + timedelta(minutes=1))
            # Then the stream ends within seconds, telling the page to go to sign in
            assert stream.ended.wait(5), "the stream outlived the idle timeout"
            assert b"event: end" in stream.text
        finally:
            stream.close()
        # And her session is over: the next request is refused
        assert yuni.get("/api/counts").status_code == 401


def test_a_session_idle_too_long_is_ended_by_the_streams_own_check(world):
    # Given a session whose user last did something more than the idle time ago
    make_user(world, "yosef")
    user = User.get_by_id(world.users["yosef"])
    auth = world.rt.settings.auth
    token = sessions.create(user, auth, ip="192.168.1.9", user_agent="pytest",
                            second_factor_done=True)
    row = UserSession.get(UserSession.token_hash == sessions.token_hash(token))
    assert sessions.still_valid(row.id, auth)
    UserSession.update(last_seen_at=row.last_seen_at - timedelta(minutes=auth.idle_minutes,
                                                                 seconds=1)).where(
        UserSession.id == row.id).execute()
    # When the stream asks whether it may go on
    # Then it may not, and the session is ended for good (not only this stream)
    assert not sessions.still_valid(row.id, auth)
    assert UserSession.get_by_id(row.id).revoked_at is not None
    assert sessions.resolve(token, auth) is None


def test_the_pages_own_refreshes_after_a_live_change_are_not_activity(world):
    idle = timedelta(minutes=world.rt.settings.auth.idle_minutes)
    with time_machine.travel(datetime.now(UTC), tick=True) as clock:
        # Given Yanti, signed in, whose tab reloads the list after every live change
        make_user(world, "yanti")
        yanti = sign_in_as(world, "yanti")
        assert yanti.get("/api/counts").status_code == 200
        worked_at = last_seen("yanti", world)
        clock.shift(idle / 2)
        # When the page refreshes itself (marked as such) in a busy office
        quiet = {"X-Gembok-Background": "1"}
        assert yanti.get("/api/conversations", headers=quiet).status_code == 200
        assert yanti.get("/api/counts", headers=quiet).status_code == 200
        # Then her session still counts from her own last request
        assert last_seen("yanti", world) == worked_at
        clock.shift(idle / 2 + timedelta(minutes=1))
        assert yanti.get("/api/counts", headers=quiet).status_code == 401

"""A staff account's secrets: checked exactly, changed only with the old one, never swapped
by a session, reset by an admin without losing the second factor, and sessions that end
on the server when their user signs out.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp

from appliance.auth import sessions, totp
from appliance.auth.passwords import verify_password
from appliance.clock import utcnow
from appliance.store.accounts import LoginThrottle, UserSession
from appliance.store.models import AuditEntry, User
from tests.web.conftest import PASSWORD, Browser, World, make_user, sign_in_as

NEW_PASSWORD = "gado gado bumbu kacang pedas manis"


def sign_in(browser: Browser, name: str, password: str = PASSWORD):
    browser.get("/login")
    return browser.form("/login", {"username": name, "password": password})


def sid(browser: Browser) -> str | None:
    with browser.client.session_transaction() as stored:
        return stored.get("sid")


def with_second_factor(world: World, name: str) -> tuple[User, str]:
    """A supervisor of Sales who enrolled her phone; returns her and the TOTP secret."""
    user = make_user(world, name, role="supervisor")
    totp.start_enrolment(world.rt, user)
    secret = totp._secret(world.rt, User.get_by_id(user.id))
    now = time.time()
    codes = totp.confirm_enrolment(world.rt, User.get_by_id(user.id),
                                   pyotp.TOTP(secret).at(now - 30), now=now)
    assert codes and len(set(codes)) == 10
    return User.get_by_id(user.id), secret


def test_a_password_change_needs_the_current_password(world):
    # Given Agus signed in, and someone at his unlocked desk
    agus = make_user(world, "agus")
    browser = Browser(world.app, None)
    sign_in(browser, "agus")
    # When they try to set a new password without knowing the current one
    page = browser.form("/account/password", {"current": "a guess at the password",
                                              "new": NEW_PASSWORD})
    # Then nothing changes, and his password is still his
    assert page.status_code == 200
    assert verify_password(User.get_by_id(agus.id).password_hash, PASSWORD)
    assert not verify_password(User.get_by_id(agus.id).password_hash, NEW_PASSWORD)


def test_the_password_is_checked_exactly_as_typed(world):
    make_user(world, "bagas")
    # Not folded to lower or upper case, not trimmed, not cut short
    for near_miss in (PASSWORD.upper(), PASSWORD.title(), PASSWORD + " ", " " + PASSWORD,
                      PASSWORD[:-1], PASSWORD[:20]):
        assert sign_in(Browser(world.app, None), "bagas", near_miss).status_code == 401, \
            repr(near_miss)
        LoginThrottle.delete().execute()  # each miss is judged alone, not slowed down
    assert sign_in(Browser(world.app, None), "bagas", PASSWORD).status_code == 302


def test_a_password_set_years_ago_is_never_forced_to_change(world):
    # Given Candra, whose password is three years old and was never found in a breach
    candra = make_user(world, "candra")
    User.update(password_changed_at=utcnow() - timedelta(days=3 * 365)).where(
        User.id == candra.id).execute()
    browser = Browser(world.app, None)
    # When she signs in, then she goes straight to work
    assert sign_in(browser, "candra").status_code == 302
    assert browser.get("/login/next").headers["Location"].endswith("/")
    assert browser.get("/api/counts").status_code == 200


def test_signing_out_ends_the_session_on_the_server_not_only_in_the_browser(world):
    # Given Dani signed in, and a copy of his session cookie (a shared PC, a proxy's log)
    make_user(world, "dani")
    browser = Browser(world.app, None)
    sign_in(browser, "dani")
    copied = browser.client.get_cookie("gembok_session").value
    # When he signs out
    assert browser.form("/logout", {}).status_code == 302
    # Then the copy opens nothing
    thief = Browser(world.app, None)
    thief.client.set_cookie("gembok_session", copied, domain="localhost")
    assert thief.get("/api/counts").status_code == 401
    assert UserSession.select().where(UserSession.user == world.users["dani"],
                                      UserSession.revoked_at.is_null()).count() == 0


def test_each_sign_in_starts_a_new_random_session_token(world):
    # Given a browser that already held a session before signing in (planted, or old)
    make_user(world, "eka")
    browser = Browser(world.app, None)
    with browser.client.session_transaction() as planted:
        planted["sid"] = "chosen-by-an-attacker"
    # When Eka signs in twice from it
    sign_in(browser, "eka")
    first = sid(browser)
    browser.form("/logout", {})
    sign_in(browser, "eka")
    second = sid(browser)
    # Then each sign-in made its own token: long, random, and never the planted one
    assert first and second and len({first, second, "chosen-by-an-attacker"}) == 3
    assert all(len(t) >= 43 for t in (first, second))  # 32 bytes from `secrets`: 256 bits
    # And the database holds only their hashes, not the tokens
    stored = {s.token_hash for s in UserSession.select().where(
        UserSession.user == world.users["eka"])}
    assert first not in stored and sessions.token_hash(first) in stored


def test_a_second_factor_in_force_cannot_be_replaced_from_a_session(world):
    # Given Fitri's phone enrolled, and a session of hers in a thief's hands
    fitri, _ = with_second_factor(world, "fitri")
    before = bytes(fitri.totp_secret_sealed)
    thief = sign_in_as(world, "fitri")
    # When the thief asks to enrol a phone of their own
    started = thief.form("/account/second-factor", {"step": "start"})
    confirmed = thief.form("/account/second-factor", {"step": "confirm", "code": "123456"})
    # Then nothing is offered: the factor in force stays, only an admin can reset it
    assert started.status_code == confirmed.status_code == 302
    assert "<svg" not in started.get_data(as_text=True)
    assert bytes(User.get_by_id(fitri.id).totp_secret_sealed) == before


def test_an_admins_password_reset_keeps_the_second_factor(world):
    # Given Gita, a supervisor with a second factor, who forgot her password
    gita, secret = with_second_factor(world, "gita")
    old = sign_in_as(world, "gita")
    # When Ayu the admin gives her a one-time password
    answer = sign_in_as(world, "ayu").post(f"/api/admin/users/{gita.id}",
                                           {"reset_password": True})
    one_time = answer.get_json()["one_time_password"]
    # Then her sessions are over, and the one-time password alone does not let anyone in:
    # the second factor is still asked, before the new password is set
    assert old.get("/api/counts").status_code == 401
    browser = Browser(world.app, None)
    assert sign_in(browser, "gita", one_time).status_code == 302
    assert browser.get("/login/next").headers["Location"].endswith("/login/second-factor")
    assert browser.get("/account/password").headers["Location"].endswith("/login/next")
    assert browser.get("/api/counts").status_code == 404
    done = browser.form("/login/second-factor", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302
    assert browser.get("/login/next").headers["Location"].endswith("/account/password")


def test_a_lost_phone_is_reset_by_an_admin_and_enrolled_again(world):
    # Given Hari, a supervisor whose phone was lost, still signed in somewhere
    hari, _ = with_second_factor(world, "hari")
    somewhere = sign_in_as(world, "hari")
    # When Ayu the admin resets his second factor
    ayu = sign_in_as(world, "ayu")
    assert ayu.post(f"/api/admin/users/{hari.id}", {"reset_second_factor": True}
                    ).status_code == 200
    # Then every session of his is over, the reset is in the audit log,
    assert somewhere.get("/api/counts").status_code == 401
    entry = AuditEntry.select().where(AuditEntry.action == "auth.totp_reset").order_by(
        AuditEntry.seq.desc()).get()
    assert (entry.actor, entry.target) == (f"user:{world.users['ayu']}", f"user:{hari.id}")
    # and his next sign-in enrols a new phone before anything else
    browser = Browser(world.app, None)
    sign_in(browser, "hari")
    assert browser.get("/login/next").headers["Location"].endswith("/account/second-factor")
    assert browser.get("/api/counts").status_code == 404


def test_recovery_codes_are_ten_different_codes_of_ten_random_characters(world):
    user = make_user(world, "joni", role="supervisor")
    totp.start_enrolment(world.rt, user)
    secret = totp._secret(world.rt, User.get_by_id(user.id))
    codes = totp.confirm_enrolment(world.rt, User.get_by_id(user.id), pyotp.TOTP(secret).now())
    # Ten characters of a 31-letter alphabet each: about 49 bits, far above the 20 asked
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}", c) for c in codes), codes
    assert len(set(totp._ALPHABET)) == 31


def test_a_totp_code_lives_one_step_and_its_neighbours_only(world):
    user, secret = with_second_factor(world, "indah")
    now = time.time() + 300  # steps the enrolment did not use
    code = pyotp.TOTP(secret)
    # Two steps (a minute) old, or two ahead: refused
    assert not totp.verify(world.rt, User.get_by_id(user.id), code.at(now - 60), now=now)
    assert not totp.verify(world.rt, User.get_by_id(user.id), code.at(now + 60), now=now)
    # One step of clock drift is forgiven (RFC 6238, section 6); the current one works
    assert totp.verify(world.rt, User.get_by_id(user.id), code.at(now - 30), now=now)
    assert totp.verify(world.rt, User.get_by_id(user.id), code.at(now), now=now)


def test_the_pages_with_the_account_bar_offer_sign_out(world):
    # (the password and second-factor pages have no bar yet: docs/security/asvs.md, 7.4.4)
    budi = sign_in_as(world, "budi")
    for path in ("/", "/dashboard", "/account/sessions"):
        html = budi.get(path).get_data(as_text=True)
        assert re.search(r'<form method="post" action="/logout"', html), path
    ayu = sign_in_as(world, "ayu").get("/").get_data(as_text=True)
    assert 'action="/logout"' in ayu


def test_password_fields_are_masked_and_password_managers_may_fill_them(world):
    pages = {"/login": sign_in_as(world, None), "/account/password": sign_in_as(world, "dedi")}
    for path, browser in pages.items():
        html = browser.get(path).get_data(as_text=True)
        fields = re.findall(r'<input name="(password|current|new)"[^>]*>', html)
        tags = re.findall(r'<input name="(?:password|current|new)"[^>]*>', html)
        assert fields and all('type="password"' in tag for tag in tags), path
        assert all(re.search(r'autocomplete="(current|new)-password"', tag) for tag in tags)
        assert not re.search(r'autocomplete="off"|onpaste|oncopy|ondrop', html), path
    from pathlib import Path

    script = (Path(__file__).resolve().parents[2] / "webui/static/js/password.js").read_text()
    assert "paste" not in script and "preventDefault" not in script

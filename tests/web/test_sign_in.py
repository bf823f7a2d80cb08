"""Signing in: passwords that resist guessing, a second factor, sessions that end when they must."""

from __future__ import annotations

import email
import email.policy
import re
import time
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pyotp
import pytest

from appliance.auth import login, sessions, totp
from appliance.auth.users import create_user
from appliance.clock import utcnow
from appliance.config import load_settings
from appliance.runtime import Runtime
from appliance.store.accounts import LoginEvent, LoginThrottle, UserSession
from appliance.store.models import AuditEntry, User
from tests.web.conftest import PASSWORD, Browser, make_user, sign_in_as

# A passphrase of 262 characters, cut to the length a test needs (issue 11, item 10).
LONG = ("kopi tubruk sore hujan gerimis di warung pojok jalan melati nomor tujuh belas, "
        "dekat pasar baru yang ramai setiap minggu pagi sebelum toko buka jam delapan; "
        "lalu kami pulang naik becak kuning lewat jembatan tua sambil makan pisang goreng "
        "hangat dan tertawa keras")


def sign_in(browser: Browser, name: str, password: str = PASSWORD):
    browser.get("/login")
    return browser.form("/login", {"username": name, "password": password})


def test_an_agent_signs_in_and_out(world):
    make_user(world, "tari")
    browser = Browser(world.app, None)
    resp = sign_in(browser, "tari")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login/next")
    assert browser.get("/login/next").headers["Location"].endswith("/")
    assert browser.get("/").status_code == 200
    cookie = browser.client.get_cookie("gembok_session")
    assert cookie.secure and cookie.http_only and cookie.same_site == "Lax"
    assert browser.form("/logout", {}).status_code == 302
    assert browser.get("/").status_code == 302  # back to the sign-in page


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(world, monkeypatch):
    make_user(world, "wawan")
    checked = []
    real = login.verify_password
    monkeypatch.setattr(login, "verify_password", lambda h, p: checked.append(1) or real(h, p))
    wrong = sign_in(Browser(world.app, None), "wawan", "not the password at all")
    unknown = sign_in(Browser(world.app, None), "nobody-here", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    def page(resp):
        return re.sub(r'(content|value)="[^"]+"', "", resp.get_data(as_text=True))  # no tokens

    assert page(wrong) == page(unknown)
    assert len(checked) == 2  # an unknown name costs the same argon2 check


def test_a_brute_force_from_many_addresses_is_slowed_but_the_owner_still_gets_in(world):
    owner = make_user(world, "yanti")
    # Given the owner's own browser, known from an earlier sign-in
    own = Browser(world.app, None)
    assert sign_in(own, "yanti").status_code == 302
    own.form("/logout", {})
    # When 1,000 guesses come from 1,000 addresses
    refused = 0
    for n in range(1000):
        attacker = login.Attempt("yanti", f"guess number {n:04d} x", f"10.{n // 250}.{n % 250}.9",
                                 "curl/8", f"attacker-device-{n}")
        outcome = login.sign_in(world.rt, attacker)
        assert not outcome.ok
        refused += outcome.wait_seconds > 0
    # Then almost all were turned away without even checking the password
    assert refused >= 990
    row = LoginThrottle.get(LoginThrottle.key == login.throttle.account_key("yanti"))
    assert row.blocked_until > utcnow()
    # and the owner, from her own browser, still signs in at once
    resp = sign_in(own, "yanti")
    assert resp.status_code == 302, "the owner was locked out by an attacker"
    assert User.get_by_id(owner.id).is_active


def test_the_back_off_ends_so_no_account_is_locked_for_good(world):
    make_user(world, "budiman")
    for n in range(8):
        login.sign_in(world.rt, login.Attempt("budiman", f"wrong {n} xxxxxxxxxx", "10.9.9.9",
                                               "curl", "dev-x"))
    LoginThrottle.update(blocked_until=utcnow() - timedelta(seconds=1)).execute()
    outcome = login.sign_in(world.rt, login.Attempt("budiman", PASSWORD, "10.9.9.8", "ua",
                                                    "a-new-device"))
    assert outcome.ok


def test_after_a_password_change_the_old_session_is_refused(world):
    make_user(world, "heri")
    laptop, phone = Browser(world.app, None), Browser(world.app, None)
    sign_in(laptop, "heri")
    sign_in(phone, "heri")
    assert phone.get("/api/counts").status_code == 200
    resp = laptop.form("/account/password", {"current": PASSWORD,
                                             "new": "nasi goreng kambing pedas sekali"})
    assert resp.status_code == 302
    assert phone.get("/api/counts").status_code == 401  # the other session is gone
    assert laptop.get("/api/counts").status_code == 200  # the one that changed it stays


@pytest.mark.parametrize(("new", "problem"), [
    ("pendek", "at least 15 characters"),
    ("qazwsxedcrfvtgb", "most common"),
    ("irma gembok rahasia", "your name, e-mail or the word Gembok"),
    ("aaaaaaaaaaaaaaaaaaaaa", "too easy to guess"),
])
def test_a_weak_new_password_is_refused_with_the_reason(world, new, problem):
    make_user(world, f"irma{len(new)}")
    browser = Browser(world.app, None)
    sign_in(browser, f"irma{len(new)}")
    page = browser.form("/account/password", {"current": PASSWORD, "new": new})
    assert page.status_code == 200 and problem in page.get_data(as_text=True)


def test_the_strength_meter_answers_as_the_user_types(world):
    dedi = sign_in_as(world, "dedi")
    weak = dedi.post("/account/password/strength", {"password": "password123"}).get_json()
    strong = dedi.post("/account/password/strength",
                       {"password": "kerupuk udang goreng renyah pagi"}).get_json()
    assert weak["score"] < strong["score"] and weak["problems"] and not strong["problems"]


def new_agent(world, name: str) -> tuple[Browser, str]:
    """A new agent of Sales at the first sign-in, with the one-time password she was given."""
    _, one_time = create_user(world.rt, username=name, display_name=name.title(),
                              role="agent", actor="system", email=f"{name}@toko.example",
                              divisions=[world.divisions["Sales"]])
    browser = Browser(world.app, None)
    assert sign_in(browser, name, one_time).status_code == 302
    return browser, one_time


@pytest.mark.parametrize("length", [100, 128])
def test_a_long_passphrase_is_set_at_the_first_sign_in_and_opens_the_door(world, length):
    # Given Lestari, a new agent who types whole sentences as passwords
    name = f"lestari{length}"
    browser, one_time = new_agent(world, name)
    # When she replaces her one-time password with a passphrase of 100 or 128 characters
    changed = browser.form("/account/password", {"current": one_time, "new": LONG[:length]})
    # Then it is taken (not a 500: zxcvbn refuses anything over 72 characters)
    assert changed.status_code == 302 and changed.headers["Location"].endswith("/")
    # And it is her password from now on
    browser.form("/logout", {})
    assert sign_in(browser, name, LONG[:length]).status_code == 302
    assert browser.get("/api/counts").status_code == 200


def test_a_129_character_password_is_refused_with_words(world):
    browser, one_time = new_agent(world, "lestari129")
    page = browser.form("/account/password", {"current": one_time, "new": LONG[:129]})
    assert page.status_code == 200
    assert "Use at most 128 characters." in page.get_data(as_text=True)
    assert User.get(User.username == "lestari129").must_change_password


@pytest.mark.parametrize("length", [72, 73, 100, 128, 129, 200, 256])
def test_the_strength_meter_answers_for_every_length_up_to_256(world, length):
    # Given Dedi, pasting a long passphrase into the password form
    dedi = sign_in_as(world, "dedi")
    answer = dedi.post("/account/password/strength", {"password": LONG[:length]})
    # Then the meter answers: a long passphrase is strong, and over 128 the words say why not
    assert answer.status_code == 200
    rating = answer.get_json()
    assert rating["score"] == 4
    assert rating["problems"] == ([] if length <= 128 else ["Use at most 128 characters."])


def test_the_strength_meter_does_not_rate_more_than_256_characters(world):
    dedi = sign_in_as(world, "dedi")
    assert dedi.post("/account/password/strength",
                     {"password": LONG[:257]}).status_code == 400


def test_a_supervisor_must_enrol_the_second_factor_then_change_the_one_time_password(world):
    # Given a new supervisor with a one-time password
    user, one_time = create_user(world.rt, username="rina", display_name="Rina",
                                 role="supervisor", actor="system",
                                 divisions=[world.divisions["Sales"]])
    browser = Browser(world.app, None)
    assert sign_in(browser, "rina", one_time).status_code == 302
    # Then nothing but enrolment is open to her
    assert browser.get("/api/counts").status_code == 404
    assert browser.get("/login/next").headers["Location"].endswith("/account/second-factor")
    start = browser.form("/account/second-factor", {"step": "start"})
    assert "<svg" in start.get_data(as_text=True)
    secret = totp._secret(world.rt, User.get_by_id(user.id))
    codes_page = browser.form("/account/second-factor",
                              {"step": "confirm", "code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<code>([a-z0-9-]+)</code>", codes_page.get_data(as_text=True))
    assert len(codes) == 10
    # Then the one-time password must go before anything else
    assert browser.get("/login/next").headers["Location"].endswith("/account/password")
    changed = browser.form("/account/password", {"current": one_time,
                                                 "new": "teh manis dingin di warung"})
    assert changed.status_code == 302
    assert browser.get("/api/counts").status_code == 200


def test_a_totp_code_works_once_and_a_recovery_code_works_once(world):
    user = make_user(world, "sinta", role="supervisor")
    totp.start_enrolment(world.rt, user)
    secret = totp._secret(world.rt, User.get_by_id(user.id))
    now = time.time()
    codes = totp.confirm_enrolment(world.rt, User.get_by_id(user.id),
                                   pyotp.TOTP(secret).at(now - 30), now=now)
    fresh = User.get_by_id(user.id)
    code = pyotp.TOTP(secret).at(now)
    assert totp.verify(world.rt, fresh, code, now=now)
    assert not totp.verify(world.rt, User.get_by_id(user.id), code, now=now)  # replayed
    assert totp.verify(world.rt, User.get_by_id(user.id), codes[0])
    assert not totp.verify(world.rt, User.get_by_id(user.id), codes[0])


def test_a_second_factor_is_asked_of_an_enrolled_user_and_guessing_it_is_throttled(world):
    user = make_user(world, "wulan", role="supervisor")
    totp.start_enrolment(world.rt, user)
    secret = totp._secret(world.rt, User.get_by_id(user.id))
    totp.confirm_enrolment(world.rt, User.get_by_id(user.id), pyotp.TOTP(secret).now())
    browser = Browser(world.app, None)
    sign_in(browser, "wulan")
    assert browser.get("/login/next").headers["Location"].endswith("/login/second-factor")
    for n in range(6):
        page = browser.form("/login/second-factor", {"code": f"{n:06d}"})
    assert "Coba lagi dalam" in page.get_data(as_text=True)


def test_idle_and_absolute_timeouts_end_a_session(world):
    make_user(world, "fajar")
    browser = Browser(world.app, None)
    sign_in(browser, "fajar")
    assert browser.get("/api/counts").status_code == 200
    UserSession.update(last_seen_at=utcnow() - timedelta(minutes=31)).where(
        UserSession.user == User.get(User.username == "fajar").id).execute()
    assert browser.get("/api/counts").status_code == 401
    sign_in(browser, "fajar")
    UserSession.update(expires_at=utcnow() - timedelta(seconds=1)).where(
        UserSession.user == User.get(User.username == "fajar").id,
        UserSession.revoked_at.is_null()).execute()
    assert browser.get("/api/counts").status_code == 401


def test_a_user_sees_and_ends_their_own_sessions_but_not_others(world):
    user = make_user(world, "gita")
    first, second = Browser(world.app, None), Browser(world.app, None)
    sign_in(first, "gita")
    sign_in(second, "gita")
    page = first.get("/account/sessions").get_data(as_text=True)
    mine = sessions.active(user.id)
    assert len(mine) == 2 and "ini" in page
    other = next(s for s in mine if f"/account/sessions/{s.id}/end" in page)
    assert first.form(f"/account/sessions/{other.id}/end", {}).status_code == 302
    assert second.get("/api/counts").status_code == 401
    # Someone else's session cannot be ended from her page
    sign_in_as(world, "dedi")
    stranger = (UserSession.select().where(UserSession.user == world.users["dedi"])
                .order_by(UserSession.id.desc()).first())
    assert first.form(f"/account/sessions/{stranger.id}/end", {}).status_code == 404


def test_a_form_without_its_csrf_token_is_refused(world):
    make_user(world, "hadi")
    browser = Browser(world.app, None)
    sign_in(browser, "hadi")
    resp = browser.client.post("/account/password", data={"current": PASSWORD, "new": "x"})
    assert resp.status_code == 400
    resp = browser.client.post(f"/api/conversations/{world.conversations['sales']}/reply",
                               json={"text": "hai"})
    assert resp.status_code == 400


def test_a_sign_in_from_a_new_browser_emails_the_user(world, smtpd):
    make_user(world, "nina")
    settings = load_settings({"GEMBOK_DATA_DIR": str(world.rt.settings.data_dir),
                              "GEMBOK_SMTP_HOST": "127.0.0.1",
                              "GEMBOK_SMTP_PORT": str(smtpd.port),
                              "GEMBOK_SMTP_CA_FILE": str(smtpd.ca_file)})
    world.app.extensions["gembok"] = Runtime(settings, world.rt.keyring, world.rt.index)
    try:
        browser = Browser(world.app, None)
        browser.client.environ_base["HTTP_USER_AGENT"] = (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36")
        sign_in(browser, "nina")
        browser.form("/logout", {})
        sign_in(browser, "nina")  # the same browser again: no second e-mail
    finally:
        world.app.extensions["gembok"] = world.rt
    [mail] = smtpd.handler.messages
    parsed = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert mail.rcpt_tos == ["nina@toko.example"]
    assert parsed["Subject"] == "Gembok: sign-in from a new browser"
    text = parsed.get_content()
    assert browser.client.environ_base["REMOTE_ADDR"] in text
    assert "Chrome 156 on Linux" in text and "Asia/Jakarta" in text


def with_second_factor(world, name: str) -> str:
    """A supervisor of Sales who enrolled her phone: the TOTP secret it holds."""
    user = make_user(world, name, role="supervisor")
    totp.start_enrolment(world.rt, user)
    secret = totp._secret(world.rt, User.get_by_id(user.id))
    now = time.time()
    totp.confirm_enrolment(world.rt, User.get_by_id(user.id), pyotp.TOTP(secret).at(now - 30),
                           now=now)  # the step before: this step's code still works once
    return secret


def test_a_correct_password_from_a_new_device_emails_the_owner_before_the_second_factor(
        world, mailbox):
    # Given Maya, a supervisor with a second factor, whose password a thief has learnt
    with_second_factor(world, "maya")
    thief = Browser(world.app, None)
    thief.client.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0")
    # When the thief types it in a browser that never signed in to her account
    assert sign_in(thief, "maya").status_code == 302
    # Then the page tells the thief it was right: only the second factor is left to pass
    assert thief.get("/login/next").headers["Location"].endswith("/login/second-factor")
    assert thief.get("/api/counts").status_code == 404
    # So Maya is told at once, before any second factor: when, from where, what to do
    [mail] = mailbox
    assert mail.rcpt_tos == ["maya@toko.example"]
    parsed = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert parsed["Subject"] == "Gembok: your password was entered from a new browser"
    text = " ".join(parsed.get_content().split())
    attempt = (LoginEvent.select().where(LoginEvent.user == world.users["maya"])
               .order_by(LoginEvent.id.desc()).first())
    at = attempt.at.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Jakarta"))
    assert "entered the correct password" in text and f"at {at:%H:%M} WIB" in text
    assert f"from {thief.client.environ_base['REMOTE_ADDR']} (Firefox 140 on Windows)" in text
    assert "change your password now" in text


def test_the_owner_gets_one_email_not_two_when_the_second_factor_follows(world, mailbox):
    # Given Putri, a supervisor with a second factor, on her new office laptop
    secret = with_second_factor(world, "putri")
    laptop = Browser(world.app, None)
    # When she types her password, she is e-mailed at once, as a thief would make her be
    sign_in(laptop, "putri")
    assert len(mailbox) == 1
    # And when she then types the code from her phone
    done = laptop.form("/login/second-factor", {"code": pyotp.TOTP(secret).now()})
    # Then she is in, with that one e-mail and not a second one for the same sign-in
    assert done.status_code == 302 and laptop.get("/api/counts").status_code == 200
    assert len(mailbox) == 1
    # And the laptop is known from now on: her next sign-in e-mails nobody
    laptop.form("/logout", {})
    sign_in(laptop, "putri")
    assert len(mailbox) == 1


def test_sign_ins_and_failures_are_in_the_audit_log(world):
    make_user(world, "ozi")
    sign_in(Browser(world.app, None), "ozi", "wrong wrong wrong wrong")
    sign_in(Browser(world.app, None), "ozi")
    uid = User.get(User.username == "ozi").id
    actions = [e.action for e in AuditEntry.select().where(AuditEntry.target == f"user:{uid}")]
    assert "auth.login_failed" in actions and "auth.login" in actions

"""Provides sign-in, the second factor, password changes and the user's own sessions."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from appliance.auth import login, sessions, totp, users
from appliance.auth.password_policy import problems, strength
from appliance.auth.users import change_own_password
from webui import inputs
from webui.access import current, public, runtime, signed_in
from webui.i18n import LANGUAGES
from webui.notices import notify_new_device

bp = Blueprint("auth", __name__)
DEVICE_COOKIE = "gembok_device"


def _attempt(username: str = "", password: str = "") -> login.Attempt:
    return login.Attempt(username=username, password=password,
                         ip=request.remote_addr or "", user_agent=request.user_agent.string,
                         device_token=request.cookies.get(DEVICE_COOKIE, ""))


@bp.route("/login", methods=["GET", "POST"])
@public
def login_page() -> Any:
    error, wait = "", 0
    if request.method == "POST":
        outcome = login.sign_in(runtime(), _attempt(request.form.get("username", ""),
                                                    request.form.get("password", "")))
        if outcome.ok and outcome.token:
            session.clear()
            session["sid"] = outcome.token
            session.permanent = True
            if outcome.new_device and outcome.login_event_id:
                notify_new_device(outcome.login_event_id)
            return redirect(url_for("auth.next_step"))
        wait = outcome.wait_seconds
        error = "wait" if wait else "wrong"  # the same words for a wrong name or password
    return render_template("auth/login.html", error=error, wait=wait), 200 if not error else 401


@bp.get("/login/next")
@signed_in(partial=True)
def next_step() -> Any:
    me = current()
    if not me.session.second_factor_done:
        target = "auth.second_factor" if me.user.totp_enabled else "auth.enrol"
        return redirect(url_for(target))
    if me.user.must_change_password:
        return redirect(url_for("auth.password"))
    return redirect(url_for("home.index"))


@bp.route("/login/second-factor", methods=["GET", "POST"])
@signed_in(partial=True)
def second_factor() -> Any:
    me = current()
    if me.session.second_factor_done or not me.user.totp_enabled:
        return redirect(url_for("auth.next_step"))
    error, wait = "", 0
    if request.method == "POST":
        outcome = login.second_factor(runtime(), me.session.id, me.user,
                                      request.form.get("code", ""), _attempt(me.user.username))
        if outcome.ok:
            if outcome.new_device and outcome.login_event_id:
                notify_new_device(outcome.login_event_id)
            return redirect(url_for("auth.next_step"))
        wait, error = outcome.wait_seconds, "wait" if outcome.wait_seconds else "wrong"
    return render_template("auth/second_factor.html", error=error, wait=wait)


@bp.route("/account/second-factor", methods=["GET", "POST"])
@signed_in(partial=True)
def enrol() -> Any:
    """First enrolment only; replacing a factor goes through an admin's reset.

    GET changes nothing: the secret is made by the POST that shows its QR code.
    """
    me = current()
    rt = runtime()
    if me.user.totp_enabled:
        return redirect(url_for("auth.next_step"))
    if request.method == "GET":
        return render_template("account/enrol.html", qr=None, error="")
    if request.form.get("step") == "confirm":
        codes = totp.confirm_enrolment(rt, me.user, request.form.get("code", ""))
        if codes is not None:
            if not me.session.second_factor_done:
                sessions.mark_second_factor(me.session.id)
                login.complete(rt, me.user, _attempt(me.user.username))
            return render_template("account/recovery_codes.html", codes=codes)
        uri = totp.provisioning_uri(rt, me.user)
        return render_template("account/enrol.html", qr=totp.qr_svg(uri) if uri else None,
                               error="wrong")
    _, uri = totp.start_enrolment(rt, me.user)
    return render_template("account/enrol.html", qr=totp.qr_svg(uri), error="")


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in(partial=True)
def password() -> Any:
    me = current()
    if not me.session.second_factor_done:
        return redirect(url_for("auth.next_step"))
    found: list[str] = []
    if request.method == "POST":
        found = change_own_password(runtime(), me.user, current=request.form.get("current", ""),
                                    new=request.form.get("new", ""), keep_session=me.session.id)
        if not found:
            return redirect(url_for("home.index"))
    return render_template("account/password.html", problems=found,
                           forced=bool(me.user.must_change_password))


@bp.post("/account/password/strength")
@signed_in(partial=True)
def password_strength() -> Response:
    """For the meter as the user types; the password goes nowhere but this answer."""
    me = current()
    candidate = inputs.text(inputs.body(), "password")
    if len(candidate) > 256:
        abort(400)
    rating = strength(candidate, (me.user.username, me.user.display_name))
    return jsonify(score=rating.score, warning=rating.warning,
                   problems=problems(candidate, username=me.user.username,
                                     display_name=me.user.display_name,
                                     email=me.user.email or ""))


@bp.post("/logout")
@signed_in(partial=True)
def logout() -> Any:
    sessions.revoke(current().session.id, "signed_out")
    session.clear()
    return redirect(url_for("auth.login_page"))


@bp.post("/account/language")
@signed_in(partial=True)
def language() -> Any:
    """Indonesian or English, per user; remembered on the account."""
    chosen = inputs.text(inputs.body(), "language")
    if chosen not in LANGUAGES:
        abort(400)
    users.set_language(current().user.id, chosen)
    return redirect(url_for("home.index"))  # never a header the client wrote (no-referrer)


@bp.get("/account/sessions")
@signed_in()
def my_sessions() -> Any:
    me = current()
    return render_template("account/sessions.html", rows=sessions.active(me.user.id),
                           this=me.session.id)


@bp.post("/account/sessions/<int:session_id>/end")
@signed_in()
def end_session(session_id: int) -> Any:
    me = current()
    if session_id not in {s.id for s in sessions.active(me.user.id)}:
        abort(404)
    sessions.revoke(session_id, "ended_by_user")
    return redirect(url_for("auth.my_sessions"))

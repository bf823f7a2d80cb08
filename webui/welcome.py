"""Provides the page where the business sets what Auto Reply says first: the privacy
notice, the menu that routes new conversations, and the words that stop promotions.

Plain forms that post and come back (no script needed): the admin publishes a notice
version, saves the menu, or the opt words; a refusal shows the service's words above the
form, which keeps what was typed, with a 422. Supervisors see the page read-only: these
are the business's, not a division's (the services refuse them too).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from appliance.auth.permissions import Denied
from appliance.automation import menu_book
from appliance.automation.menu import Choice, Menu, page_count
from appliance.errors import GembokError
from appliance.inbox import divisions
from appliance.privacy import notice, opt_words
from appliance.privacy.consent import OPT_IN_WORDS, OPT_OUT_WORDS
from webui.access import current, permission, runtime

bp = Blueprint("welcome", __name__, url_prefix="/automation/welcome")
BLANK_CHOICES = 3  # empty rows under the menu's choices, to add more


@bp.get("")
@permission("automation.manage")
def page() -> Any:
    return _render()


def _render(error: str = "", form: dict[str, Any] | None = None, status: int = 200) -> Any:
    me = current().principal
    menu = menu_book.menu_of(me)
    rows = [*menu.choices, *([Choice(0, "")] * BLANK_CHOICES)]
    body = render_template(
        "welcome/page.html", error=error, form=form or {}, may_change=me.role == "admin",
        current=notice.current(), versions=notice.versions(), menu=menu, rows=rows,
        pages=page_count(menu) if menu.choices else 0,
        divisions=divisions.list_divisions(me) if me.role == "admin" else [],
        out_words="\n".join(opt_words.added()[0]), in_words="\n".join(opt_words.added()[1]),
        built_in_out=sorted(OPT_OUT_WORDS), built_in_in=sorted(OPT_IN_WORDS),
        public_url=runtime().settings.webhook.public_url, saved=request.args.get("saved", ""))
    return (body, status) if status != 200 else body


@bp.post("/notice")
@permission("automation.manage")
def publish_notice() -> Any:
    form = request.form
    try:
        notice.publish(runtime(), current().principal, form.get("version", ""),
                       summary_id=form.get("summary_id", ""), full_id=form.get("full_id", ""),
                       summary_en=form.get("summary_en", ""), full_en=form.get("full_en", ""))
    except Denied:
        raise  # the route's guard answers 404
    except GembokError as exc:
        return _render(gettext("The notice was not published: %(why)s", why=str(exc)),
                       dict(form), 422)
    return _back("notice")


@bp.post("/menu")
@permission("automation.manage")
def save_menu() -> Any:
    form = request.form
    try:
        menu = _menu_from(form)
        menu_book.save_menu(runtime(), current().principal, menu)
    except Denied:
        raise
    except (GembokError, ValueError) as exc:
        return _render(gettext("The menu was not saved: %(why)s", why=str(exc)), dict(form), 422)
    return _back("menu")


@bp.post("/words")
@permission("automation.manage")
def save_words() -> Any:
    form = request.form
    try:
        opt_words.save(runtime(), current().principal,
                       out=form.get("out_words", "").splitlines(),
                       in_=form.get("in_words", "").splitlines())
    except Denied:
        raise
    except GembokError as exc:
        return _render(gettext("The words were not saved: %(why)s", why=str(exc)),
                       dict(form), 422)
    return _back("words")


def _back(what: str) -> Response:
    return redirect(url_for("welcome.page", saved=what) + f"#{what}", 303)


def _menu_from(form: Any) -> Menu:
    """The menu as the form gives it: the rows whose title is filled in, in order."""
    def number(name: str, what: str) -> int | None:
        value = form.get(name, "").strip()
        if not value:
            return None
        if not value.isdigit():
            raise ValueError(gettext("%(what)s must be a whole number", what=what))
        return int(value)

    choices = []
    for n, title in enumerate(form.getlist("title_id"), 1):
        if not title.strip():
            continue
        division = _at(form, "division", n)
        if not division.isdigit():
            raise ValueError(gettext("choice %(n)s: pick the division it leads to", n=n))
        choices.append(Choice(int(division), title.strip(), _at(form, "title_en", n).strip(),
                              _at(form, "description_id", n).strip(),
                              _at(form, "description_en", n).strip(),
                              tuple(w.strip() for w in _at(form, "words", n).split(",")
                                    if w.strip())))
    return Menu(enabled=form.get("enabled") == "on", body_id=form.get("body_id", "").strip(),
                body_en=form.get("body_en", "").strip(), choices=tuple(choices),
                default_division_id=number("default_division", gettext("The default division")),
                timeout_minutes=_or(number("timeout_minutes", gettext("The waiting time")), 10))


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def _at(form: Any, name: str, n: int) -> str:
    values = form.getlist(name)
    return str(values[n - 1]) if n <= len(values) else ""

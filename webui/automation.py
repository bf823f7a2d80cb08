"""Provides the Auto Reply pages (the ordered rules, business hours) and their JSON API.

Thin shells over `appliance.automation.rule_book` and `schedules`: the services decide who
keeps what (admins the global rules, the default hours and every division's; supervisors
their own divisions'), check every rule and period, and audit each change. A view reads
the body's shape (a 400 with words when it is not what the pages' scripts send), calls
one service, and answers; the service's refusal of a rule or a time comes back as a 422
in its own words, naming the rule, trigger or period. The pages carry the choices and
the words their scripts show as JSON data; the scripts fetch the rules and hours.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from flask import Blueprint, Response, jsonify, render_template
from flask_babel import gettext

from appliance.auth import users
from appliance.auth.permissions import Denied, Principal
from appliance.automation import rule_book, schedules
from appliance.automation.hours import DEFAULT_ZONE, ZONES
from appliance.automation.rules import (
    ACTIONS,
    KEYWORD_MODES,
    MEDIA_KINDS,
    TRIGGERS,
    Action,
    Rule,
    Trigger,
)
from appliance.inbox import divisions
from appliance.store.models import CONVERSATION_STATES
from webui import inputs
from webui.access import current, permission, runtime
from webui.answers import answer, then

bp = Blueprint("automation", __name__)


@bp.get("/automation")
@permission("automation.manage")
def rules_page() -> str:
    me = current().principal
    kept = [{"id": d.id, "name": d.name} for d in divisions.list_divisions(me)
            if rule_book.may_keep(me, d.id)]
    scopes = ([{"id": None, "name": gettext("Every division (global)")}]
              if rule_book.may_keep(me, None) else []) + kept
    config = {"scopes": scopes, "divisions": _route_targets(me), "agents": _agents(me),
              "triggers": TRIGGERS, "actions": ACTIONS, "modes": KEYWORD_MODES,
              "media": MEDIA_KINDS, "states": CONVERSATION_STATES}
    return render_template("automation/rules.html", config=config)


@bp.get("/automation/hours")
@permission("automation.manage")
def hours_page() -> str:
    me = current().principal
    scopes = [{"id": d.id, "name": d.name} for d in divisions.list_divisions(me)]
    try:
        schedules.hours_of(me, None)
        scopes.insert(0, {"id": None, "name": gettext("Default (every division)")})
    except Denied:  # a supervisor keeps only their divisions' hours
        pass
    config = {"scopes": scopes, "zones": [{"name": n, "short": s} for n, s in ZONES.items()],
              "division": inputs.query_number("division")}
    return render_template("automation/hours.html", config=config)


@bp.get("/api/automation/rules")
@permission("automation.manage")
def list_rules() -> Response:
    me = current().principal
    return jsonify(rules=[_rule_json(me, r) for r in rule_book.list_rules(me)])


@bp.post("/api/automation/rules")
@permission("automation.manage")
def create_rule() -> Any:
    rule = _rule_from(inputs.body(), 0)
    return answer(lambda: {"id": rule_book.save_rule(runtime(), current().principal, rule)},
                  201)


@bp.post("/api/automation/rules/<int:rule_id>")
@permission("automation.manage")
def update_rule(rule_id: int) -> Any:
    rule = _rule_from(inputs.body(), rule_id)
    return answer(lambda: {"id": rule_book.save_rule(runtime(), current().principal, rule)})


@bp.post("/api/automation/rules/<int:rule_id>/delete")
@permission("automation.manage")
def delete_rule(rule_id: int) -> Any:
    return answer(then(lambda: rule_book.delete_rule(runtime(), current().principal, rule_id),
                       {"deleted": rule_id}))


@bp.post("/api/automation/rules/<int:rule_id>/move")
@permission("automation.manage")
def move_rule(rule_id: int) -> Any:
    direction = inputs.text(inputs.body(), "direction")
    return answer(lambda: {"moved": rule_book.move_rule(runtime(), current().principal,
                                                        rule_id, direction)})


@bp.post("/api/automation/try")
@permission("automation.manage")
def try_rules() -> Any:
    """A sample text against the rules as saved, or with `rule` (the form being edited) in
    its place: nothing is saved."""
    data = inputs.body()
    edited = data.get("rule")
    if edited is not None and not isinstance(edited, dict):
        inputs.refuse(gettext("“rule” in the request body must be a rule, as the form sends "
                              "it. Reload the page and try again."))
    changed = _rule_from(edited, inputs.body_number(edited, "id") or 0) if edited else None
    situation = {name: _flag(data, name, False)
                 for name in ("outside_hours", "first_ever", "first_of_day")}
    trial = rule_book.try_rules(current().principal, inputs.text(data, "text"),
                                changed=changed,
                                division_id=inputs.body_number(data, "division_id"),
                                **situation)
    return jsonify(explanation=trial.explanation, refused=trial.refused,
                   fired=[{"id": f.rule.id, "name": f.rule.name} for f in trial.fired],
                   stopped=bool(trial.fired) and trial.fired[-1].stopped)


@bp.get("/api/automation/hours")
@permission("automation.manage")
def hours() -> Response:
    """A scope's hours: `?division=3`, or none for the default of every division."""
    return jsonify(_hours_json(schedules.hours_of(current().principal,
                                                  inputs.query_number("division"))))


@bp.post("/api/automation/hours")
@permission("automation.manage")
def save_hours() -> Any:
    data = inputs.body()
    periods = [(_part(p, "weekday", int, gettext("period"), n, None),
                _part(p, "opens", str, gettext("period"), n, ""),
                _part(p, "closes", str, gettext("period"), n, ""))
               for n, p in enumerate(_objects(data, "periods"), 1)]
    return answer(lambda: _hours_json(schedules.set_hours(
        runtime(), current().principal, inputs.body_number(data, "division_id"),
        periods=periods, time_zone=inputs.text(data, "time_zone") or DEFAULT_ZONE,
        holidays_close=_flag(data, "holidays_close", True),
        away_message_id=inputs.text(data, "away_message_id"),
        away_message_en=inputs.text(data, "away_message_en"))))


@bp.post("/api/automation/hours/clear")
@permission("automation.manage")
def clear_hours() -> Any:
    """A division goes back to the default hours (the default itself cannot be cleared)."""
    division = inputs.required_number(inputs.body(), "division_id")
    return answer(then(lambda: schedules.clear_hours(runtime(), current().principal,
                                                     division), {"cleared": division}))


@bp.post("/api/automation/hours/days")
@permission("automation.manage")
def save_day() -> Any:
    data = inputs.body()
    division, day = inputs.body_number(data, "division_id"), _day(data)
    opens, closes = (inputs.text(data, name) or None for name in ("opens", "closes"))
    return answer(lambda: _day_json(schedules.set_day(
        runtime(), current().principal, division, day, kind=inputs.text(data, "kind"),
        label=inputs.text(data, "label"), opens=opens, closes=closes)), 201)


@bp.post("/api/automation/hours/days/remove")
@permission("automation.manage")
def remove_day() -> Any:
    data = inputs.body()
    division, day = inputs.body_number(data, "division_id"), _day(data)
    return answer(lambda: {"removed": schedules.remove_day(runtime(), current().principal,
                                                           division, day)})


def _route_targets(me: Principal) -> list[dict[str, Any]]:
    """Where a rule may send a conversation: every division (names only)."""
    found = divisions.names(me) if me.can("conversation.read") else \
        divisions.list_divisions(me)
    return [{"id": d.id, "name": d.name} for d in found]


def _agents(me: Principal) -> list[dict[str, Any]]:
    """Whom a rule may give a conversation to: the people of the user's divisions."""
    if me.can("conversation.assign"):
        people = {a.id: a.name for a in users.agents_in_scope(me)}
    elif me.can("user.manage"):
        people = {u.id: u.display_name or u.username for u in users.list_users(me)
                  if u.is_active and u.role != "admin"}
    else:
        people = {}
    return [{"id": i, "name": name} for i, name in people.items()]


def _rule_json(me: Principal, rule: Rule) -> dict[str, Any]:
    return asdict(rule) | {"may_change": rule_book.may_keep(me, rule.division_id)}


def _rule_from(data: dict[str, Any], rule_id: int) -> Rule:
    """The rule as the form sends it; a part of the wrong type: a 400 naming it."""
    trigger, action = gettext("trigger"), gettext("action")
    triggers = tuple(Trigger(_part(t, "kind", str, trigger, n, ""),
                             tuple(_part(t, "words", list, trigger, n, [])),
                             _part(t, "mode", str, trigger, n, "contains"),
                             _part(t, "minutes", int, trigger, n, 0))
                     for n, t in enumerate(_objects(data, "triggers"), 1))
    actions = tuple(Action(_part(a, "kind", str, action, n, ""),
                           _part(a, "value", str, action, n, ""),
                           _part(a, "target", int, action, n, None))
                    for n, a in enumerate(_objects(data, "actions"), 1))
    return Rule(rule_id, inputs.text(data, "name"), triggers, actions,
                stop=_flag(data, "stop", True),
                division_id=inputs.body_number(data, "division_id"),
                enabled=_flag(data, "enabled", True))


def _objects(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        inputs.refuse(gettext("“%(name)s” in the request body must be a list of objects, as "
                              "the form sends it. Reload the page and try again.", name=name))
    return value


def _part(data: dict[str, Any], name: str, kind: type, what: str, n: int, default: Any) -> Any:
    """One field of a trigger, action or period: `kind`, or a 400 saying which one."""
    value = data.get(name)
    if value is None:
        return default
    if kind is int:
        number = None if isinstance(value, str) else inputs.whole_number(value)
        if number is None:
            inputs.refuse(gettext("%(what)s %(n)s: “%(name)s” must be a whole number. Reload "
                                  "the page and try again.", what=what, n=n, name=name))
        return number
    if kind is list:
        fits = isinstance(value, list) and all(isinstance(v, str) for v in value)
    else:
        fits = isinstance(value, kind)
    if not fits:
        shape = gettext("a list of texts") if kind is list else gettext("text")
        inputs.refuse(gettext("%(what)s %(n)s: “%(name)s” must be %(shape)s. Reload the page "
                              "and try again.", what=what, n=n, name=name, shape=shape))
    return value


def _flag(data: dict[str, Any], name: str, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        inputs.refuse(gettext("“%(name)s” in the request body must be true or false. Reload "
                              "the page and try again.", name=name))
    return value


def _day(data: dict[str, Any]) -> date:
    try:
        return date.fromisoformat(inputs.text(data, "day"))
    except ValueError:
        inputs.refuse(gettext("“day” must be a date written YYYY-MM-DD, such as 2026-12-24."))


def _hours_json(view: schedules.HoursView) -> dict[str, Any]:
    return {"division_id": view.division_id, "own": view.own, "time_zone": view.time_zone,
            "periods": [{"weekday": w, "opens": o, "closes": c} for w, o, c in view.periods],
            "holidays_close": view.holidays_close, "away_message_id": view.away_message_id,
            "away_message_en": view.away_message_en,
            "days": [_day_json(d) for d in view.days]}


def _day_json(day: schedules.DayView) -> dict[str, Any]:
    return asdict(day) | {"day": day.day.isoformat()}

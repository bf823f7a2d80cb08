"""Provides the admin's JSON API: people and divisions (the TUI offers the same on the box)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, abort, jsonify

from appliance.auth import users
from appliance.inbox import divisions
from webui import inputs
from webui.access import current, permission, runtime
from webui.answers import answer, then
from webui.notices import notify_content_granted

bp = Blueprint("admin", __name__, url_prefix="/api/admin")


def _body() -> dict[str, Any]:
    return inputs.body()


def _field(data: dict[str, Any], name: str, kind: type, default: Any = None) -> Any:
    """A field of the expected type (a JSON true is not a number here); 400 with words."""
    value = data.get(name, default)
    if value is None:
        return None
    if kind is int:
        number = inputs.whole_number(value) if not isinstance(value, str) else None
        if number is None:
            inputs.refuse(f"{name} must be a whole number from 0 (or left out)")
        return number
    if not isinstance(value, kind):
        inputs.refuse(f"{name} must be a {kind.__name__}")
    return value


def _ids(data: dict[str, Any], name: str) -> list[int]:
    value = data.get(name, [])
    ids = [inputs.whole_number(v) for v in value] if isinstance(value, list) else [None]
    if any(i is None or isinstance(v, str) for i, v in zip(ids, value or [None], strict=False)):
        inputs.refuse(f"{name} must be a list of ids (whole numbers)")
    return [i for i in ids if i is not None]


@bp.get("/users")
@permission("user.manage")
def list_users() -> Response:
    return jsonify(users=[asdict(u) for u in users.list_users(current().principal)])


@bp.post("/users")
@permission("user.manage")
def create_user() -> Any:
    data = _body()

    def create() -> dict[str, Any]:
        user, password = users.create_user(
            runtime(), principal=current().principal, actor=current().principal.actor,
            username=_field(data, "username", str, ""),
            display_name=_field(data, "display_name", str, ""),
            role=_field(data, "role", str, ""), email=_field(data, "email", str, ""),
            divisions=_ids(data, "divisions"))
        return {"id": user.id, "one_time_password": password}

    return answer(create, 201)


@bp.post("/users/<int:user_id>")
@permission("user.manage")
def update_user(user_id: int) -> Any:
    """One change per field given: role, divisions, active, extra permissions, resets."""
    data, me, rt = _body(), current().principal, runtime()

    def update() -> dict[str, Any]:
        changed: dict[str, Any] = {"changed": True}
        if "role" in data:
            users.set_role(rt, me, user_id, _field(data, "role", str))
        if "divisions" in data:
            users.set_divisions(rt, me, user_id, _ids(data, "divisions"))
        if "active" in data:
            users.set_active(rt, me, user_id, bool(_field(data, "active", bool)))
        if "extra_permissions" in data:
            extra = data["extra_permissions"]
            if not isinstance(extra, list) or not all(isinstance(e, str) for e in extra):
                abort(400)
            users.set_extra_permissions(rt, me, user_id, extra,
                                        tell_admins=notify_content_granted)
        if data.get("reset_password") is True:
            changed["one_time_password"] = users.reset_password(rt, me, user_id)
        if data.get("reset_second_factor") is True:
            users.reset_second_factor(rt, me, user_id)
        return changed

    return answer(update)


@bp.get("/divisions")
@permission("division.manage")
def list_divisions() -> Response:
    return jsonify(divisions=[asdict(d) for d in divisions.list_divisions(current().principal)])


@bp.post("/divisions")
@permission("division.manage")
def create_division() -> Any:
    data = _body()
    return answer(lambda: {"id": divisions.create_division(
        runtime(), current().principal, _field(data, "name", str, ""),
        _field(data, "retention_days", int))}, 201)


@bp.post("/divisions/<int:division_id>")
@permission("division.manage")
def update_division(division_id: int) -> Any:
    data = _body()
    return answer(then(lambda: divisions.update_division(
        runtime(), current().principal, division_id, name=_field(data, "name", str),
        retention_days=_field(data, "retention_days", int)), {"changed": True}))

"""Provides the admin's JSON API: people and divisions (the TUI offers the same on the box)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, abort, jsonify

from appliance.auth import users
from appliance.auth.account_changes import AccountChange, change_account
from appliance.inbox import divisions
from webui import inputs
from webui.access import current, permission, runtime
from webui.answers import answer, then
from webui.notices import notify_content_granted

bp = Blueprint("admin", __name__, url_prefix="/api/admin")


@bp.get("/users")
@permission("user.manage")
def list_users() -> Response:
    return jsonify(users=[asdict(u) for u in users.list_users(current().principal)])


@bp.post("/users")
@permission("user.manage")
def create_user() -> Any:
    data = inputs.body()

    def create() -> dict[str, Any]:
        user, password = users.create_user(
            runtime(), principal=current().principal, actor=current().principal.actor,
            username=inputs.field(data, "username", str, ""),
            display_name=inputs.field(data, "display_name", str, ""),
            role=inputs.field(data, "role", str, ""), email=inputs.field(data, "email", str, ""),
            divisions=inputs.ids(data, "divisions"))
        return {"id": user.id, "one_time_password": password}

    return answer(create, 201)


@bp.post("/users/<int:user_id>")
@permission("user.manage")
def update_user(user_id: int) -> Any:
    """One change per field given: role, divisions, active, extra permissions, resets."""
    data, me, rt = inputs.body(), current().principal, runtime()

    def update() -> dict[str, Any]:
        extra = data.get("extra_permissions")
        if "extra_permissions" in data and (not isinstance(extra, list)
                                            or not all(isinstance(e, str) for e in extra)):
            abort(400)
        change = AccountChange(
            role=inputs.field(data, "role", str) if "role" in data else None,
            divisions=inputs.ids(data, "divisions") if "divisions" in data else None,
            active=bool(inputs.field(data, "active", bool)) if "active" in data else None,
            extra_permissions=extra if "extra_permissions" in data else None,
            reset_password=data.get("reset_password") is True,
            reset_second_factor=data.get("reset_second_factor") is True)
        password = change_account(rt, me, user_id, change, tell_admins=notify_content_granted)
        return {"changed": True} | ({"one_time_password": password} if password else {})

    return answer(update)


@bp.get("/divisions")
@permission("division.manage")
def list_divisions() -> Response:
    return jsonify(divisions=[asdict(d) for d in divisions.list_divisions(current().principal)])


@bp.post("/divisions")
@permission("division.manage")
def create_division() -> Any:
    data = inputs.body()
    return answer(lambda: {"id": divisions.create_division(
        runtime(), current().principal, inputs.field(data, "name", str, ""),
        inputs.field(data, "retention_days", int))}, 201)


@bp.post("/divisions/<int:division_id>")
@permission("division.manage")
def update_division(division_id: int) -> Any:
    data = inputs.body()
    return answer(then(lambda: divisions.update_division(
        runtime(), current().principal, division_id, name=inputs.field(data, "name", str),
        retention_days=inputs.field(data, "retention_days", int)), {"changed": True}))

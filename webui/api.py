"""Provides the JSON API of the inbox: thin calls into `appliance.inbox`, scoped there.

Each view names the fields it reads; anything else in a body (a `division_id`, a `role`,
a `user_id`) is never looked at. GET never changes anything.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request, stream_with_context
from peewee import fn

from appliance.auth import sessions
from appliance.auth.permissions import Denied, visible
from appliance.errors import GembokError
from appliance.inbox import conversations
from appliance.inbox.customers import update_phone
from appliance.privacy.reveal import reveal_message, reveal_phone
from appliance.store.db import db
from appliance.store.models import Conversation, Message
from webui.access import current, permission, runtime
from webui.notices import send_reply

bp = Blueprint("api", __name__, url_prefix="/api")
STREAM_TICK = 1.0


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if data is None:
        data = request.form.to_dict()
    if not isinstance(data, dict):
        abort(400)
    return data


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        abort(400)
    return value


def _problem(exc: GembokError, status: int = 422) -> tuple[Response, int]:
    return jsonify(error=str(exc)), status


@bp.get("/conversations")
@permission("conversation.read")
def list_conversations() -> Response:
    rows = conversations.list_conversations(
        runtime(), current().principal, mine=request.args.get("mine") == "1",
        status=request.args.get("status") or None, before=request.args.get("before") or None)
    return jsonify(conversations=[asdict(r) for r in rows])


@bp.get("/conversations/<int:conversation_id>")
@permission("conversation.read")
def open_conversation(conversation_id: int) -> Response:
    summary, lines = conversations.open_conversation(runtime(), current().principal,
                                                     conversation_id)
    return jsonify(conversation=asdict(summary), messages=[asdict(x) for x in lines])


@bp.post("/conversations/<int:conversation_id>/reply")
@permission("conversation.reply")
def reply(conversation_id: int) -> Any:
    try:
        outbox_id = conversations.reply(runtime(), current().principal, conversation_id,
                                        _text(_body(), "text"))
    except ValueError as exc:
        return jsonify(error=str(exc)), 422
    except GembokError as exc:
        if isinstance(exc, Denied):
            raise
        return _problem(exc)
    send_reply(outbox_id)
    return jsonify(queued=True), 202


@bp.post("/conversations/<int:conversation_id>/assign")
@permission("conversation.assign")
def assign(conversation_id: int) -> Response:
    data = _body()
    assignee = data.get("assignee_id")
    if assignee is not None and not isinstance(assignee, int):
        abort(400)
    conversations.assign(runtime(), current().principal, conversation_id, assignee)
    return jsonify(assigned=assignee)


@bp.get("/conversations/<int:conversation_id>/export")
@permission("conversation.export")
def export(conversation_id: int) -> Response:
    body = conversations.export(runtime(), current().principal, conversation_id)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="conversation-{conversation_id}.json"'})


@bp.get("/search")
@permission("conversation.read")
def search() -> Response:
    rows = conversations.search(runtime(), current().principal, request.args.get("q", ""))
    return jsonify(conversations=[asdict(r) for r in rows])


@bp.get("/counts")
@permission("conversation.read")
def counts() -> Response:
    return jsonify(conversations.counts(current().principal))


@bp.get("/media/<int:media_id>")
@permission("conversation.read")
def media(media_id: int) -> Response:
    mime, content = conversations.media_content(runtime(), current().principal, media_id)
    return Response(content, mimetype=mime, headers={"Content-Disposition": "attachment",
                                                     "X-Content-Type-Options": "nosniff"})


@bp.get("/customers/<int:customer_id>")
@permission("customer.read")
def customer(customer_id: int) -> Response:
    return jsonify(asdict(conversations.customer_panel(runtime(), current().principal,
                                                       customer_id)))


@bp.post("/customers/<int:customer_id>/phone")
@permission("customer.edit")
def edit_phone(customer_id: int) -> Any:
    try:
        update_phone(runtime(), current().principal, customer_id, _text(_body(), "phone"))
    except Denied:
        raise
    except GembokError as exc:
        return _problem(exc)
    return jsonify(changed=True)


@bp.post("/customers/<int:customer_id>/reveal-phone")
@permission("customer.reveal_phone")
def reveal_customer_phone(customer_id: int) -> Any:
    try:
        phone = reveal_phone(runtime(), current().principal, customer_id,
                             _text(_body(), "reason"))
    except Denied:
        raise
    except GembokError as exc:
        return _problem(exc)
    return jsonify(phone=phone, revealed=True)


@bp.post("/messages/<int:message_id>/reveal")
@permission("message.reveal")
def reveal_message_text(message_id: int) -> Any:
    try:
        text = reveal_message(runtime(), current().principal, message_id,
                              _text(_body(), "reason"))
    except Denied:
        raise
    except GembokError as exc:
        return _problem(exc)
    return jsonify(text=text, revealed=True)


@bp.get("/reports/summary")
@permission("report.read")
def report() -> Response:
    return jsonify(divisions=conversations.report(current().principal))


@bp.get("/stream")
@permission("conversation.read")
def stream() -> Response:
    """Server-Sent Events: conversations of the user's scope that changed, by id only.

    The session is checked every tick: a user deactivated, moved out of a division or
    signed out elsewhere loses the stream within seconds, not at its next reconnect.
    """
    me = current()
    auth = runtime().settings.auth
    principal, session_id = me.principal, me.session.id

    def events() -> Iterator[str]:
        since = Message.select(fn.MAX(Message.id)).scalar() or 0  # new messages from here on
        yield "retry: 3000\n\n"
        try:
            while True:
                if not sessions.still_valid(session_id, auth):
                    yield "event: end\ndata: {}\n\n"
                    return
                rows = list(Message.select(Message.id, Message.conversation)
                            .join(Conversation)
                            .where(Message.id > since, visible(principal))
                            .order_by(Message.id).limit(500).tuples())
                if rows:
                    since = rows[-1][0]
                    changed = sorted({convo for _, convo in rows})
                    payload = json.dumps({"conversations": changed})
                    yield f"event: conversations\ndata: {payload}\n\n"
                else:
                    yield ": tick\n\n"
                db.close()  # do not hold a connection between ticks
                time.sleep(STREAM_TICK)
        finally:
            db.close()

    return Response(stream_with_context(events()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

"""Provides the JSON API of the inbox: thin calls into `appliance.inbox`, scoped there.

Each view names the fields it reads; anything else in a body (a `division_id`, a `role`,
a `user_id`) is never looked at. GET never changes anything. Only ids travel in URLs.
Input is read by `webui.inputs` (malformed: a 400 with words); an erased customer shows
through `webui.erased` (words where their data was, a 410 for what needs their key).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, jsonify, request, stream_with_context
from flask_babel import gettext

from appliance.auth import sessions, users
from appliance.auth.permissions import principal_for
from appliance.inbox import changes, conversations, divisions, outbound, reports, work
from appliance.inbox.number_change import change_phone
from appliance.keys.customer_keys import CustomerKeysGone
from appliance.privacy import consent
from appliance.privacy.reveal import reveal_message, reveal_phone
from appliance.store.db import close_connection
from appliance.store.models import User
from appliance.whatsapp import numbers, templates
from webui import erased
from webui.access import current, permission, runtime
from webui.answers import then
from webui.erased import answer
from webui.i18n import locale
from webui.inputs import body as _body
from webui.inputs import body_number, field, query_number, refuse, required_number, texts
from webui.inputs import text as _text
from webui.notices import send_reply

bp = Blueprint("api", __name__, url_prefix="/api")
STREAM_TICK = 1.0
bp.register_error_handler(CustomerKeysGone, erased.gone)  # a 410 with words, never a 500


@bp.get("/conversations")
@permission("conversation.read")
def list_conversations() -> Response:
    show = request.args.get("show", "all")
    if show not in conversations.FILTERS:
        refuse(gettext("“show” in the address must be one of: %(allowed)s. Reload the page "
                       "and try again.", allowed=", ".join(conversations.FILTERS)))
    try:
        rows = conversations.list_conversations(
            runtime(), current().principal, show=show,
            status=request.args.get("status") or None, division=query_number("division"),
            label=query_number("label"), before=request.args.get("before") or None,
            number=query_number("number"))
    except conversations.CursorError:
        refuse(gettext("“before” in the address is not a place in this inbox: it is a time "
                       "and a conversation number joined by “|”, as the inbox gives it. "
                       "Reload the inbox to start again from the newest conversations."))
    following = conversations.cursor_of(rows[-1]) if len(rows) == conversations.PAGE else None
    return jsonify(conversations=[asdict(erased.summary(r)) for r in rows], next=following)


@bp.get("/conversations/<int:conversation_id>")
@permission("conversation.read")
def open_conversation(conversation_id: int) -> Response:
    thread = conversations.open_conversation(runtime(), current().principal, conversation_id,
                                             before_id=query_number("before"),
                                             language=locale())
    return jsonify(asdict(erased.thread(thread)))


@bp.post("/conversations/<int:conversation_id>/read")
@permission("conversation.read")
def mark_read(conversation_id: int) -> Response:
    work.mark_read(current().principal, conversation_id)
    return jsonify(read=True)


@bp.post("/conversations/<int:conversation_id>/reply")
@permission("conversation.reply")
def reply(conversation_id: int) -> Any:
    text = _text(_body(), "text")

    def queue() -> dict[str, bool]:
        send_reply(outbound.reply(runtime(), current().principal, conversation_id, text))
        return {"queued": True}

    return answer(queue, 202)


@bp.post("/conversations/<int:conversation_id>/template")
@permission("conversation.reply")
def send_template(conversation_id: int) -> Any:
    data = _body()
    values = texts(data, "parameters")

    def queue() -> dict[str, bool]:
        send_reply(outbound.queue_template(runtime(), current().principal, conversation_id,
                                           _text(data, "name"), _text(data, "language"),
                                           values))
        return {"queued": True}

    return answer(queue, 202)


@bp.post("/conversations/<int:conversation_id>/attachment")
@permission("conversation.reply")
def attach(conversation_id: int) -> Any:
    upload = request.files.get("file")
    if upload is None:
        refuse(gettext("Choose a file to attach, then send it again."))
    content = upload.read(outbound.MAX_ATTACHMENT + 1)

    def queue() -> dict[str, bool]:
        send_reply(outbound.queue_media(runtime(), current().principal, conversation_id,
                                        filename=upload.filename or "file",
                                        mime_type=upload.mimetype or "", content=content,
                                        caption=request.form.get("caption", "")))
        return {"queued": True}

    return answer(queue, 202)


@bp.post("/conversations/<int:conversation_id>/assign")
@permission("conversation.assign")
def assign(conversation_id: int) -> Any:
    assignee = body_number(_body(), "assignee_id")
    return answer(then(lambda: work.assign(runtime(), current().principal, conversation_id,
                                           assignee), {"assigned": assignee}))


@bp.post("/conversations/<int:conversation_id>/transfer")
@permission("conversation.assign")
def transfer(conversation_id: int) -> Any:
    data = _body()
    division = required_number(data, "division_id")
    return answer(then(lambda: work.transfer(runtime(), current().principal, conversation_id,
                                             division, _text(data, "note")),
                       {"transferred": True}))


@bp.post("/conversations/<int:conversation_id>/status")
@permission("conversation.reply")
def set_status(conversation_id: int) -> Any:
    status = _text(_body(), "status")
    return answer(then(lambda: work.set_status(runtime(), current().principal, conversation_id,
                                               status), {"status": status}))


@bp.post("/conversations/<int:conversation_id>/labels")
@permission("conversation.reply")
def set_labels(conversation_id: int) -> Any:
    names = texts(_body(), "labels")
    return answer(lambda: {"labels": work.set_labels(runtime(), current().principal,
                                                   conversation_id, names)})


@bp.post("/conversations/<int:conversation_id>/notes")
@permission("conversation.reply")
def add_note(conversation_id: int) -> Any:
    text = _text(_body(), "text")
    return answer(lambda: {"note": work.add_note(runtime(), current().principal,
                                               conversation_id, text)}, 201)


@bp.get("/conversations/<int:conversation_id>/export")
@permission("conversation.export")
def export(conversation_id: int) -> Response:
    """The thread as a JSON file, masked like the screen (and marked, if erased)."""
    thread = conversations.export(runtime(), current().principal, conversation_id)
    body = json.dumps(asdict(erased.thread(thread)), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="conversation-{conversation_id}.json"'})


@bp.post("/search")
@permission("conversation.read")
def search() -> Any:
    """A POST so that a name or number typed into the search box never sits in a URL
    (URLs end up in proxies' logs and browsers' histories); it changes nothing."""
    query = _text(_body(), "q")
    return answer(lambda: {"conversations": [asdict(erased.summary(r)) for r in
                                             conversations.search(runtime(), current().principal,
                                                                  query)]})


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
    return jsonify(asdict(erased.panel(conversations.customer_panel(
        runtime(), current().principal, customer_id))))


@bp.post("/customers/<int:customer_id>/phone")
@permission("customer.change_phone")
def edit_phone(customer_id: int) -> Any:
    """A supervisor's change of number, with a reason; a number another record holds waits
    for a merge (202), without a word about that record."""
    data = _body()
    phone, reason = _text(data, "phone"), _text(data, "reason")

    def change() -> Response:
        done = change_phone(runtime(), current().principal, customer_id, phone, reason)
        resp = jsonify(state=done.state, message=done.message, change=done.change_id)
        resp.status_code = 200 if done.state == "done" else 202
        return resp

    return answer(change)


@bp.post("/customers/<int:customer_id>/reveal-phone")
@permission("customer.reveal_phone")
def reveal_customer_phone(customer_id: int) -> Any:
    reason = _text(_body(), "reason")
    return answer(lambda: {"phone": reveal_phone(runtime(), current().principal, customer_id,
                                               reason), "revealed": True})


@bp.post("/customers/<int:customer_id>/consent")
@permission("customer.consent")
def record_consent(customer_id: int) -> Any:
    """What the customer asked for in the chat (`granted` true: agreed; false: stopped), for
    a purpose, with the id that proves it (`reference`: the wamid of their message)."""
    data = _body()
    purpose, reference = _text(data, "purpose"), _text(data, "reference")
    granted = field(data, "granted", bool)  # left out: the service says so, after access

    def record() -> dict[str, Any]:
        entry = consent.record_on_request(runtime(), current().principal, customer_id,
                                          purpose, granted, reference or None)
        return {"entry": entry, "state": consent.state(customer_id, purpose)}

    return answer(record, 201)


@bp.post("/messages/<int:message_id>/reveal")
@permission("message.reveal")
def reveal_message_text(message_id: int) -> Any:
    reason = _text(_body(), "reason")
    return answer(lambda: {"text": reveal_message(runtime(), current().principal, message_id,
                                                reason), "revealed": True})


@bp.get("/quick-replies")
@permission("conversation.reply")
def quick_replies() -> Response:
    rows = work.quick_replies(current().principal, query_number("division"))
    return jsonify(quick_replies=[asdict(q) for q in rows])


@bp.post("/quick-replies")
@permission("quick_reply.manage")
def save_quick_reply() -> Any:
    data = _body()
    division = required_number(data, "division_id")
    return answer(lambda: {"id": work.save_quick_reply(runtime(), current().principal, division,
                                                     _text(data, "shortcut"),
                                                     _text(data, "body"))}, 201)


@bp.get("/templates")
@permission("conversation.reply")
def list_templates() -> Response:
    """The approved templates of one number's account (`?number=`, number 1 by default):
    the business's own words, no customer's."""
    number = query_number("number") or numbers.FIRST_NUMBER
    return jsonify(templates=[asdict(t) for t in templates.approved(runtime(), number)])


@bp.get("/divisions")
@permission("conversation.read")
def list_divisions() -> Response:
    """Every division's name (for transfers and filters); no one's conversations."""
    return jsonify(divisions=[asdict(d) for d in divisions.names(current().principal)])


@bp.get("/numbers")
@permission("conversation.read")
def list_numbers() -> Response:
    """The business's WhatsApp numbers by name, for the inbox filter: no ids, no secrets."""
    return jsonify(numbers=[{"id": n.id, "label": n.label, "active": n.active}
                            for n in numbers.all_numbers(runtime())])


@bp.get("/labels")
@permission("conversation.read")
def list_labels() -> Response:
    """The labels of the user's divisions, for the inbox filter."""
    return jsonify(labels=[asdict(label) for label in work.labels_in_scope(current().principal)])


@bp.get("/agents")
@permission("conversation.assign")
def list_agents() -> Response:
    """Active people of the user's divisions, for the assign picker."""
    return jsonify(agents=[asdict(a) for a in users.agents_in_scope(current().principal)])


@bp.get("/reports/summary")
@permission("report.read")
def report() -> Response:
    return jsonify(divisions=[asdict(r) for r in reports.load(current().principal)])


@bp.get("/stream")
@permission("conversation.read", activity=False)
def stream() -> Response:
    """Server-Sent Events: which conversations of the user's scope changed, ids only.

    The session is checked every tick: a user deactivated, moved out of a division,
    signed out elsewhere or idle too long loses the stream within seconds, not at its
    next reconnect. Neither the stream nor its reconnects count as the user's activity.
    """
    me = current()
    auth = runtime().settings.auth
    session_id, user_id = me.session.id, me.user.id

    resume = request.headers.get("Last-Event-ID", "")

    def events() -> Iterator[str]:
        """A reconnect resumes after the last change it saw (the browser sends its id)."""
        since = changes.resume_point(resume)
        yield "retry: 3000\n\n"
        try:
            while True:
                if not sessions.still_valid(session_id, auth):
                    yield "event: end\ndata: {}\n\n"
                    return
                principal = principal_for(User.get_by_id(user_id))  # divisions may change
                rows = changes.since(principal, since)
                if rows:
                    since = rows[-1][0]
                    changed = [{"conversation": c, "kind": k} for _, c, k in rows]
                    yield (f"id: {since}\nevent: changes\n"
                           f"data: {json.dumps({'changes': changed})}\n\n")
                else:
                    yield ": tick\n\n"
                close_connection()  # do not hold a connection between ticks
                time.sleep(STREAM_TICK)
        finally:
            close_connection()

    return Response(stream_with_context(events()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

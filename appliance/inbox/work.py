"""Provides the day's work on a conversation: transfer, resolve, labels, notes, read markers.

Each call checks the user may handle this conversation, changes it, records the change
for live pages and audits it; notes are sealed under the customer's key like messages.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from peewee import fn

from appliance.auth.permissions import (
    Denied,
    Principal,
    authorized,
    principal_for,
    require,
)
from appliance.clock import utcnow
from appliance.errors import GembokError
from appliance.inbox import changes
from appliance.keys.customer_keys import customer_keys, customer_keysets
from appliance.runtime import Runtime
from appliance.store.chatroom import ConversationLabel, ConversationRead, Label, Note, QuickReply
from appliance.store.db import db
from appliance.store.models import CONVERSATION_STATES, Conversation, Division, Message, User
from appliance.store.sealed import open_text, seal_text

MAX_NOTE = 4000
NOBODY = Principal(0, "system", frozenset(), frozenset())


class WorkError(GembokError):
    """A change to a conversation that cannot be made as asked; the message says why."""


def handled(principal: Principal, conversation_id: int, permission: str) -> Conversation:
    return authorized(principal, permission, Conversation, conversation_id)


def transfer(rt: Runtime, principal: Principal, conversation_id: int, division_id: int,
             note: str) -> None:
    """To another division, with a note for whoever picks it up; it leaves unassigned."""
    convo = handled(principal, conversation_id, "conversation.assign")
    if Division.get_or_none(Division.id == division_id) is None:
        raise WorkError("there is no such division")
    if division_id == convo.division_id:
        raise WorkError("the conversation is in that division already")
    with db.atomic():
        if note.strip():
            _add_note(rt, principal, convo, note)
        Conversation.update(division=division_id, assignee=None).where(
            Conversation.id == convo.id).execute()
        changes.record(convo.id, "transferred")
        rt.audit(actor=principal.actor, action="conversation.transferred",
                 target=f"conversation:{convo.id}", detail={"division": division_id})


def assign(rt: Runtime, principal: Principal, conversation_id: int,
           assignee_id: int | None) -> None:
    """Agents take a conversation for themselves (or let it go); supervisors give it to
    anyone active in its division."""
    convo = handled(principal, conversation_id, "conversation.assign")
    if principal.role == "agent" and assignee_id not in (principal.user_id, None):
        raise Denied()
    if assignee_id is not None:
        target = User.get_or_none(User.id == assignee_id, User.is_active == True)  # noqa: E712
        if target is None or convo.division_id not in principal_for(target).divisions:
            raise Denied()
    with db.atomic():
        Conversation.update(assignee=assignee_id).where(Conversation.id == convo.id).execute()
        changes.record(convo.id, "assigned")
        rt.audit(actor=principal.actor, action="conversation.assigned",
                 target=f"conversation:{convo.id}")


def set_status(rt: Runtime, principal: Principal, conversation_id: int, status: str) -> None:
    if status not in CONVERSATION_STATES:
        raise WorkError(f"status is one of {', '.join(CONVERSATION_STATES)}")
    convo = handled(principal, conversation_id, "conversation.reply")
    with db.atomic():
        Conversation.update(status=status,
                            resolved_at=utcnow() if status == "resolved" else None).where(
            Conversation.id == convo.id).execute()
        changes.record(convo.id, "resolved" if status == "resolved" else "reopened")
        rt.audit(actor=principal.actor, action=f"conversation.{status}",
                 target=f"conversation:{convo.id}")


def set_labels(rt: Runtime, principal: Principal, conversation_id: int,
               names: list[str]) -> list[str]:
    """The conversation's labels become exactly `names` (made in its division if new)."""
    convo = handled(principal, conversation_id, "conversation.reply")
    if convo.division_id is None:
        raise WorkError("a conversation needs a division before it can have labels")
    clean = sorted({" ".join(n.split())[:40] for n in names if n.strip()})
    with db.atomic():
        ConversationLabel.delete().where(ConversationLabel.conversation == convo.id).execute()
        for name in clean:
            label = Label.get_or_none(Label.division == convo.division_id, Label.name == name) \
                or Label.create(division=convo.division_id, name=name)
            ConversationLabel.create(conversation=convo.id, label=label.id)
        changes.record(convo.id, "labels")
    return clean


@dataclass(frozen=True)
class LabelView:
    id: int
    name: str
    division_id: int


def labels_in_scope(principal: Principal) -> list[LabelView]:
    """The labels of the user's divisions, for the inbox's filter (by id: no name in a URL)."""
    require(principal, "conversation.read")
    query = Label.select().order_by(Label.name, Label.division)
    if not principal.every_division:
        query = query.where(Label.division.in_(sorted(principal.divisions)))
    return [LabelView(label.id, label.name, label.division_id) for label in query]


def labels_of(conversation_id: int) -> list[str]:
    return [link.label.name for link in ConversationLabel.select(ConversationLabel, Label)
            .join(Label).where(ConversationLabel.conversation == conversation_id)
            .order_by(Label.name)]


def add_note(rt: Runtime, principal: Principal, conversation_id: int, text: str) -> int:
    convo = handled(principal, conversation_id, "conversation.reply")
    with db.atomic():
        note_id = _add_note(rt, principal, convo, text)
        changes.record(convo.id, "note")
    return note_id


def add_system_note(rt: Runtime, actor: str, conversation_id: int, text: str) -> int:
    """The appliance's own note (Auto Reply saying why it stopped or where it routed): on
    any conversation, even one with no division yet, audited as `actor`."""
    convo = Conversation.get_by_id(conversation_id)
    with db.atomic():
        note_id = _add_note(rt, replace(NOBODY, via=actor), convo, text)
        changes.record(convo.id, "note")
    return note_id


def _add_note(rt: Runtime, principal: Principal, convo: Conversation, text: str) -> int:
    text = text.strip()
    if not text or len(text) > MAX_NOTE:
        raise WorkError(f"a note is 1 to {MAX_NOTE} characters")
    keys = customer_keys(rt.master, convo.customer_id)
    note = Note.create(conversation=convo.id, author=principal.user_id or None)
    note.body_sealed = seal_text(keys, Note, "body", note.id, text)
    note.save()
    rt.audit(actor=principal.actor, action="conversation.noted", target=f"conversation:{convo.id}")
    return int(note.id)


@dataclass(frozen=True)
class NoteView:
    id: int
    author_id: int | None
    text: str
    at: str


def notes_of(rt: Runtime, convo: Conversation) -> list[NoteView]:
    """The conversation's notes; an erased customer's have no text left (their key is gone)."""
    keys = customer_keysets(rt.master, {convo.customer_id}).get(convo.customer_id)
    return [NoteView(n.id, n.author_id,
                     (open_text(keys, Note, "body", n.id, n.body_sealed) or "") if keys else "",
                     str(n.created_at))
            for n in Note.select().where(Note.conversation == convo.id).order_by(Note.id)]


def mark_read(principal: Principal, conversation_id: int) -> None:
    """Remembers the user has seen everything up to now (unread counts are per user)."""
    convo = handled(principal, conversation_id, "conversation.read")
    last = Message.select(fn.MAX(Message.id)).where(Message.conversation == convo.id).scalar()
    (ConversationRead.insert(user=principal.user_id, conversation=convo.id,
                             last_message_id=last or 0)
     .on_conflict(conflict_target=[ConversationRead.user, ConversationRead.conversation],
                  update={ConversationRead.last_message_id: last or 0}).execute())


@dataclass(frozen=True)
class QuickReplyView:
    id: int
    division_id: int
    shortcut: str
    body: str


def quick_replies(principal: Principal, division_id: int | None) -> list[QuickReplyView]:
    """A division's canned answers, for its own people."""
    require(principal, "conversation.reply")
    if division_id is None or division_id not in principal.divisions:
        return []
    return [QuickReplyView(q.id, q.division_id, q.shortcut, q.body)
            for q in QuickReply.select().where(QuickReply.division == division_id)
            .order_by(QuickReply.shortcut)]


def save_quick_reply(rt: Runtime, principal: Principal, division_id: int, shortcut: str,
                     body: str) -> int:
    require(principal, "quick_reply.manage")
    if division_id not in principal.divisions:
        raise Denied()
    shortcut = shortcut.strip().lstrip("/").casefold()
    if not shortcut.replace("-", "").replace("_", "").isalnum() or len(shortcut) > 32:
        raise WorkError("a shortcut is 1 to 32 letters, digits, dashes or underscores")
    if not body.strip() or len(body) > 4096:
        raise WorkError("a quick reply is 1 to 4,096 characters")
    with db.atomic():
        row = QuickReply.get_or_none(QuickReply.division == division_id,
                                     QuickReply.shortcut == shortcut)
        if row is None:
            row = QuickReply.create(division=division_id, shortcut=shortcut, body=body.strip())
        else:
            row.body = body.strip()
            row.save()
        rt.audit(actor=principal.actor, action="quick_reply.saved",
                 target=f"division:{division_id}")
    return int(row.id)

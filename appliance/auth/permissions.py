"""Provides roles, permissions and `authorize`: the one place that decides who may do what.

Deny by default. A role is a set of named permissions; an object's division decides
whether a permitted user may touch it: agents see their divisions' unassigned
conversations and their own, supervisors all of their divisions', and admins none
(they run the box, not the inbox) unless also given `content`, explicitly. A refusal
never says whether the object exists: callers answer 404 for every kind of "no".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from peewee import Expression, Model

from appliance.errors import GembokError
from appliance.store.models import Conversation, Customer, Media, Message, User, UserDivision

CONVERSATION = {"conversation.read", "conversation.reply", "conversation.assign",
                "conversation.export", "customer.read", "customer.change_phone",
                "customer.reveal_phone", "message.reveal", "report.read",
                "quick_reply.manage", "template.marketing", "customer.consent"}
ADMINISTRATION = {"user.manage", "division.manage", "audit.read", "keys.rotate",
                  "settings.manage", "customer.erase", "customer.merge", "backup.manage",
                  "backup.restore", "automation.manage", "broadcast.manage"}
# UU PDP: the data protection officer's work; `privacy.request` lets staff who serve a
# customer record what that customer asks for under the law (the DPO answers it).
PRIVACY = {"privacy.manage", "privacy.request"}
PERMISSIONS = frozenset(CONVERSATION | ADMINISTRATION | PRIVACY)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "agent": frozenset({"conversation.read", "conversation.reply", "conversation.assign",
                        "customer.read",
                        "customer.consent",  # what the customer asks for in the chat
                        "privacy.request"}),
    "supervisor": frozenset({"conversation.read", "conversation.reply", "conversation.assign",
                             "conversation.export", "customer.read", "customer.change_phone",
                             "customer.reveal_phone", "message.reveal", "report.read",
                             "quick_reply.manage", "template.marketing", "customer.consent",
                             "automation.manage",  # Auto Reply of their divisions
                             "broadcast.manage",  # campaigns to their divisions' customers
                             "privacy.request"}),
    "admin": frozenset(ADMINISTRATION),
    # The data protection officer answers requests for every customer: exports (which
    # open everything held about one person), corrections, erasures, holds, retention,
    # breaches; never the inbox's daily work.
    "dpo": frozenset({"privacy.manage", "privacy.request", "customer.erase", "audit.read"}),
}
# What `content` adds to an admin: reading, across every division, and nothing else.
CONTENT = frozenset({"conversation.read", "conversation.export", "customer.read",
                     "customer.reveal_phone", "message.reveal", "report.read"})
EXTRA = {"content"}

M = TypeVar("M", bound=Model)


class Denied(GembokError):
    """Not allowed, or not there: deliberately the same answer."""

    def __init__(self) -> None:
        super().__init__("not found")


@dataclass(frozen=True)
class Principal:
    """Who is asking: the user's id, role, divisions and resulting permissions."""

    user_id: int
    role: str
    divisions: frozenset[int]
    permissions: frozenset[str]
    every_division: bool = False  # an admin with `content`
    via: str = "cli"  # how the box's own administrator (user 0) is named in the audit

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def actor(self) -> str:
        return self.via if self.user_id == 0 else f"user:{self.user_id}"


# Whoever runs `gembok` on the box as root (or the service user) administers it.
BOX_ADMIN = Principal(0, "admin", frozenset(), frozenset(ADMINISTRATION))


def box_admin(via: str) -> Principal:
    """The box's administrator as the face they use is audited: `cli`, `tui:<login>`, or
    `system` (the appliance finishing what an administrator started)."""
    return replace(BOX_ADMIN, via=via)


# What the appliance itself does to conversations on the business's behalf (Auto Reply
# routes, labels, notes): a supervisor's daily work, nothing of reading or revealing.
SERVICE_WORK = frozenset({"conversation.reply", "conversation.assign"})


def service_principal(via: str, divisions: Iterable[int]) -> Principal:
    """The appliance working conversations as a supervisor of `divisions` would, audited
    as `via` (Auto Reply is `autoreply`): the same services, checks and audit as staff."""
    return Principal(0, "supervisor", frozenset(divisions), SERVICE_WORK, via=via)


def principal_for(user: User) -> Principal:
    extras = {p for p in user.extra_permissions.split(",") if p in EXTRA}
    permissions = set(ROLE_PERMISSIONS.get(user.role, frozenset()))
    every = user.role == "admin" and "content" in extras
    if every:
        permissions |= CONTENT
    divisions = frozenset(link.division_id for link in
                          UserDivision.select().where(UserDivision.user == user.id))
    return Principal(user.id, user.role, divisions, frozenset(permissions), every)


def require(principal: Principal, permission: str) -> None:
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    if not principal.can(permission):
        raise Denied()


def authorize(principal: Principal, permission: str, obj: Any = None) -> None:
    """Raises Denied unless `principal` may do `permission` to `obj` (None: no object)."""
    require(principal, permission)
    if obj is None:
        return
    conversations = _conversations_of(obj)
    if not any(_sees(principal, c, permission) for c in conversations):
        raise Denied()


def authorized(principal: Principal, permission: str, model: type[M], row_id: int) -> M:
    """Fetch-then-authorize, named once: the row, if `principal` may do `permission` to it.

    A row that does not exist and a row of another division get the same Denied (the
    routes answer 404 to both), so ids cannot be probed.
    """
    require(principal, permission)
    table: Any = model  # peewee's models are untyped
    row: M | None = table.get_or_none(table.id == row_id)
    if row is None:
        raise Denied()
    authorize(principal, permission, row)
    return row


def visible(principal: Principal) -> Expression:
    """The same rule as a query condition on Conversation, for lists, searches and counts."""
    if principal.every_division:
        return Conversation.id.is_null(False)
    if not principal.can("conversation.read") or not principal.divisions:
        return Conversation.id.is_null(True)  # matches nothing
    mine = Conversation.division.in_(sorted(principal.divisions))
    if principal.role == "agent":
        mine &= Conversation.assignee.is_null() | (Conversation.assignee == principal.user_id)
    return mine


def _sees(principal: Principal, convo: Conversation, permission: str) -> bool:
    if principal.every_division:
        return permission in CONTENT
    if convo.division_id is None or convo.division_id not in principal.divisions:
        return False
    if principal.role == "agent":
        return convo.assignee_id in (None, principal.user_id)
    return True


def _conversations_of(obj: Any) -> Iterable[Conversation]:
    if isinstance(obj, Conversation):
        return [obj]
    if isinstance(obj, Message):
        return [Conversation.get_by_id(obj.conversation_id)]
    if isinstance(obj, Media):
        return _conversations_of(Message.get_by_id(obj.message_id))
    if isinstance(obj, Customer):
        return list(Conversation.select().where(Conversation.customer == obj.id))
    raise TypeError(f"no division scope for {type(obj).__name__}")

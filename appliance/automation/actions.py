"""Provides `act`: what a fired rule does, through the same services staff use.

Routing, assigning, labels, status and notes go through `inbox.work` with Auto Reply's
service principal: the same checks (a division that exists, an agent of that division),
the same live-page changes and the same audit entries as when a supervisor does them,
with `autoreply` as the actor. An action that cannot be done (a division removed since
the rule was saved, an agent who left) is skipped with a line in the log, never a failed
batch: the customer's message is already safe, and the next rule may still answer.
"""

from __future__ import annotations

import logging

from appliance.auth.permissions import Denied, Principal
from appliance.automation.batch import ACTOR, Facts
from appliance.automation.menu import interactive, shown_text
from appliance.automation.rules import Action, Rule, media_of
from appliance.automation.sender import Sender
from appliance.errors import GembokError
from appliance.inbox import work
from appliance.runtime import Runtime
from appliance.store.models import Conversation

log = logging.getLogger(__name__)


def act(rt: Runtime, convo: Conversation, rule: Rule, facts: Facts, sender: Sender
        ) -> int | None:
    """Does `rule`'s actions on `convo`; returns the division it routed to, if it did."""
    routed = None
    for action in rule.actions:
        try:
            routed = _one(rt, convo, rule, action, facts, sender) or routed
        except (GembokError, ValueError) as exc:  # Denied, WorkError, WindowClosedError...
            log.info("auto reply rule %d: %s not done (%s)", rule.id, action.kind,
                     type(exc).__name__)
    rt.audit(actor=ACTOR, action="automation.rule_fired", target=f"conversation:{convo.id}",
             detail={"rule": rule.id})
    return routed


def _one(rt: Runtime, convo: Conversation, rule: Rule, action: Action, facts: Facts,
         sender: Sender) -> int | None:
    me = facts.principal
    if action.kind == "reply_text":
        sender.text(convo, action.value, rule.name, rule.id)
    elif action.kind == "reply_media":
        kind, link, caption = media_of(action.value)
        sender.media(convo, kind, link, caption, rule.name, rule.id)
    elif action.kind == "reply_template":
        name, _, language = action.value.partition("/")
        sender.template(convo, name, language or "id", rule.name, rule.id)
    elif action.kind == "reply_interactive":
        if facts.menu.choices:
            language = sender.language(convo)
            sender.interactive(convo, shown_text(facts.menu, 1, language),
                               interactive(facts.menu, 1, language), rule.name, rule.id)
    elif action.kind == "route_division" and action.target is not None:
        if action.target != convo.division_id and \
                route(rt, me, convo, action.target, f"{rule.name}: Auto Reply routed here"):
            return action.target
    elif action.kind == "route_agent" and action.target is not None:
        work.assign(rt, me, convo.id, action.target)
        convo.assignee_id = action.target
    elif action.kind == "set_status":
        work.set_status(rt, me, convo.id, action.value)
        convo.status = action.value
    elif action.kind == "add_label":
        labels = work.labels_of(convo.id)
        if action.value not in labels:
            work.set_labels(rt, me, convo.id, [*labels, action.value])
    elif action.kind == "note":
        note(rt, me, convo, f"{rule.name}: {action.value}")
    elif action.kind == "notify":
        note(rt, me, convo, f"🔔 {rule.name}: {action.value or 'needs a person'}")
        facts.notify.append((convo.id, rule.name))
    return None


def route(rt: Runtime, me: Principal, convo: Conversation, division_id: int, note: str
          ) -> bool:
    """Sends the conversation to `division_id`, with a note saying why; it leaves
    unassigned, like a supervisor's transfer. False when it could not go there."""
    try:
        work.transfer(rt, me, convo.id, division_id, note)
    except (Denied, work.WorkError):
        log.info("auto reply: conversation %d cannot go to division %d", convo.id, division_id)
        return False
    convo.division_id, convo.assignee_id = division_id, None
    return True


def note(rt: Runtime, me: Principal, convo: Conversation, text: str) -> None:
    try:
        work.add_system_note(rt, me.actor, convo.id, text)
    except GembokError:
        log.info("auto reply: no note on conversation %d", convo.id)

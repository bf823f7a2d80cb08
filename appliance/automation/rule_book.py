"""Provides the rule book: Auto Reply's rules as supervisors and admins keep them.

Admins keep the global rules; a supervisor keeps their own divisions' rules and sees the
global ones. Every change is checked (`rules.check_rule`) before it is saved and audited
after; a sample text can be tried against the rules as they are, or with one changed,
before saving ("would fire: rule 3, then stop"), and a rule moved up or down the list
without disturbing the order of the others. Workers hold the compiled `RuleSet` in
memory and rebuild it only when the book changed (one small query per batch tells).
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from typing import Any

from peewee import fn

from appliance.auth.permissions import Denied, Principal, require
from appliance.automation.matcher import Fired, Incoming, RuleSet, explain
from appliance.automation.rules import Action, Rule, RuleError, Trigger, check_rule
from appliance.clock import utcnow
from appliance.runtime import Runtime
from appliance.store.automation import AutoRule, stamps
from appliance.store.db import db
from appliance.store.models import Division


def rule_of(row: AutoRule) -> Rule:
    return Rule(int(row.id), row.name,
                tuple(Trigger(t["kind"], tuple(t.get("words", ())), t.get("mode", "contains"),
                              int(t.get("minutes", 0))) for t in json.loads(row.triggers)),
                tuple(Action(a["kind"], a.get("value", ""), a.get("target"))
                      for a in json.loads(row.actions)),
                stop=bool(row.stop), division_id=row.division_id, enabled=bool(row.enabled))


def _may_keep(principal: Principal, division_id: int | None) -> None:
    """Global rules are the admins'; a division's, its supervisors' (and the admins')."""
    require(principal, "automation.manage")
    if principal.role == "admin":
        if division_id is not None and Division.get_or_none(Division.id == division_id) is None:
            raise Denied()  # (not a foreign-key failure at the save)
        return
    if division_id is None or division_id not in principal.divisions:
        raise Denied()


def may_keep(principal: Principal, division_id: int | None) -> bool:
    """Whether `principal` may change the rules of `division_id` (None: the global ones)."""
    try:
        _may_keep(principal, division_id)
    except Denied:
        return False
    return True


def list_rules(principal: Principal) -> list[Rule]:
    """The rules in the order they are tried: all of them for an admin, the global ones and
    their divisions' for a supervisor."""
    require(principal, "automation.manage")
    query = AutoRule.select().order_by(AutoRule.position, AutoRule.id)
    if principal.role != "admin":
        mine = sorted(principal.divisions)
        query = query.where(AutoRule.division.is_null() | AutoRule.division.in_(mine))
    return [rule_of(row) for row in query]


def save_rule(rt: Runtime, principal: Principal, rule: Rule, *,
              position: int | None = None) -> int:
    """Adds a rule (id 0) at the end or at `position`, or changes one; returns its id."""
    _may_keep(principal, rule.division_id)
    with db.atomic():
        if rule.id:
            row = AutoRule.get_or_none(AutoRule.id == rule.id)
            if row is None:
                raise Denied()  # before its checks: a rule not there is not there
            _may_keep(principal, row.division_id)  # and may keep where it was
        else:
            last = AutoRule.select(fn.MAX(AutoRule.position)).scalar() or 0
            row = AutoRule(position=last + 10)
        check_rule(rule)
        triggers = json.dumps([asdict(t) for t in rule.triggers], ensure_ascii=False)
        actions = json.dumps([asdict(a) for a in rule.actions], ensure_ascii=False)
        row.name, row.division_id, row.stop, row.enabled = (
            rule.name.strip(), rule.division_id, rule.stop, rule.enabled)
        row.triggers, row.actions = triggers, actions
        if position is not None:
            row.position = position
        row.updated_at, row.updated_by = utcnow(), principal.user_id or None
        row.save()
        rt.audit(actor=principal.actor, action="automation.rule_saved",
                 target=f"auto_rule:{row.id}")
    return int(row.id)


def delete_rule(rt: Runtime, principal: Principal, rule_id: int) -> None:
    row = AutoRule.get_or_none(AutoRule.id == rule_id)
    if row is None:
        raise Denied()
    _may_keep(principal, row.division_id)
    with db.atomic():
        row.delete_instance()
        rt.audit(actor=principal.actor, action="automation.rule_deleted",
                 target=f"auto_rule:{rule_id}")


def move_rule(rt: Runtime, principal: Principal, rule_id: int, direction: str) -> bool:
    """Moves a rule one place "up" or "down" the list `principal` sees (past rules of other
    divisions, which never meet the same conversations); the others keep their order.
    False when it is first or last already."""
    row = AutoRule.get_or_none(AutoRule.id == rule_id)
    if row is None:
        raise Denied()
    _may_keep(principal, row.division_id)
    if direction not in ("up", "down"):
        raise RuleError(f"move “{direction}”: a rule moves up or down")
    with db.atomic():
        seen = [r.id for r in list_rules(principal)]
        at = seen.index(row.id)
        beside = at - 1 if direction == "up" else at + 1
        if not 0 <= beside < len(seen):
            return False
        order = [r for r in AutoRule.select(AutoRule.id, AutoRule.position)
                 .order_by(AutoRule.position, AutoRule.id) if r.id != row.id]
        place = next(n for n, r in enumerate(order) if r.id == seen[beside])
        order.insert(place if direction == "up" else place + 1, row)
        for n, other in enumerate(order, 1):  # renumbered 10, 20, ... as save_rule spaces them
            if other.id == row.id:  # a new updated_at: the workers rebuild their rule set
                AutoRule.update(position=n * 10, updated_at=utcnow(),
                                updated_by=principal.user_id or None).where(
                    AutoRule.id == row.id).execute()
            elif other.position != n * 10:
                AutoRule.update(position=n * 10).where(AutoRule.id == other.id).execute()
        rt.audit(actor=principal.actor, action="automation.rule_moved",
                 target=f"auto_rule:{row.id}", detail={"direction": direction})
    return True


@dataclass(frozen=True)
class Trial:
    """What the rules would do with a sample text; `refused`: why the changed rule could
    not be saved (then nothing was tried)."""

    fired: tuple[Fired, ...] = ()
    refused: str = ""

    @property
    def explanation(self) -> str:
        return f"not saved: {self.refused}" if self.refused else explain(list(self.fired))


def try_rules(principal: Principal, text: str, *, changed: Rule | None = None,
              **situation: Any) -> Trial:
    """What the rules would do with `text` (and `situation`: division_id, outside_hours,
    first_ever...), with `changed` in place of its saved self (or added, id 0) if given."""
    rules = list_rules(principal)
    if changed is not None:
        try:
            check_rule(changed)
        except RuleError as exc:
            return Trial(refused=str(exc))
        rules = [changed if r.id == changed.id else r for r in rules]
        if not changed.id:
            rules.append(changed)
    return Trial(tuple(RuleSet(rules).evaluate(Incoming(text, **situation))))


def try_text(principal: Principal, text: str, *, changed: Rule | None = None,
             **situation: Any) -> str:
    """`try_rules`, in words: "would fire: rule 3 “Tagihan”, then stop"."""
    return try_rules(principal, text, changed=changed, **situation).explanation


class Compiled:
    """The rule set a process answers with, rebuilt when the book changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: str | None = None
        self._rules = RuleSet(())

    def ready(self, stamp: str) -> RuleSet | None:
        """The compiled rules if they are the book's as `stamp` says, else None (a caller
        holding the write lock must not compile: it takes seconds with 1,000 rules)."""
        with self._lock:
            return self._rules if stamp == self._stamp else None

    def current(self, stamp: str | None = None) -> RuleSet:
        """The rules as the book holds them; `stamp`: the book's, read with others
        (`store.automation.stamps`), else read here."""
        if stamp is None:
            stamp = stamps()[0]
        with self._lock:
            if stamp != self._stamp:
                rows = AutoRule.select().order_by(AutoRule.position, AutoRule.id)
                self._rules, self._stamp = RuleSet(rule_of(r) for r in rows), stamp
            return self._rules


COMPILED = Compiled()

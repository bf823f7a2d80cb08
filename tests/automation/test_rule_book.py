"""The rule book's order: a rule moved up or down passes one rule its keeper sees, the others
keep theirs, the workers' compiled set follows, and every move is audited."""

from __future__ import annotations

import pytest

from appliance.auth.permissions import BOX_ADMIN, Denied, Principal
from appliance.automation import rule_book
from appliance.automation.matcher import Incoming
from appliance.automation.rules import Action, Rule, RuleError, Trigger
from appliance.inbox.divisions import create_division
from appliance.store.models import AuditEntry


def save(rt, name: str, division: int | None, who: Principal = BOX_ADMIN) -> int:
    return rule_book.save_rule(rt, who, Rule(0, name, (Trigger("keyword", ("tagihan",)),),
                                             (Action("reply_text", f"{name} menjawab"),),
                                             division_id=division))


def names(principal: Principal = BOX_ADMIN) -> list[str]:
    return [r.name for r in rule_book.list_rules(principal)]


def test_a_supervisor_moves_a_rule_past_the_one_above_it_and_the_others_keep_their_order(wa_rt):
    # Given a global rule, a Billing rule and two Sales rules, in that order
    sales = create_division(wa_rt, BOX_ADMIN, "Sales")
    billing = create_division(wa_rt, BOX_ADMIN, "Billing")
    budi = Principal(5, "supervisor", frozenset({sales}), frozenset({"automation.manage"}))
    save(wa_rt, "Global", None)
    save(wa_rt, "Billing", billing)
    save(wa_rt, "Sales 1", sales, budi)
    second = save(wa_rt, "Sales 2", sales, budi)
    answering = rule_book.COMPILED.current()  # what a worker holds
    # When Budi moves his second rule up, and up again
    assert rule_book.move_rule(wa_rt, budi, second, "up")
    assert names(budi) == ["Global", "Sales 2", "Sales 1"]
    assert rule_book.move_rule(wa_rt, budi, second, "up")
    # Then each time it passed the one rule above it in his list; the others keep their order
    assert names(budi) == ["Sales 2", "Global", "Sales 1"]
    assert names() == ["Sales 2", "Global", "Billing", "Sales 1"]
    # And a worker answers in the new order at once, and both moves are in the audit log
    assert rule_book.COMPILED.current() is not answering
    fired = rule_book.COMPILED.current().evaluate(Incoming("tagihan", division_id=sales))
    assert [f.rule.name for f in fired] == ["Sales 2"]
    moves = AuditEntry.select().where(AuditEntry.action == "automation.rule_moved")
    assert [(m.actor, m.target) for m in moves] == [("user:5", f"auto_rule:{second}")] * 2


def test_the_first_rule_does_not_move_up_nor_the_last_down(wa_rt):
    first, last = save(wa_rt, "Pertama", None), save(wa_rt, "Terakhir", None)
    assert not rule_book.move_rule(wa_rt, BOX_ADMIN, first, "up")
    assert not rule_book.move_rule(wa_rt, BOX_ADMIN, last, "down")
    assert rule_book.move_rule(wa_rt, BOX_ADMIN, first, "down")
    assert names() == ["Terakhir", "Pertama"]
    with pytest.raises(RuleError, match="up or down"):
        rule_book.move_rule(wa_rt, BOX_ADMIN, first, "top")


def test_a_supervisor_cannot_move_a_global_rule_or_another_divisions(wa_rt):
    sales = create_division(wa_rt, BOX_ADMIN, "Sales")
    billing = create_division(wa_rt, BOX_ADMIN, "Billing")
    budi = Principal(5, "supervisor", frozenset({sales}), frozenset({"automation.manage"}))
    theirs = [save(wa_rt, "Global", None), save(wa_rt, "Billing", billing)]
    save(wa_rt, "Sales", sales)
    for rule_id in [*theirs, 999]:
        with pytest.raises(Denied):
            rule_book.move_rule(wa_rt, budi, rule_id, "down")
    assert names() == ["Global", "Billing", "Sales"]
    assert rule_book.may_keep(budi, sales) and not rule_book.may_keep(budi, None)

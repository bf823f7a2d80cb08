"""Auto Reply's rules: ordered, first match, in memory, and what a supervisor would expect."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.automation.matcher import Incoming, RuleSet, explain
from appliance.automation.normalise import normalise
from appliance.automation.rules import Action, Rule, RuleError, Trigger, check_rule

REPLY = (Action("reply_text", "Terima kasih, kami bantu cek."),)


def rule(rule_id: int, *triggers: Trigger, stop: bool = True, division: int | None = None,
         name: str = "") -> Rule:
    return Rule(rule_id, name or f"aturan {rule_id}", triggers, REPLY, stop=stop,
                division_id=division)


def keyword(*words: str, mode: str = "contains") -> Trigger:
    return Trigger("keyword", words, mode)


def fired_ids(rules: RuleSet, text: str, **kw: object) -> list[int]:
    return [f.rule.id for f in rules.evaluate(Incoming(text, **kw))]  # type: ignore[arg-type]


def test_a_keyword_written_once_matches_how_customers_type_it():
    rules = RuleSet([rule(1, keyword("tagihan")), rule(2, keyword("tidak bisa bayar"))])
    assert fired_ids(rules, "TAGIHANNN saya dobel!!") == [1]
    assert fired_ids(rules, "Kak, gak bisa bayar nih") == [2]
    assert fired_ids(rules, "Tagihan Bulan Ini") == [1]
    assert normalise("Pésanan   yg ku-pesan") == "pesanan yang ku pesan"


def test_the_first_matching_rule_answers_and_the_list_stops_there():
    rules = RuleSet([rule(1, keyword("bayar")), rule(2, keyword("tagihan"))])
    assert fired_ids(rules, "mau bayar tagihan") == [1]


def test_a_rule_that_continues_lets_the_next_one_fire_too():
    rules = RuleSet([rule(1, keyword("bayar"), stop=False), rule(2, keyword("tagihan")),
                     rule(3, keyword("tagihan"))])
    assert fired_ids(rules, "mau bayar tagihan") == [1, 2]


def test_every_trigger_of_a_rule_must_hold():
    rules = RuleSet([rule(1, keyword("halo"), Trigger("outside_hours"))])
    assert fired_ids(rules, "halo", outside_hours=False) == []
    assert fired_ids(rules, "halo", outside_hours=True) == [1]


def test_a_divisions_rule_does_not_answer_another_divisions_conversation():
    rules = RuleSet([rule(1, keyword("promo"), division=2)])
    assert fired_ids(rules, "ada promo?", division_id=3) == []
    assert fired_ids(rules, "ada promo?", division_id=2) == [1]


def test_matching_modes_mean_what_they_say():
    rules = RuleSet([
        rule(1, keyword("menu", mode="exact")),
        rule(2, keyword("cek resi", mode="starts_with")),
        rule(3, keyword("ongkir", mode="whole_word")),
        rule(4, keyword(r"\bINV-\d{6}\b", mode="regex")),
    ])
    assert fired_ids(rules, " Menu ") == [1]
    assert fired_ids(rules, "menu dong") == []
    assert fired_ids(rules, "Cek resi JNE123") == [2]
    assert fired_ids(rules, "berapa ongkir ke Bogor") == [3]
    assert fired_ids(rules, "ongkirnya berapa") == []
    assert fired_ids(rules, "nomor tagihan inv-204455 belum masuk") == [4]


def test_a_button_reply_and_a_media_kind_can_trigger_a_rule():
    rules = RuleSet([rule(1, Trigger("reply_id", ("menu:tagihan",))),
                     rule(2, Trigger("media", ("image",)))])
    assert fired_ids(rules, "Tagihan", kind="interactive", reply_id="menu:tagihan") == [1]
    assert fired_ids(rules, "", kind="image") == [2]


def test_a_catastrophic_regular_expression_cannot_stall_the_worker():
    # (a+)+$ takes a backtracking engine exponential time on "aaa…!"; RE2 is linear
    rules = RuleSet([rule(1, keyword(r"(a+)+$", mode="regex"))])
    assert fired_ids(rules, "a" * 50_000 + "!") == []


def test_a_pattern_that_could_backtrack_is_refused_with_words():
    bad = rule(1, keyword(r"(\w+)\1", mode="regex"), name="Dobel")
    with pytest.raises(RuleError, match="rule “Dobel”, trigger 1: the regular expression"):
        check_rule(bad)


@pytest.mark.parametrize(("broken", "says"), [
    (Rule(1, "", (keyword("x"),), REPLY), "needs a name"),
    (Rule(1, "Kosong", (), REPLY), "has no trigger"),
    (Rule(1, "Diam", (keyword("x"),), ()), "does nothing"),
    (Rule(1, "Aneh", (Trigger("weather"),), REPLY), "is not a trigger"),
    (Rule(1, "Tanda", (keyword("!!!"),), REPLY), "has no letters or digits"),
    (Rule(1, "Arah", (keyword("x"),), (Action("route_division"),)), "which division"),
])
def test_a_rule_that_cannot_work_is_refused_before_it_is_saved(broken, says):
    with pytest.raises(RuleError, match=says):
        check_rule(broken)


def test_trying_a_sample_text_says_which_rule_would_fire():
    rules = RuleSet([rule(1, keyword("bayar"), stop=False, name="Pembayaran"),
                     rule(3, keyword("tagihan"), name="Tagihan")])
    assert explain(rules.evaluate(Incoming("bayar tagihan"))) == \
        "would fire: rule 1 “Pembayaran”, then rule 3 “Tagihan”, then stop"
    assert explain(rules.evaluate(Incoming("halo"))) == "no rule would fire"


WORDS = st.sampled_from(["tagihan", "bayar", "resi", "promo", "halo", "kirim", "paket",
                         "tidak", "bisa", "cek", "ongkir", "menu"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.lists(WORDS, min_size=1, max_size=3),
                          st.sampled_from(["exact", "contains", "starts_with", "whole_word"]),
                          st.booleans()), min_size=1, max_size=12),
       st.lists(WORDS, max_size=8))
def test_the_index_finds_exactly_what_trying_every_rule_one_by_one_finds(specs, message):
    rules = [rule(i, keyword(" ".join(words), mode=mode), stop=stop)
             for i, (words, mode, stop) in enumerate(specs)]
    text = " ".join(message)
    expected = []
    for r in rules:
        word = normalise(r.triggers[0].words[0])
        mode, norm = r.triggers[0].mode, normalise(text)
        hit = {"exact": norm == word, "contains": word in norm,
               "starts_with": norm.startswith(word),
               "whole_word": f" {word} " in f" {norm} "}[mode]
        if hit:
            expected.append(r.id)
            if r.stop:
                break
    assert fired_ids(RuleSet(rules), text) == expected

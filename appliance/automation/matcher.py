"""Provides `RuleSet`: the rules compiled once, tried against each inbound message in memory.

A thousand rules of two hundred keywords each are 200,000 keywords; trying them one by
one (as peers do, with SQL per rule) cannot answer in a fraction of a millisecond. So the
keywords are indexed by how they match: exact texts and whole words in dicts, prefixes
by length, and every "contains" keyword and every regular expression in one RE2 set each
(one linear pass over the message finds all of them, and no pattern can backtrack). Only
the rules with a hit, and the few with no keyword at all, are then tried, in order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import re2

from appliance.automation.normalise import normalise
from appliance.automation.rules import RE2_OPTIONS, Rule, Trigger

Hit = tuple[int, int]  # (rule position, trigger position)
_MAX_PHRASE = 6  # whole-word keywords of up to six words


@dataclass(frozen=True)
class Incoming:
    """What the rules see of one inbound message (no name, no number)."""

    text: str  # the body, or a caption; "" for none
    kind: str = "text"  # text, image, audio, ..., interactive, button
    reply_id: str | None = None  # a button's or list row's id
    division_id: int | None = None  # the conversation's division now
    first_ever: bool = False
    first_of_day: bool = False
    outside_hours: bool = False
    waiting_minutes: int = 0


@dataclass(frozen=True)
class Fired:
    rule: Rule
    stopped: bool  # the list ended here


class _LiteralSet:
    """Many patterns, one linear scan: which of them occur in a text."""

    def __init__(self) -> None:
        self._set = re2.Set.SearchSet(RE2_OPTIONS)
        self._hits: list[Hit] = []

    def add(self, pattern: str, hit: Hit) -> None:
        self._set.Add(pattern)
        self._hits.append(hit)

    def compile(self) -> None:
        if self._hits:
            self._set.Compile()

    def search(self, text: str) -> Iterable[Hit]:
        if not self._hits or not text:
            return ()
        return (self._hits[i] for i in self._set.Match(text) or ())


class RuleSet:
    """Rules in the order they are tried; immutable once built (rebuild on any change)."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = [r for r in rules if r.enabled]
        # what the rules look at: a batch reads only the facts some rule needs
        self.kinds = frozenset(t.kind for r in self.rules for t in r.triggers)
        self._exact: dict[str, list[Hit]] = defaultdict(list)
        self._words: dict[str, list[Hit]] = defaultdict(list)
        self._prefixes: dict[int, dict[str, list[Hit]]] = defaultdict(lambda: defaultdict(list))
        self._contains = _LiteralSet()
        self._patterns = _LiteralSet()
        self._keyless: list[int] = []  # rules with no keyword trigger: always tried
        self._phrase_lengths: set[int] = set()  # words in the whole-word keywords
        for i, rule in enumerate(self.rules):
            keyed = False
            for j, trigger in enumerate(rule.triggers):
                if trigger.kind == "keyword":
                    keyed = True
                    self._index(trigger, (i, j))
            if not keyed:
                self._keyless.append(i)
        self._contains.compile()
        self._patterns.compile()

    def _index(self, trigger: Trigger, hit: Hit) -> None:
        for word in trigger.words:
            if trigger.mode == "regex":
                self._patterns.add(word, hit)
                continue
            norm = normalise(word)
            if trigger.mode == "exact":
                self._exact[norm].append(hit)
            elif trigger.mode == "whole_word" and norm.count(" ") < _MAX_PHRASE:
                self._words[norm].append(hit)
                self._phrase_lengths.add(norm.count(" ") + 1)
            elif trigger.mode == "starts_with":
                self._prefixes[len(norm)][norm].append(hit)
            else:  # contains (and whole-word phrases longer than the n-grams looked up)
                self._contains.add(re2.escape(norm), hit)

    def hits(self, incoming: Incoming) -> set[Hit]:
        """Every keyword trigger the message satisfies."""
        norm = normalise(incoming.text)
        found: set[Hit] = set(self._exact.get(norm, ()))
        words = norm.split()
        for n in self._phrase_lengths:  # only the phrase lengths some keyword has
            for k in range(len(words) - n + 1):
                phrase = words[k] if n == 1 else " ".join(words[k:k + n])
                if phrase in self._words:
                    found.update(self._words[phrase])
        for length, table in self._prefixes.items():
            if length <= len(norm):
                found.update(table.get(norm[:length], ()))
        found.update(self._contains.search(norm))
        found.update(self._patterns.search(incoming.text))
        return found

    def evaluate(self, incoming: Incoming) -> list[Fired]:
        """The rules that fire, in order, up to and including the first that stops."""
        hits = self.hits(incoming)
        candidates = sorted({i for i, _ in hits}.union(self._keyless))
        fired: list[Fired] = []
        for i in candidates:
            rule = self.rules[i]
            if rule.division_id is not None and rule.division_id != incoming.division_id:
                continue
            if all(_holds(t, (i, j), hits, incoming) for j, t in enumerate(rule.triggers)):
                fired.append(Fired(rule, rule.stop))
                if rule.stop:
                    break
        return fired


def _holds(t: Trigger, hit: Hit, hits: set[Hit], m: Incoming) -> bool:
    if t.kind == "keyword":
        return hit in hits
    if t.kind == "reply_id":
        return m.reply_id is not None and m.reply_id in t.words
    if t.kind == "media":
        return m.kind in t.words
    if t.kind == "outside_hours":
        return m.outside_hours
    if t.kind == "first_ever":
        return m.first_ever
    if t.kind == "first_of_day":
        return m.first_of_day
    if t.kind == "waiting":
        return m.waiting_minutes >= t.minutes
    return False


def explain(fired: list[Fired]) -> str:
    """What a supervisor reads when trying a sample text: "would fire: …, then stop"."""
    if not fired:
        return "no rule would fire"
    names = ", then ".join(f"rule {f.rule.id} “{f.rule.name}”" for f in fired)
    return f"would fire: {names}" + (", then stop" if fired[-1].stopped else "")

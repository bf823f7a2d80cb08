"""Provides the opt-out and opt-in words the admin adds to the built-in ones.

Customers say "stop" in their own ways ("udahan", "gak usah kirim lagi"); the admin adds
those, and from the next webhook batch on such a whole message withdraws (or grants)
marketing like BERHENTI does, recorded in the ledger with the message as proof. Ingest
asks for the current words once per batch: one indexed read of a stamp, the words
themselves only when they changed.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from appliance.auth.permissions import Denied, Principal, require
from appliance.automation.normalise import normalise
from appliance.privacy.consent import BUILT_IN, OPT_IN_WORDS, OPT_OUT_WORDS, ConsentError, OptWords
from appliance.runtime import Runtime
from appliance.store import automation as store
from appliance.store.db import db

NAME = "opt_words"
MAX_WORDS = 100
MAX_LENGTH = 40


def added() -> tuple[list[str], list[str]]:
    """The admin's own words: (opt-out, opt-in), as they were typed."""
    found = store.setting(NAME)
    if found is None:
        return [], []
    data = json.loads(found[0])
    return list(data.get("out", [])), list(data.get("in", []))


def words_now() -> OptWords:
    out, in_ = added()
    out_set = OPT_OUT_WORDS | {normalise(w) for w in out}
    in_set = OPT_IN_WORDS | {normalise(w) for w in in_}
    longest = max(BUILT_IN.longest, *(len(w) + 8 for w in out + in_)) if out or in_ \
        else BUILT_IN.longest
    return OptWords(frozenset(out_set), frozenset(in_set), longest)


def save(rt: Runtime, principal: Principal, *, out: list[str], in_: list[str]) -> OptWords:
    """Replaces the admin's words; checked, so one list cannot contradict the other."""
    require(principal, "automation.manage")
    if principal.role != "admin":
        raise Denied()  # consent is the business's, not a division's
    clean_out, clean_in = _clean(out, "opt-out"), _clean(in_, "opt-in")
    both = {normalise(w) for w in clean_out} & ({normalise(w) for w in clean_in} | OPT_IN_WORDS)
    both |= {normalise(w) for w in clean_in} & OPT_OUT_WORDS
    if both:
        raise ConsentError(f"“{sorted(both)[0]}” cannot both stop and start promotions: "
                           "keep it in one list")
    with db.atomic():
        store.put_setting(NAME, json.dumps({"out": clean_out, "in": clean_in},
                                           ensure_ascii=False), principal.user_id or None)
        rt.audit(actor=principal.actor, action="consent.words_changed", target="opt_words",
                 detail={"out": len(clean_out), "in": len(clean_in)})
    return words_now()


def _clean(words: list[str], name: str) -> list[str]:
    kept: list[str] = []
    for word in words:
        word = " ".join(str(word).split())
        if not word:
            continue
        if len(word) > MAX_LENGTH:
            raise ConsentError(f"the {name} word “{word[:20]}…” is longer than {MAX_LENGTH} "
                               "characters: it must be a customer's whole message")
        if not normalise(word):
            raise ConsentError(f"the {name} word “{word}” has no letters or digits")
        if word not in kept:
            kept.append(word)
    if len(kept) > MAX_WORDS:
        raise ConsentError(f"at most {MAX_WORDS} {name} words")
    return kept


class Cached:
    """The words a process matches with, read again only when the admin changed them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: Any = None
        self._words = BUILT_IN

    def current(self) -> OptWords:
        stamp = store.setting_stamp(NAME)
        with self._lock:
            if stamp != self._stamp:
                self._words, self._stamp = (BUILT_IN if stamp is None else words_now()), stamp
            return self._words


CURRENT = Cached()

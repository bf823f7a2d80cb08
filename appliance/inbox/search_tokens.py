"""Provides search tokens: blind indexes of each word of a name and each tail of a phone.

An agent can find "Siti" by any whole word of her name, or her number by its last four or
more digits, while the database holds only HMACs of those tokens (under the index key,
with a purpose label each, so a name token never matches a phone token).
"""

from __future__ import annotations

import re
import unicodedata

from appliance.runtime import Runtime
from appliance.store.chatroom import CustomerToken

MIN_TAIL = 4
MAX_WORDS = 12


def words(text: str) -> list[str]:
    """Lower case, accents dropped, split on anything not a letter or digit."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return [w for w in re.split(r"[^\w]+", plain) if len(w) >= 2][:MAX_WORDS]


def tokens_for(rt: Runtime, name: str | None, e164: str | None) -> set[bytes]:
    found = {rt.index("name", w) for w in words(name or "")}
    digits = re.sub(r"\D", "", e164 or "")
    found |= {rt.index("tail", digits[-n:]) for n in range(MIN_TAIL, len(digits) + 1)}
    return found


def reindex(rt: Runtime, customer_id: int, name: str | None, e164: str | None) -> None:
    CustomerToken.delete().where(CustomerToken.customer == customer_id).execute()
    rows = [{"customer": customer_id, "token": t} for t in tokens_for(rt, name, e164)]
    if rows:
        CustomerToken.insert_many(rows).execute()


def query_tokens(rt: Runtime, query: str) -> list[bytes]:
    """What to look up for a query: every word must match (a name), or a phone tail."""
    digits = re.sub(r"[\s\-+().]", "", query)
    if digits.isdigit() and len(digits) >= MIN_TAIL:
        if digits.startswith("0"):  # 0812... written the Indonesian way: its tail still works
            digits = digits[1:]
        return [rt.index("tail", digits)]
    return [rt.index("name", w) for w in words(query)]

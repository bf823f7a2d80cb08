"""Provides routing: which division a new conversation lands in.

For now one rule: the division named by `inbox.default_division`, else the first one
made. Auto Reply's keyword and menu routing will come in front of it; an agent can always
transfer a conversation to another division by hand.
"""

from __future__ import annotations

from appliance.config import Settings
from appliance.store.models import Division


def division_for_new_conversation(settings: Settings) -> int | None:
    name = settings.inbox.default_division
    if name:
        row = Division.get_or_none(Division.name == name)
        if row is not None:
            return int(row.id)
    first = Division.select(Division.id).order_by(Division.id).first()
    return int(first.id) if first else None

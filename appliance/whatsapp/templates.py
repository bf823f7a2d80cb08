"""Provides the approved templates an agent can pick outside the 24-hour window.

Asked of the Graph API and kept for five minutes per process: the picker opens often,
templates change rarely, and Meta limits management calls per hour. Templates belong to
a WhatsApp Business Account, so a conversation's picker lists its number's account's,
read with that number's token, and kept per account.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from appliance.runtime import Runtime
from appliance.whatsapp import numbers
from appliance.whatsapp.client import GraphError
from appliance.whatsapp.connection import NotConfigured, make_client

CACHE_SECONDS = 300.0
_cache: dict[str, tuple[float, list[TemplateView]]] = {}


@dataclass(frozen=True)
class TemplateView:
    name: str
    language: str
    category: str
    body: str
    parameters: int  # how many values the body needs


def approved(rt: Runtime, number_id: int = numbers.FIRST_NUMBER) -> list[TemplateView]:
    """The approved templates a message from this number may use: its account's."""
    number = numbers.get(rt, number_id)
    hit = _cache.get(number.waba_id)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    try:
        with make_client(rt, number.id) as client:
            raw = client.templates(number.waba_id) if number.waba_id else []
    except (GraphError, NotConfigured):
        return hit[1] if hit else []
    views = []
    for t in raw:
        if t.get("status") != "APPROVED":
            continue
        body = next((c.get("text", "") for c in t.get("components", [])
                     if isinstance(c, dict) and str(c.get("type", "")).upper() == "BODY"), "")
        views.append(TemplateView(str(t.get("name", "")), str(t.get("language", "")),
                                  str(t.get("category", "")), str(body),
                                  len(set(re.findall(r"\{\{\s*(\w+)\s*\}\}", str(body))))))
    views.sort(key=lambda v: (v.name, v.language))
    _cache[number.waba_id] = (time.monotonic(), views)
    return views


def find(rt: Runtime, name: str, language: str,
         number_id: int = numbers.FIRST_NUMBER) -> TemplateView | None:
    return next((t for t in approved(rt, number_id) if (t.name, t.language) == (name, language)),
                None)


MAX_VALUE = 1000
_REFUSED_BY_META = re.compile(r"[\n\t]| {5,}")  # Meta answers 132018 to these


def refused_by_meta(value: str) -> bool:
    """A line break, a tab or five spaces in a row: Meta refuses the template (132018)."""
    return _REFUSED_BY_META.search(value) is not None


def check_values(template: TemplateView, values: list[str]) -> None:
    """The values a body needs, each one Meta accepts: checked here, in words, rather than
    sent and refused later with error 132018 on the message."""
    if len(values) != template.parameters:
        raise ValueError(f"template {template.name!r} needs {template.parameters} value(s), "
                         f"not {len(values)}")
    for number, value in enumerate(values, 1):
        if not value.strip():
            raise ValueError(f"value {number} is empty: fill it in")
        if len(value) > MAX_VALUE:
            raise ValueError(f"value {number} is over {MAX_VALUE:,} characters")
        if refused_by_meta(value):
            raise ValueError(f"value {number} has a line break, a tab or five spaces in a "
                             "row, which WhatsApp refuses in a template: write it on one line")

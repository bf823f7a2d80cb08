"""Provides the approved templates an agent can pick outside the 24-hour window.

Asked of the Graph API and kept for five minutes per process: the picker opens often,
templates change rarely, and Meta limits management calls per hour.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from appliance.runtime import Runtime
from appliance.whatsapp.client import GraphError
from appliance.whatsapp.connection import NotConfigured, make_client
from appliance.whatsapp.credentials import load_credentials

CACHE_SECONDS = 300.0
_cache: dict[str, tuple[float, list[TemplateView]]] = {}


@dataclass(frozen=True)
class TemplateView:
    name: str
    language: str
    category: str
    body: str
    parameters: int  # how many values the body needs


def approved(rt: Runtime) -> list[TemplateView]:
    hit = _cache.get("t")
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    try:
        creds = load_credentials(rt)
        with make_client(rt) as client:
            raw = client.templates(creds.waba_id) if creds.waba_id else []
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
    _cache["t"] = (time.monotonic(), views)
    return views

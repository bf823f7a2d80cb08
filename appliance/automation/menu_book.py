"""Provides the menu as the business keeps it: one for the whole box, kept by admins.

The menu is the business's front door: which divisions a customer may pick, in its
words. Admins keep it (a supervisor's rules can still route their own division's
keywords); every change is checked against WhatsApp's limits (`menu.check_menu`) and
the divisions that exist, then audited. Workers read it once per batch, through a stamp.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from appliance.auth.permissions import Denied, Principal, require
from appliance.automation.menu import NO_MENU, Menu, as_json, check_menu, from_json
from appliance.automation.rules import RuleError
from appliance.runtime import Runtime
from appliance.store import automation as store
from appliance.store.db import db
from appliance.store.models import Division

NAME = "menu"


def load() -> Menu:
    found = store.setting(NAME)
    return NO_MENU if found is None else from_json(json.loads(found[0]))


def menu_of(principal: Principal) -> Menu:
    require(principal, "automation.manage")
    return load()


def save_menu(rt: Runtime, principal: Principal, menu: Menu) -> Menu:
    require(principal, "automation.manage")
    if principal.role != "admin":
        raise Denied()  # the front door of every division
    check_menu(menu)
    known = {int(d.id) for d in Division.select(Division.id)}
    for n, choice in enumerate(menu.choices, 1):
        if choice.division_id not in known:
            raise RuleError(f"choice {n}: there is no such division (it may have been "
                            "removed); pick one from the list")
    if menu.default_division_id is not None and menu.default_division_id not in known:
        raise RuleError("the default division does not exist; pick one from the list")
    if menu.enabled and menu.default_division_id is None:
        raise RuleError("say which division takes a conversation when the customer does "
                        "not choose, or asks for a person")
    with db.atomic():
        store.put_setting(NAME, json.dumps(as_json(menu), ensure_ascii=False),
                          principal.user_id or None)
        rt.audit(actor=principal.actor, action="automation.menu_saved", target="menu",
                 detail={"choices": len(menu.choices), "enabled": menu.enabled})
    return menu


class Cached:
    """The menu a worker answers with, read again only when it changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: Any = object()
        self._menu = NO_MENU

    def current(self, stamp: Any = ...) -> Menu:
        """The menu as saved; `stamp`: its change time, read with others, else read here."""
        if stamp is ...:
            stamp = store.stamps()[1]
        with self._lock:
            if stamp != self._stamp:
                self._menu, self._stamp = load(), stamp
            return self._menu


CURRENT = Cached()

"""Provides deny-by-default for the web: every view declares who may call it, or the app
does not start.

Three declarations: `public` (the sign-in page), `signed_in(partial=...)` (the user's own
account pages; `partial` ones also serve a session that still owes its second factor
or a password change), and `permission(name)` (everything else: a full sign-in, the
permission, and then the service checks the object's division). Any refusal after sign-in
is a 404, the same as for an id that does not exist.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, NoReturn, TypeVar

from flask import Flask, abort, current_app, g, redirect, request, session, url_for

from appliance.auth import sessions
from appliance.auth.permissions import PERMISSIONS, Denied, Principal
from appliance.queue_port import QueuePort
from appliance.runtime import Runtime
from appliance.store.accounts import UserSession
from appliance.store.models import User

log = logging.getLogger(__name__)
BACKGROUND = "X-Gembok-Background"  # set by the Chatroom's scripts on their own refreshes

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTR = "_gembok_access"


@dataclass(frozen=True)
class Current:
    """The signed-in user of this request."""

    session: UserSession
    user: User
    principal: Principal

    @property
    def complete(self) -> bool:
        return bool(self.session.second_factor_done) and not self.user.must_change_password


def public(view: F) -> F:
    setattr(view, ACCESS_ATTR, "public")
    return view


def signed_in(partial: bool = False) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            current = _current_or_login()
            if not isinstance(current, Current):
                return current
            if not partial and not current.complete:
                return redirect(url_for("auth.next_step"))
            return view(*args, **kwargs)

        setattr(wrapper, ACCESS_ATTR, "signed_in")
        return wrapper  # type: ignore[return-value]

    return decorate


def _refused(me: Current, name: str) -> NoReturn:
    """A 404, and one log line an admin can act on (who, what route, which permission; ids
    only, never what was asked about): a refusal is worth noticing when it repeats."""
    log.warning("refused: %s asked %s %s (needs %s)", me.principal.actor, request.method,
                request.url_rule.rule if request.url_rule else "?", name)
    abort(404)


def permission(name: str, *, activity: bool = True) -> Callable[[F], F]:
    """`activity=False`: a request the page makes by itself (the live stream), which does
    not keep an idle session alive; only the user's own requests do."""
    if name not in PERMISSIONS:
        raise ValueError(f"unknown permission {name!r}")

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            current = _current_or_login(activity=activity)
            if not isinstance(current, Current):
                return current
            if not current.complete or not current.principal.can(name):
                _refused(current, name)
            try:
                return view(*args, **kwargs)
            except Denied:
                _refused(current, name)

        setattr(wrapper, ACCESS_ATTR, f"permission:{name}")
        return wrapper  # type: ignore[return-value]

    return decorate


def current() -> Current:
    return g.gembok_current  # type: ignore[no-any-return]


def runtime() -> Runtime:
    return current_app.extensions["gembok"]  # type: ignore[no-any-return]


def queue() -> QueuePort:
    """The app's one queue port (`create_app` builds it)."""
    return current_app.extensions["gembok.queue"]  # type: ignore[no-any-return]


def _current_or_login(activity: bool = True) -> Current | Any:
    found = getattr(g, "gembok_current", None)
    if found is not None:
        return found
    token = session.get("sid")
    # The page's own refreshes after a live change say so: they keep no session alive.
    activity = activity and request.headers.get(BACKGROUND) != "1"
    resolved = sessions.resolve(token, runtime().settings.auth,
                                activity=activity) if token else None
    if resolved is None:
        session.pop("sid", None)
        if request.path.startswith("/api/"):
            abort(401)
        return redirect(url_for("auth.login_page"))
    g.gembok_current = Current(*resolved)
    return g.gembok_current


def check_every_route(app: Flask) -> None:
    """Refuses to start an app with a view that declares no access rule."""
    missing = [rule.rule for rule in app.url_map.iter_rules()
               if rule.endpoint != "static"
               and not hasattr(app.view_functions[rule.endpoint], ACCESS_ATTR)]
    if missing:
        raise RuntimeError("routes without an access rule (public, signed_in or permission): "
                           + ", ".join(sorted(missing)))

"""Provides the page a signed-in user lands on: the Chatroom, or an admin's landing page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, render_template, url_for
from flask_babel import get_locale

from appliance import __version__
from webui.access import current, runtime, signed_in

bp = Blueprint("home", __name__)


@bp.app_context_processor
def page_language() -> dict[str, Any]:
    """Every page knows its language (for `<html lang>` and the header's switch) and who is
    signed in, if anyone (for the header's links)."""
    return {"current_lang": str(get_locale() or "id"), "me": getattr(g, "gembok_current", None)}


@bp.get("/")
@signed_in()
def index() -> Any:
    me = current()
    if me.principal.can("privacy.manage") and not me.principal.can("conversation.read"):
        return redirect(url_for("privacy.queue_page"))  # the DPO's work starts at the queue
    if not me.principal.can("conversation.read"):  # admins run the box, not the inbox
        return render_template("home/admin.html", version=__version__)
    config = {"user_id": me.user.id, "role": me.principal.role,
              "permissions": sorted(me.principal.permissions),
              "divisions": sorted(me.principal.divisions),
              "every_division": me.principal.every_division,
              "lang": str(get_locale() or "id"), "timezone": runtime().settings.timezone}
    return render_template("chatroom/index.html", config=config)

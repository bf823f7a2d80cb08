"""Provides the page a signed-in user lands on (the Chatroom takes its place next)."""

from __future__ import annotations

from flask import Blueprint, render_template

from appliance import __version__
from webui.access import current, signed_in

bp = Blueprint("home", __name__)


@bp.get("/")
@signed_in()
def index() -> str:
    me = current()
    return render_template("home/index.html", version=__version__, user=me.user,
                           principal=me.principal)

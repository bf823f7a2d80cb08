"""A small office for the web tests: divisions, a cast of staff, customers in each division.

The cast (healthchecks' Alice/Bob/Charlie, in Jakarta): Ayu the admin (no content),
Eko the admin trusted with content, Budi the Sales supervisor, Dedi and Sari agents of
Sales, Citra an agent of Billing; and Dewi, the data protection officer. Signed-in
browsers skip the password and second factor (those have their own tests) by holding a
fresh server-side session.
"""

from __future__ import annotations

import itertools
import json
import re
import tempfile
from dataclasses import dataclass, field
from typing import Any

import pytest
import werkzeug.formparser
from flask.testing import FlaskClient

from appliance.auth import sessions
from appliance.auth.passwords import hash_password
from appliance.auth.permissions import Principal
from appliance.auth.users import create_user
from appliance.bootstrap import initialise
from appliance.inbox.divisions import create_division
from appliance.keys.customer_keys import customer_keys
from appliance.store.db import db
from appliance.store.models import Conversation, Media, Message, User
from appliance.whatsapp import numbers, templates
from tests.cast import CAST, DIVISIONS, hire
from tests.conftest import settings_for
from tests.factories import deliver_text
from webui import create_app

_ADDRESSES = itertools.cycle(range(20, 250))
ROOT = Principal(0, "admin", frozenset(), frozenset({"division.manage", "user.manage"}))


@dataclass
class World:
    app: Any
    rt: Any
    divisions: dict[str, int]
    users: dict[str, int]
    conversations: dict[str, int]  # "sales", "sales_taken", "billing", "none"
    customers: dict[str, int]
    messages: dict[str, int]
    media: dict[str, int]
    counter: itertools.count = field(default_factory=itertools.count)


class Browser:
    """A signed-in browser over HTTPS, sending the CSRF token like the UI's scripts do."""

    def __init__(self, app: Any, token: str | None) -> None:
        self.client: FlaskClient = app.test_client()
        self.client.environ_base["wsgi.url_scheme"] = "https"
        self.client.environ_base["REMOTE_ADDR"] = f"192.168.1.{next(_ADDRESSES)}"
        if token:
            with self.client.session_transaction() as s:
                s["sid"] = token

    def csrf(self) -> str:
        """The token of this browser's current session (a sign-in starts a new session)."""
        page = self.client.get("/login").get_data(as_text=True)
        return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, body: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.client.post(path, data=json.dumps(body or {}), headers={
            "Content-Type": "application/json", "X-CSRFToken": self.csrf()}, **kwargs)

    def upload(self, path: str, filename: str, content: bytes, mime: str) -> Any:
        import io

        return self.client.post(path, data={"file": (io.BytesIO(content), filename, mime),
                                            "caption": "foto"},
                                headers={"X-CSRFToken": self.csrf()},
                                content_type="multipart/form-data")

    def form(self, path: str, data: dict[str, str]) -> Any:
        return self.client.post(path, data={**data, "csrf_token": self.csrf()})


def inbound(rt: Any, wamid: str, phone: str, name: str, body: str) -> int:
    """A customer's text through the webhook path; the conversation it landed in."""
    message_id = deliver_text(rt, wamid=wamid, body=body, wa_id=phone, name=name)
    return int(Message.get_by_id(message_id).conversation_id)


@pytest.fixture(scope="module")
def world(tmp_path_factory, engine) -> World:
    settings = settings_for(tmp_path_factory.mktemp("office") / "var")
    rt, _ = initialise(settings)
    divisions = {name: create_division(rt, ROOT, name) for name in DIVISIONS}
    users = {}
    for name in CAST:
        user = hire(rt, name, divisions)
        User.update(must_change_password=False).where(User.id == user.id).execute()
        users[name] = user.id
    User.update(extra_permissions="content").where(User.id == users["eko"]).execute()
    dewi, _ = create_user(rt, username="dewi", display_name="Dewi", role="dpo", actor="system",
                          email="dpo@toko.example")  # the data protection officer
    User.update(must_change_password=False).where(User.id == dewi.id).execute()
    users["dewi"] = dewi.id
    conversations = {
        "sales": inbound(rt, "wamid.S1", "6281111111111", "Siti", "NIK 3174051234567890"),
        "sales_taken": inbound(rt, "wamid.S2", "6281222222222", "Rudi", "Paket saya?"),
        "billing": inbound(rt, "wamid.B1", "6281333333333", "Tono", "Tagihan ganda"),
        "none": inbound(rt, "wamid.N1", "6281444444444", "Wati", "Halo"),
    }
    for key, division in (("sales", "Sales"), ("sales_taken", "Sales"),
                          ("billing", "Billing")):
        Conversation.update(division=divisions[division]).where(
            Conversation.id == conversations[key]).execute()
    Conversation.update(division=None).where(Conversation.id == conversations["none"]).execute()
    Conversation.update(assignee=users["sari"]).where(
        Conversation.id == conversations["sales_taken"]).execute()
    customers = {k: Conversation.get_by_id(v).customer_id for k, v in conversations.items()}
    messages = {k: Message.get(Message.conversation == v).id for k, v in conversations.items()}
    media = {}
    for key, convo in conversations.items():
        msg = Message.create(conversation=convo, direction="in", kind="image",
                             wamid=f"wamid.IMG{key}")
        row = Media.create(message=msg, wa_media_id="1", mime_type="image/jpeg", state="stored")
        row.content_sealed = customer_keys(rt.master, customers[key]).seal(
            b"\xff\xd8foto", f"media|content|{row.id}".encode())
        row.save()
        media[key] = row.id
    app = create_app(settings, enqueue=False)
    # what Meta approved for the account of this business's number
    templates._cache[numbers.get(rt, numbers.FIRST_NUMBER).waba_id] = (float("inf"), APPROVED)
    yield World(app, rt, divisions, users, conversations, customers, messages, media)
    templates._cache.clear()
    db.close()


APPROVED = [templates.TemplateView("order_update", "id", "UTILITY",
                                   "Halo {{1}}, pesanan {{2}} sudah dikirim.", 2),
            templates.TemplateView("promo_lebaran", "id", "MARKETING",
                                   "Diskon Lebaran untuk {{1}}!", 1)]


PASSWORD = "kopi tubruk sore hujan gerimis"


def make_user(world: World, name: str, role: str = "agent", password: str = PASSWORD) -> User:
    """A person of Sales who has signed in before: their password is known, no change due."""
    user, _ = create_user(world.rt, username=name, display_name=name.title(), role=role,
                          actor="system", email=f"{name}@toko.example",
                          divisions=[world.divisions["Sales"]])
    User.update(password_hash=hash_password(password), must_change_password=False).where(
        User.id == user.id).execute()
    world.users[name] = user.id
    return User.get_by_id(user.id)


@pytest.fixture
def mailbox(world: World, smtpd: Any) -> Any:
    """E-mail switched on, through the test SMTP server: what lands in the staff's inboxes."""
    from appliance.config import load_settings
    from appliance.runtime import Runtime

    settings = load_settings({"GEMBOK_DATA_DIR": str(world.rt.settings.data_dir),
                              "GEMBOK_SMTP_HOST": "127.0.0.1", "GEMBOK_SMTP_PORT": str(smtpd.port),
                              "GEMBOK_SMTP_CA_FILE": str(smtpd.ca_file)})
    world.app.extensions["gembok"] = Runtime(settings, world.rt.keyring, world.rt.index)
    yield smtpd.handler.messages
    world.app.extensions["gembok"] = world.rt


def sign_in_as(world: World, name: str | None) -> Browser:
    if name is None:
        return Browser(world.app, None)
    user = User.get_by_id(world.users[name])
    token = sessions.create(user, world.rt.settings.auth, ip="192.168.1.20",
                            user_agent="pytest", second_factor_done=True)
    return Browser(world.app, token)


@pytest.fixture
def no_temporary_files(monkeypatch):
    """Any attempt of this process to make a temporary file fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("an upload went to a temporary file on disk")

    for name in ("TemporaryFile", "SpooledTemporaryFile", "NamedTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    for name in ("TemporaryFile", "SpooledTemporaryFile"):  # werkzeug's own references
        monkeypatch.setattr(werkzeug.formparser, name, refuse, raising=False)

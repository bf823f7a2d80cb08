"""Deny by default, for routes and for services: nothing is open by forgetting."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from flask import Flask

from appliance.auth import login
from appliance.auth.passwords import needs_rehash
from appliance.auth.permissions import Denied, Principal
from appliance.inbox import conversations, outbound, reports, work
from appliance.privacy import consent
from appliance.store.models import User
from tests.web.conftest import sign_in_as
from tests.web.test_sign_in import PASSWORD, make_user
from webui import access


def test_an_app_with_a_route_that_declares_no_access_rule_does_not_start():
    app = Flask(__name__)

    @app.get("/declared")
    @access.public
    def declared() -> str:
        return "fine"

    @app.get("/forgotten")
    def forgotten() -> str:
        return "oops"

    with pytest.raises(RuntimeError, match="/forgotten") as caught:
        access.check_every_route(app)
    assert "/declared" not in str(caught.value)


@pytest.mark.parametrize("call", [
    lambda rt, p: conversations.list_conversations(rt, p),
    lambda rt, p: conversations.open_conversation(rt, p, 1),
    lambda rt, p: conversations.search(rt, p, "081111111111"),
    lambda rt, p: conversations.counts(p),
    lambda rt, p: conversations.export(rt, p, 1),
    lambda rt, p: conversations.media_content(rt, p, 1),
    lambda rt, p: outbound.reply(rt, p, 1, "hai"),
    lambda rt, p: outbound.queue_template(rt, p, 1, "hello_world", "en_US", []),
    lambda rt, p: work.assign(rt, p, 1, None),
    lambda rt, p: work.transfer(rt, p, 1, 1, "x"),
    lambda rt, p: work.set_status(rt, p, 1, "resolved"),
    lambda rt, p: work.set_labels(rt, p, 1, ["vip"]),
    lambda rt, p: work.add_note(rt, p, 1, "x"),
    lambda rt, p: work.mark_read(p, 1),
    lambda rt, p: work.save_quick_reply(rt, p, 1, "x", "y"),
    lambda rt, p: conversations.customer_panel(rt, p, 1),
    lambda rt, p: consent.record_on_request(rt, p, 1, "marketing", False),
    lambda rt, p: reports.load(p),
])
def test_a_service_called_without_a_permission_refuses(world, call):
    nobody = Principal(user_id=999, role="agent", divisions=frozenset(),
                       permissions=frozenset())
    with pytest.raises(Denied):
        call(world.rt, nobody)


def test_an_old_password_hash_is_upgraded_at_the_next_sign_in(world):
    user = make_user(world, "lama")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    User.update(password_hash=weak).where(User.id == user.id).execute()
    assert needs_rehash(weak)
    outcome = login.sign_in(world.rt, login.Attempt("lama", PASSWORD, "10.1.1.1", "ua", "dev"))
    assert outcome.ok
    assert not needs_rehash(User.get_by_id(user.id).password_hash)


def test_a_form_another_site_makes_the_browser_post_is_refused(world):
    # Given Dedi signed in, when a page on another site makes his browser post to Gembok
    dedi = sign_in_as(world, "dedi")
    token = dedi.csrf()
    forged = dedi.client.post("/logout", data={"csrf_token": token},
                              headers={"Sec-Fetch-Site": "cross-site"})
    # Then it is refused before any view runs, and his session lives on
    assert forged.status_code == 403
    assert dedi.get("/").status_code == 200
    # While the same post from Gembok's own page (no Referer under no-referrer) works
    own = dedi.client.post("/logout", data={"csrf_token": token},
                           headers={"Sec-Fetch-Site": "same-origin"})
    assert own.status_code == 302
    assert dedi.get("/api/conversations").status_code in (401, 302)

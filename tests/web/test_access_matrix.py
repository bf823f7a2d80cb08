"""Every route x every role x own division / other division / no division: who gets in.

Generated from the app's URL map: a route added without an entry here fails the suite.
A signed-in user who may not see something gets 404, exactly as for an id that does not
exist, so guessing ids confirms nothing. Anonymous callers get 401 (API) or the sign-in
page (pages).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from appliance.auth.permissions import BOX_ADMIN, principal_for
from appliance.automation import campaigns, rule_book
from appliance.automation.audience import Filter
from appliance.automation.rules import Action, Rule, Trigger
from appliance.clock import utcnow
from appliance.privacy import breach, export, requests
from appliance.store import broadcast as store
from appliance.store.models import Conversation, User
from tests.conftest import BOTH_ENGINES
from tests.web.conftest import World, sign_in_as

pytestmark = BOTH_ENGINES

ROLES = ["anonymous", "ayu", "eko", "budi", "dedi", "citra", "dewi"]
# Which of the cast can do each kind of thing, and in which division's objects.
#   ayu: admin, no content    eko: admin with content (every division, read only)
#   budi: Sales supervisor    dedi: Sales agent    citra: Billing agent
#   dewi: the data protection officer (every customer's privacy, no inbox)
SCOPES = ["own", "other", "none"]  # the object is in the user's division, another, or none
HOME = {"budi": "sales", "dedi": "sales", "citra": "billing"}  # admins: Sales, arbitrarily
STAFF = set(HOME)


def object_key(role: str, scope: str) -> str:
    home = HOME.get(role, "sales")
    if scope == "own":
        return home
    return {"other": "billing" if home == "sales" else "sales", "none": "none"}[scope]


@dataclass(frozen=True)
class Route:
    method: str
    path: Callable[[World, str], str]  # (world, object key) -> path
    allowed: Callable[[str, str], bool]  # (role, scope) -> may it?
    ok: int = 200
    body: Callable[[World], dict[str, Any]] | None = None
    page: bool = False  # an HTML page: anonymous is sent to sign in
    ok_for: tuple[tuple[str, int], ...] = ()  # a role for whom "allowed" looks different


def obj(kind: str) -> Callable[[World, str], str]:
    def path(w: World, key: str) -> str:
        table = {"conversations": w.conversations, "customers": w.customers,
                 "messages": w.messages, "media": w.media}[kind.split("/")[0]]
        base, _, rest = kind.partition("/")
        return f"/api/{base}/{table[key]}" + (f"/{rest}" if rest else "")
    return path


def fixed(url: str) -> Callable[[World, str], str]:
    return lambda w, key: url


def readers(role: str, scope: str) -> bool:
    """Conversation content: staff in their own division, Eko everywhere."""
    return role == "eko" or (role in STAFF and scope == "own")


def writers(role: str, scope: str) -> bool:
    return role in STAFF and scope == "own"


def supervisors_and_eko(role: str, scope: str) -> bool:
    return role == "eko" or (role == "budi" and scope == "own")


def anyone_who_reads(role: str, scope: str) -> bool:
    """Lists, searches and counts: allowed to every reader; the scope is in the result."""
    return role in {"eko", "budi", "dedi", "citra"}


def admins(role: str, scope: str) -> bool:
    return role in {"ayu", "eko"}


def signed_in(role: str, scope: str) -> bool:
    return role != "anonymous"


def everyone(role: str, scope: str) -> bool:
    return True


def keepers(role: str, scope: str) -> bool:
    """Auto Reply's rules and hours: the admins, and Budi for Sales (the bodies name Sales)."""
    return role in {"ayu", "eko", "budi"}


HOURS_OF = {"sales": "Sales", "billing": "Billing"}  # "none": the default of every division
_RULES: dict[int, int] = {}  # the world's Sales rule, made once


def sales_rule(w: World) -> dict[str, Any]:
    return {"name": "Tagihan", "division_id": w.divisions["Sales"],
            "triggers": [{"kind": "keyword", "words": ["tagihan"]}],
            "actions": [{"kind": "reply_text", "value": "Baik, kami cek."}]}


def rule_of(w: World, fresh: bool = False) -> int:
    """A Sales rule to change or move; a fresh one for each delete."""
    if fresh or id(w) not in _RULES:
        made = rule_book.save_rule(w.rt, BOX_ADMIN, Rule(
            0, "Tagihan", (Trigger("keyword", ("tagihan",)),),
            (Action("reply_text", "Baik, kami cek."),), division_id=w.divisions["Sales"]))
        if fresh:
            return made
        _RULES[id(w)] = made
    return _RULES[id(w)]


def brokers(role: str, scope: str) -> bool:
    """Broadcast: the admins, and Budi (supervisor of Sales)."""
    return role in {"ayu", "eko", "budi"}


_CAMPAIGNS: dict[tuple[int, str], int] = {}  # the world's campaign per scope, made once


def campaign_of(w: World, key: str) -> int:
    """A draft campaign of Sales, of Billing, or of every division (`none`: an admin's);
    nobody in it has opted in, so starting it is refused (422) for whoever may."""
    if (id(w), key) not in _CAMPAIGNS:
        template = store.WaTemplate.get_or_none(store.WaTemplate.name == "matrix")
        if template is None:
            now = utcnow()
            template = store.WaTemplate.create(
                meta_id="77", name="matrix", language="id", category="MARKETING",
                previous_category="", status="APPROVED", reason="",
                components='[{"type": "BODY", "text": "Halo {{1}}"}]',
                parameter_format="POSITIONAL", synced_at=now, updated_at=now)
        division = {"sales": "Sales", "billing": "Billing"}.get(key)
        _CAMPAIGNS[(id(w), key)] = campaigns.create(
            w.rt, BOX_ADMIN, name=f"Matrix {key}", template_id=int(template.id),
            parameters=[{"name": "1", "source": "text", "value": "Kak"}],
            audience_filter=Filter(divisions=(w.divisions[division],)) if division else None)
    return _CAMPAIGNS[(id(w), key)]


def in_campaign(tail: str = "") -> Callable[[World, str], str]:
    return lambda w, key: f"/broadcast/{campaign_of(w, key)}{tail}"


def supervisors_of_the_campaign(role: str, scope: str) -> bool:
    return admins(role, scope) or (role == "budi" and scope == "own")


def unique(prefix: str) -> Callable[[World], dict[str, Any]]:
    def body(w: World) -> dict[str, Any]:
        n = next(w.counter)
        return {"username": f"{prefix}{n}", "display_name": "Baru", "role": "agent",
                "name": f"{prefix} {n}", "phone": f"+62 857 {n:04d} {n:04d}",
                "reason": "pelanggan meminta koreksi", "text": "Baik, kak",
                "assignee_id": None, "active": True}
    return body


def dpo(role: str, scope: str) -> bool:
    return role == "dewi"


def requesters(role: str, scope: str) -> bool:
    """A customer's request under UU PDP: the DPO for anyone, staff for those they serve."""
    return role == "dewi" or (role in STAFF and scope == "own")


_PRIVACY: dict[tuple[int, str], Any] = {}  # the world's request, export and breach


def _made(w: World, what: str, make: Callable[[], Any]) -> Any:
    if (id(w), what) not in _PRIVACY:
        _PRIVACY[(id(w), what)] = make()
    return _PRIVACY[(id(w), what)]


def request_of(w: World) -> int:
    return _made(w, "request", lambda: requests.record(
        w.rt, principal_for(User.get_by_id(w.users["dewi"])), w.customers["sales"], "access"))


def export_of(w: World) -> str:
    dewi = principal_for(User.get_by_id(w.users["dewi"]))
    return _made(w, "export", lambda: export.keep(
        w.rt.settings, export.build(w.rt, dewi, w.customers["billing"])))


def breach_of(w: World) -> int:
    return _made(w, "breach", lambda: breach.record(
        w.rt, principal_for(User.get_by_id(w.users["dewi"])),
        starts_at=utcnow() - timedelta(days=1), ends_at=utcnow(), accounts="dedi",
        addresses="", description=""))


ROUTES: dict[str, Route] = {
    "healthz": Route("GET", fixed("/healthz"), everyone),
    "auth.login_page": Route("GET", fixed("/login"), everyone, page=True),
    "auth.next_step": Route("GET", fixed("/login/next"), signed_in, ok=302, page=True),
    "auth.second_factor": Route("GET", fixed("/login/second-factor"), signed_in, ok=302,
                                page=True),
    "auth.enrol": Route("GET", fixed("/account/second-factor"), signed_in, page=True),
    "auth.password": Route("GET", fixed("/account/password"), signed_in, page=True),
    "auth.password_strength": Route("POST", fixed("/account/password/strength"), signed_in,
                                    body=lambda w: {"password": "kopi tubruk sore hujan"},
                                    page=True),
    "auth.logout": Route("POST", fixed("/logout"), signed_in, ok=302, page=True),
    "auth.language": Route("POST", fixed("/account/language"), signed_in, ok=302,
                           body=lambda w: {"language": "id"}, page=True),
    "auth.my_sessions": Route("GET", fixed("/account/sessions"), signed_in, page=True),
    "auth.end_session": Route("POST", fixed("/account/sessions/999999/end"),
                              lambda r, s: False, page=True),
    # (the DPO's work starts at the privacy queue: sent there)
    "home.index": Route("GET", fixed("/"), signed_in, page=True, ok_for=(("dewi", 302),)),
    "chatroom.dashboard": Route("GET", fixed("/dashboard?days=30"),
                                lambda r, s: r in {"eko", "budi"}, page=True),
    "api.list_conversations": Route("GET", fixed("/api/conversations"), anyone_who_reads),
    "api.open_conversation": Route("GET", obj("conversations"), readers),
    "api.reply": Route("POST", obj("conversations/reply"), writers, ok=202,
                       body=unique("reply")),
    "api.assign": Route("POST", obj("conversations/assign"), writers, body=unique("assign")),
    "api.mark_read": Route("POST", obj("conversations/read"), readers),
    "api.send_template": Route("POST", obj("conversations/template"), writers, ok=202,
                               body=lambda w: {"name": "order_update", "language": "id",
                                               "parameters": ["Siti", "INV-1"]}),
    "api.attach": Route("POST", obj("conversations/attachment"), writers, ok=202,
                        body=lambda w: {"__file__": True}),
    # (to its own division: refused for its meaning (422) once access is granted, so the
    #  shared test data stays where it is)
    "api.transfer": Route("POST", obj("conversations/transfer"), writers, ok=422,
                          body=lambda w: {"division_id": "same", "note": "ke Support"}),
    "api.set_status": Route("POST", obj("conversations/status"), writers,
                            body=lambda w: {"status": "open"}),
    "api.set_labels": Route("POST", obj("conversations/labels"), writers,
                            body=lambda w: {"labels": ["vip"]}),
    "api.add_note": Route("POST", obj("conversations/notes"), writers, ok=201,
                          body=lambda w: {"text": "pelanggan lama"}),
    "api.quick_replies": Route("GET", fixed("/api/quick-replies"), lambda r, s: r in STAFF),
    "api.save_quick_reply": Route("POST", fixed("/api/quick-replies"),
                                  lambda r, s: r == "budi",
                                  ok=201, body=lambda w: {"division_id": w.divisions["Sales"],
                                                          "shortcut": "salam",
                                                          "body": "Halo kak!"}),
    "api.list_templates": Route("GET", fixed("/api/templates"), lambda r, s: r in STAFF),
    "api.list_divisions": Route("GET", fixed("/api/divisions"), anyone_who_reads),
    "api.list_labels": Route("GET", fixed("/api/labels"), anyone_who_reads),
    "api.list_numbers": Route("GET", fixed("/api/numbers"), anyone_who_reads),
    "api.list_agents": Route("GET", fixed("/api/agents"), lambda r, s: r in STAFF),
    "api.export": Route("GET", obj("conversations/export"), supervisors_and_eko),
    "api.search": Route("POST", fixed("/api/search"), anyone_who_reads,
                        body=lambda w: {"q": "081111111111"}),
    "api.counts": Route("GET", fixed("/api/counts"), anyone_who_reads),
    "api.media": Route("GET", obj("media"), readers),
    "api.customer": Route("GET", obj("customers"), readers),
    "api.edit_phone": Route("POST", obj("customers/phone"),
                            lambda r, s: r == "budi" and s == "own", body=unique("edit")),
    "api.reveal_customer_phone": Route("POST", obj("customers/reveal-phone"),
                                       supervisors_and_eko, body=unique("reveal")),
    "api.record_consent": Route("POST", obj("customers/consent"), writers, ok=201,
                                body=lambda w: {"purpose": "marketing", "granted": False}),
    "api.reveal_message_text": Route("POST", obj("messages/reveal"), supervisors_and_eko,
                                     body=unique("reveal")),
    "api.report": Route("GET", fixed("/api/reports/summary"),
                        lambda r, s: r in {"eko", "budi"}),
    "api.stream": Route("GET", fixed("/api/stream"), anyone_who_reads),
    "admin.list_users": Route("GET", fixed("/api/admin/users"), admins),
    "admin.create_user": Route("POST", fixed("/api/admin/users"), admins, ok=201,
                               body=unique("staff")),
    "admin.update_user": Route("POST", lambda w, k: f"/api/admin/users/{w.users['citra']}",
                               admins, body=lambda w: {"active": True}),
    "admin.list_divisions": Route("GET", fixed("/api/admin/divisions"), admins),
    "admin.create_division": Route("POST", fixed("/api/admin/divisions"), admins, ok=201,
                                   body=unique("Divisi")),
    "admin.update_division": Route("POST",
                                   lambda w, k: f"/api/admin/divisions/{w.divisions['Support']}",
                                   admins, body=lambda w: {"retention_days": 365}),
    # The welcome page: the business's notice, menu and opt words; supervisors read it.
    "welcome.page": Route("GET", fixed("/automation/welcome"),
                          lambda r, s: r in {"ayu", "eko", "budi"}, page=True),
    # (an empty notice: refused for its meaning once access is granted)
    "welcome.publish_notice": Route("POST", fixed("/automation/welcome/notice"), admins,
                                    ok=422, page=True),
    "welcome.save_menu": Route("POST", fixed("/automation/welcome/menu"), admins, ok=303,
                               page=True),
    "welcome.save_words": Route("POST", fixed("/automation/welcome/words"), admins, ok=303,
                                page=True),
    # Auto Reply's rules and hours: the admins everywhere, Budi his division's (Sales).
    "automation.rules_page": Route("GET", fixed("/automation"), keepers, page=True),
    "automation.hours_page": Route("GET", fixed("/automation/hours"), keepers, page=True),
    "automation.list_rules": Route("GET", fixed("/api/automation/rules"), keepers),
    "automation.create_rule": Route("POST", fixed("/api/automation/rules"), keepers, ok=201,
                                    body=sales_rule),
    "automation.update_rule": Route("POST", lambda w, k: f"/api/automation/rules/{rule_of(w)}",
                                    keepers, body=sales_rule),
    "automation.delete_rule": Route("POST", lambda w, k: "/api/automation/rules/"
                                    f"{rule_of(w, fresh=True)}/delete", keepers),
    "automation.move_rule": Route("POST", lambda w, k: f"/api/automation/rules/{rule_of(w)}/move",
                                  keepers, body=lambda w: {"direction": "up"}),
    "automation.try_rules": Route("POST", fixed("/api/automation/try"), keepers,
                                  body=lambda w: {"text": "mau tanya tagihan"}),
    # (the scope in the address: the user's division, another, or the default of all)
    "automation.hours": Route("GET", lambda w, k: "/api/automation/hours" + (
        f"?division={w.divisions[HOURS_OF[k]]}" if k in HOURS_OF else ""),
        lambda r, s: admins(r, s) or (r == "budi" and s == "own")),
    "automation.save_hours": Route("POST", fixed("/api/automation/hours"), keepers,
                                   body=lambda w: {"division_id": w.divisions["Sales"],
                                                   "periods": [{"weekday": 0, "opens": "08:00",
                                                                "closes": "17:00"}]}),
    "automation.clear_hours": Route("POST", fixed("/api/automation/hours/clear"), keepers,
                                    body=lambda w: {"division_id": w.divisions["Sales"]}),
    "automation.save_day": Route("POST", fixed("/api/automation/hours/days"), keepers, ok=201,
                                 body=lambda w: {"division_id": w.divisions["Sales"],
                                                 "day": "2026-12-24", "kind": "closed",
                                                 "label": "Stock opname"}),
    "automation.remove_day": Route("POST", fixed("/api/automation/hours/days/remove"), keepers,
                                   body=lambda w: {"division_id": w.divisions["Sales"],
                                                   "day": "2026-12-24"}),
    # Broadcast: the admins every campaign, Budi his division's (the campaign's own scope).
    "broadcast.index": Route("GET", fixed("/broadcast"), brokers, page=True),
    "broadcast.templates_page": Route("GET", fixed("/broadcast/templates"), brokers, page=True),
    # (no WhatsApp Business Account id in this world: refused in words)
    "broadcast.sync_templates": Route("POST", fixed("/broadcast/templates/sync"), brokers,
                                      ok=422, page=True),
    "broadcast.new": Route("GET", fixed("/broadcast/new"), brokers, page=True),
    "broadcast.campaign": Route("GET", in_campaign(), supervisors_of_the_campaign, page=True),
    # (no file in the request: refused for what it lacks once access is granted)
    "broadcast.import_csv": Route("POST", in_campaign("/import"), supervisors_of_the_campaign,
                                  ok=400, page=True),
    # (nobody in these campaigns opted in: nothing to start)
    "broadcast.start": Route("POST", in_campaign("/start"), supervisors_of_the_campaign,
                             ok=422, page=True),
    # (a draft is not running: nothing to pause)
    "broadcast.change": Route("POST", in_campaign("/pause"), supervisors_of_the_campaign,
                              ok=422, page=True),
    "broadcast.report_csv": Route("GET", in_campaign("/report.csv"),
                                  supervisors_of_the_campaign, page=True),
    "broadcast.progress": Route("GET", lambda w, k: f"/api/broadcast/{campaign_of(w, k)}",
                                supervisors_of_the_campaign),
    "broadcast.rates": Route("GET", fixed("/broadcast/rates"), admins, page=True),
    # Privacy (UU PDP): the DPO, for every customer; staff only record a customer's request.
    "privacy.queue_page": Route("GET", fixed("/privacy"), dpo, page=True),
    # (a form with nothing in it: refused in words)
    "privacy.record_request": Route("POST", fixed("/privacy/requests"), dpo, ok=422, page=True),
    "privacy.request_page": Route("GET", lambda w, k: f"/privacy/requests/{request_of(w)}", dpo,
                                  page=True),
    "privacy.answer": Route("POST", lambda w, k: f"/privacy/requests/{request_of(w)}/refuse",
                            dpo, ok=422, page=True),
    "privacy.customer_page": Route("GET", lambda w, k: f"/privacy/customers/{w.customers[k]}",
                                   dpo, page=True),
    "privacy.customer_action": Route(
        "POST", lambda w, k: f"/privacy/customers/{w.customers[k]}/hold", dpo, ok=422,
        page=True),
    "privacy.download": Route("GET", lambda w, k: f"/privacy/exports/{export_of(w)}", dpo,
                              page=True),
    "privacy.retention_page": Route("GET", fixed("/privacy/retention"), dpo, page=True),
    "privacy.breaches_page": Route("GET", fixed("/privacy/breaches"), dpo, page=True),
    "privacy.breach_page": Route("GET", lambda w, k: f"/privacy/breaches/{breach_of(w)}", dpo,
                                 page=True),
    "privacy.breach_notified": Route(
        "POST", lambda w, k: f"/privacy/breaches/{breach_of(w)}/notified", dpo, ok=302,
        page=True),
    "privacy.records_page": Route("GET", fixed("/privacy/records"), dpo, page=True),
    "privacy.records_json": Route("GET", fixed("/privacy/records.json"), dpo, page=True),
    "privacy.api_record": Route("POST", obj("customers/privacy-requests"), requesters, ok=201,
                                body=lambda w: {"kind": "access"}),
}


def test_every_route_has_an_entry_in_the_matrix(world):
    endpoints = {r.endpoint for r in world.app.url_map.iter_rules() if r.endpoint != "static"}
    assert endpoints - set(ROUTES) == set(), "add the new route to ROUTES with who may call it"
    assert set(ROUTES) - endpoints == set(), "a route in ROUTES no longer exists"


CASES = [(e, role, scope) for e in ROUTES for role in ROLES for scope in SCOPES]


@pytest.mark.parametrize(("endpoint", "role", "scope"), CASES,
                         ids=[f"{e}-{r}-{s}" for e, r, s in CASES])
def test_each_person_reaches_only_what_their_role_and_division_allow(world, endpoint, role, scope):
    route = ROUTES[endpoint]
    browser = sign_in_as(world, None if role == "anonymous" else role)
    path = route.path(world, object_key(role, scope))
    body = route.body(world) if route.body else None
    if body and body.get("division_id") == "same":  # the conversation's own division
        convo = Conversation.get_or_none(Conversation.id == int(path.split("/")[3]))
        body["division_id"] = convo.division_id if convo and convo.division_id else 1
    if route.method == "GET":
        resp = browser.get(path, buffered=False)
    elif body and body.get("__file__"):
        resp = browser.upload(path, "bukti.jpg", b"\xff\xd8\xff\xe0 foto", "image/jpeg")
    else:
        resp = browser.post(path, body)
    status = resp.status_code
    resp.close()
    if route.allowed(role, scope):
        expected = dict(route.ok_for).get(role, route.ok)
    elif role == "anonymous":
        expected = 302 if route.page else 401
    else:
        expected = 404
    assert status == expected, f"{route.method} {path} as {role}: {status}, wanted {expected}"

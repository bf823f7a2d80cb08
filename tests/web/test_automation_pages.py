"""The Auto Reply pages and their API: Ayu keeps the global rules, Budi his Sales rules and
hours; mistakes come back with the service's words; agents never reach any of it.

A refusal after sign-in is a 404 here as everywhere in the web UI (`webui.access`): the
same answer as for a rule that does not exist, so ids confirm nothing.
"""

from __future__ import annotations

import json
import re

import pytest

from appliance.auth.permissions import Principal, principal_for
from appliance.automation import rule_book, schedules
from appliance.automation.rules import Action, Rule, Trigger
from appliance.store.automation import AutoRule
from appliance.store.models import AuditEntry, User
from tests.web.conftest import sign_in_as

REPLY = {"kind": "reply_text", "value": "Baik, kami bantu cek tagihan Anda.", "target": None}


def rule(name: str, division_id: int | None, *words: str, mode: str = "contains",
         stop: bool = True) -> dict:
    return {"name": name, "division_id": division_id, "stop": stop, "enabled": True,
            "triggers": [{"kind": "keyword", "words": list(words), "mode": mode}],
            "actions": [REPLY]}


def ayu(world) -> Principal:
    return principal_for(User.get_by_id(world.users["ayu"]))


def config_of(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="automation-config">(.*?)</script>',
                      html, re.S)
    assert found, "the page carries its settings as JSON data"
    return json.loads(found.group(1))


def test_ayu_saves_a_global_rule_and_sees_it_in_the_list(world):
    # Given Ayu, the admin
    ayu = sign_in_as(world, "ayu")
    # When she saves a rule for every division
    resp = ayu.post("/api/automation/rules", rule("Salam", None, "halo", "selamat pagi"))
    # Then it is kept, global, in the list as the pages' scripts read it, and audited
    assert resp.status_code == 201, resp.get_json()
    rule_id = resp.get_json()["id"]
    listed = {r["id"]: r for r in ayu.get("/api/automation/rules").get_json()["rules"]}
    assert listed[rule_id]["division_id"] is None and listed[rule_id]["may_change"]
    assert listed[rule_id]["triggers"][0]["words"] == ["halo", "selamat pagi"]
    assert AuditEntry.select().where(AuditEntry.action == "automation.rule_saved",
                                     AuditEntry.target == f"auto_rule:{rule_id}").exists()


def test_a_rule_for_a_division_that_does_not_exist_is_refused_not_a_500(world):
    resp = sign_in_as(world, "ayu").post("/api/automation/rules", rule("Hantu", 999999, "x"))
    assert resp.status_code == 404


def test_budi_saves_a_sales_rule_but_neither_a_billing_nor_a_global_one(world):
    # Given Budi, supervisor of Sales
    budi = sign_in_as(world, "budi")
    sales, billing = world.divisions["Sales"], world.divisions["Billing"]
    # When he saves a rule for Sales, then changes it
    made = budi.post("/api/automation/rules", rule("Promo", sales, "promo"))
    assert made.status_code == 201, made.get_json()
    rule_id = made.get_json()["id"]
    changed = budi.post(f"/api/automation/rules/{rule_id}", rule("Promo bulan ini", sales,
                                                                  "promo", "diskon"))
    assert changed.status_code == 200
    assert AutoRule.get_by_id(rule_id).name == "Promo bulan ini"
    # Then a rule for Billing, or for every division, is refused as if nothing were there
    assert budi.post("/api/automation/rules", rule("Tagihan", billing, "tagihan")
                     ).status_code == 404
    assert budi.post("/api/automation/rules", rule("Salam", None, "halo")).status_code == 404
    # And he sees the global rules read-only, and may not move his own into Billing
    ayus = sign_in_as(world, "ayu").post("/api/automation/rules",
                                         rule("Global", None, "jam buka"))
    seen = {r["id"]: r for r in budi.get("/api/automation/rules").get_json()["rules"]}
    assert seen[ayus.get_json()["id"]]["may_change"] is False and seen[rule_id]["may_change"]
    assert budi.post(f"/api/automation/rules/{ayus.get_json()['id']}",
                     rule("Diambil", sales, "x")).status_code == 404
    assert budi.post(f"/api/automation/rules/{rule_id}", rule("Pindah", billing, "promo")
                     ).status_code == 404
    assert budi.post(f"/api/automation/rules/{ayus.get_json()['id']}/delete").status_code == 404


def test_a_regular_expression_that_cannot_run_in_linear_time_is_refused_with_words(world):
    budi = sign_in_as(world, "budi")
    resp = budi.post("/api/automation/rules",
                     rule("Kembar", world.divisions["Sales"], r"(\w)\1", mode="regex"))
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert "rule “Kembar”, trigger 1" in error and "does not compile" in error
    assert not AutoRule.select().where(AutoRule.name == "Kembar").exists()


def test_trying_a_sample_text_says_which_rule_would_fire_saved_or_being_edited(world):
    # Given Budi's saved Sales rule for "ongkir" that lets later rules fire too
    budi = sign_in_as(world, "budi")
    sales = world.divisions["Sales"]
    saved = budi.post("/api/automation/rules", rule("Ongkir", sales, "ongkir", stop=False))
    saved_id = saved.get_json()["id"]
    # When he tries a sample text in a Sales conversation
    tried = budi.post("/api/automation/try", {"text": "berapa ongkir ke Bandung?",
                                              "division_id": sales})
    # Then he reads which rule would fire
    assert tried.status_code == 200
    assert tried.get_json()["explanation"] == f"would fire: rule {saved_id} “Ongkir”"
    # And with the rule he is editing (not saved), it fires after, and stops the list
    editing = rule("Tagihan", sales, "tagihan") | {"id": 0}
    both = budi.post("/api/automation/try", {"text": "ongkir dan tagihan", "division_id": sales,
                                             "rule": editing}).get_json()
    assert both["explanation"] == (f"would fire: rule {saved_id} “Ongkir”, then rule 0 "
                                   "“Tagihan”, then stop")
    assert [f["id"] for f in both["fired"]] == [saved_id, 0] and both["stopped"]
    assert not AutoRule.select().where(AutoRule.name == "Tagihan",
                                       AutoRule.division == sales).exists()
    # And in a Billing conversation, or with a rule that cannot be saved, it says so
    other = budi.post("/api/automation/try", {"text": "ongkir",
                                              "division_id": world.divisions["Billing"]})
    assert other.get_json()["explanation"].startswith("no rule would fire")
    broken = budi.post("/api/automation/try", {"text": "x", "rule": rule("Rusak", sales)})
    assert broken.get_json()["explanation"].startswith("not saved: rule “Rusak”, trigger 1")
    # And the situation counts: a rule for outside business hours fires only then
    away = rule("Tutup", sales) | {"triggers": [{"kind": "outside_hours"}]}
    quiet = budi.post("/api/automation/try", {"text": "permisi", "division_id": sales,
                                              "rule": away}).get_json()
    late = budi.post("/api/automation/try", {"text": "permisi", "division_id": sales,
                                             "outside_hours": True, "rule": away}).get_json()
    assert "Tutup" not in quiet["explanation"] and "“Tutup”" in late["explanation"]


def test_budi_moves_his_rules_up_and_down_and_deletes_one(world):
    budi = sign_in_as(world, "budi")
    sales = world.divisions["Sales"]
    first, second = (budi.post("/api/automation/rules", rule(name, sales, name.lower())
                               ).get_json()["id"] for name in ("Pertama", "Kedua"))

    def order() -> list[int]:
        ids = [r["id"] for r in budi.get("/api/automation/rules").get_json()["rules"]]
        return [i for i in ids if i in (first, second)]

    assert order() == [first, second]
    moved = budi.post(f"/api/automation/rules/{second}/move", {"direction": "up"})
    assert moved.status_code == 200 and moved.get_json() == {"moved": True}
    assert order() == [second, first]
    assert budi.post(f"/api/automation/rules/{second}/move", {"direction": "sideways"}
                     ).status_code == 422
    gone = budi.post(f"/api/automation/rules/{first}/delete")
    assert gone.status_code == 200 and order() == [second]
    assert budi.post(f"/api/automation/rules/{first}/delete").status_code == 404


def test_budi_sets_sales_hours_past_midnight_and_a_bad_time_is_refused_with_words(world):
    # Given Budi and Sales' hours
    budi = sign_in_as(world, "budi")
    sales = world.divisions["Sales"]
    week = {"division_id": sales, "time_zone": "WITA", "holidays_close": True,
            "away_message_id": "Kami buka lagi besok pukul 08.00.", "away_message_en": "",
            "periods": [{"weekday": 4, "opens": "08:00", "closes": "12:00"},
                        {"weekday": 4, "opens": "20:00", "closes": "02:00"}]}
    # When he saves two periods on Friday, the second past midnight, in WITA
    resp = budi.post("/api/automation/hours", week)
    # Then they are Sales' own hours, as the page reads them back
    assert resp.status_code == 200, resp.get_json()
    shown = budi.get(f"/api/automation/hours?division={sales}").get_json()
    assert shown["own"] and shown["time_zone"] == "Asia/Makassar"
    assert shown["periods"] == [{"weekday": 4, "opens": "08:00", "closes": "12:00"},
                                {"weekday": 4, "opens": "20:00", "closes": "02:00"}]
    assert shown["away_message_id"] == "Kami buka lagi besok pukul 08.00."
    # And a time that is not a time comes back with what, where and what to do
    bad = budi.post("/api/automation/hours", week | {"periods": [
        {"weekday": 0, "opens": "8 pagi", "closes": "17:00"}]})
    assert bad.status_code == 422
    assert "period 1 (Monday) opens: '8 pagi' is not a time of day" in bad.get_json()["error"]
    overlap = budi.post("/api/automation/hours", week | {"periods": [
        {"weekday": 0, "opens": "08:00", "closes": "17:00"},
        {"weekday": 0, "opens": "16:00", "closes": "18:00"}]})
    assert overlap.status_code == 422 and "overlaps" in overlap.get_json()["error"]
    assert schedules.hours_of(ayu(world), sales).periods[1][1] == "20:00"
    # And the default, and Billing's hours, are not his
    assert budi.get("/api/automation/hours").status_code == 404
    assert budi.post("/api/automation/hours", week | {"division_id": None}).status_code == 404
    assert budi.post("/api/automation/hours", week | {"division_id": world.divisions["Billing"]}
                     ).status_code == 404


def test_budi_closes_a_sales_day_and_opens_it_again_and_the_division_keeps_the_default(world):
    budi = sign_in_as(world, "budi")
    sales = world.divisions["Sales"]
    added = budi.post("/api/automation/hours/days", {
        "division_id": sales, "day": "2026-12-24", "kind": "closed", "label": "Stock opname"})
    assert added.status_code == 201 and added.get_json()["day"] == "2026-12-24"
    days = budi.get(f"/api/automation/hours?division={sales}").get_json()["days"]
    assert [(d["day"], d["label"]) for d in days] == [("2026-12-24", "Stock opname")]
    unlabelled = budi.post("/api/automation/hours/days", {
        "division_id": sales, "day": "2026-12-25", "kind": "closed", "label": ""})
    assert unlabelled.status_code == 422 and "needs a label" in unlabelled.get_json()["error"]
    not_a_day = budi.post("/api/automation/hours/days", {
        "division_id": sales, "day": "24/12/2026", "kind": "closed", "label": "x"})
    assert not_a_day.status_code == 400 and "YYYY-MM-DD" in not_a_day.get_json()["error"]
    removed = budi.post("/api/automation/hours/days/remove", {"division_id": sales,
                                                              "day": "2026-12-24"})
    assert removed.get_json() == {"removed": True}
    cleared = budi.post("/api/automation/hours/clear", {"division_id": sales})
    assert cleared.status_code == 200
    assert not budi.get(f"/api/automation/hours?division={sales}").get_json()["own"]


@pytest.fixture
def english_budi(world):
    User.update(language="en").where(User.id == world.users["budi"]).execute()
    yield
    User.update(language="id").where(User.id == world.users["budi"]).execute()


@pytest.mark.parametrize(("body", "says"), [
    ({"name": "x", "triggers": "tagihan"}, "“triggers” in the request body must be a list"),
    ({"name": "x", "triggers": [{"kind": "keyword", "words": "tagihan"}]},
     "trigger 1: “words” must be a list of texts"),
    ({"name": "x", "actions": [{"kind": "route_division", "target": "Sales"}]},
     "action 1: “target” must be a whole number"),
    ({"name": "x", "stop": "yes"}, "“stop” in the request body must be true or false"),
    ({"name": ["x"]}, "“name” in the request body must be text"),
])
def test_a_body_no_form_of_ours_sends_is_refused_with_words_never_a_500(english_budi, world,
                                                                       body, says):
    budi = sign_in_as(world, "budi")
    resp = budi.post("/api/automation/rules", {"division_id": world.divisions["Sales"], **body})
    assert resp.status_code == 400 and says in resp.get_json()["error"]


def test_a_period_no_form_of_ours_sends_is_refused_with_words_in_budis_language(world):
    budi = sign_in_as(world, "budi")
    resp = budi.post("/api/automation/hours", {"division_id": world.divisions["Sales"],
                                               "periods": [{"weekday": "Senin"}]})
    assert resp.status_code == 400
    assert resp.get_json()["error"] == ("periode 1: “weekday” harus bilangan bulat. Muat ulang "
                                        "halaman lalu coba lagi.")


def automation_routes(app) -> list[tuple[str, str]]:
    return sorted({(next(iter(r.methods - {"HEAD", "OPTIONS"})), r.rule)
                   for r in app.url_map.iter_rules() if r.endpoint.startswith("automation.")})


def test_the_automation_routes_are_the_ones_this_file_walks(world):
    assert len(automation_routes(world.app)) == 13


@pytest.mark.parametrize("agent", ["dedi", "citra"])
def test_an_agent_is_refused_on_every_automation_route(world, agent):
    # Given an agent, and a Sales rule that exists
    rule_id = rule_book.save_rule(world.rt, ayu(world), Rule(
        0, "Milik Sales", (Trigger("keyword", ("harga",)),),
        (Action("reply_text", "Harga terbaru ada di katalog."),),
        division_id=world.divisions["Sales"]))
    browser = sign_in_as(world, agent)
    for method, path in automation_routes(world.app):
        path = path.replace("<int:rule_id>", str(rule_id))
        body = {"division_id": world.divisions["Sales"], "direction": "up", "text": "halo",
                "day": "2026-12-24", "kind": "closed", "label": "x"}
        resp = browser.get(path) if method == "GET" else browser.post(path, body)
        # Then every one answers as if there were nothing there, and nothing changed
        assert resp.status_code == 404, (method, path, resp.status_code)
    assert AutoRule.get_or_none(AutoRule.id == rule_id) is not None


def test_the_pages_are_in_indonesian_carry_no_inline_script_and_list_budis_choices(world):
    budi = sign_in_as(world, "budi")
    rules_page = budi.get("/automation")
    hours_page = budi.get(f"/automation/hours?division={world.divisions['Sales']}")
    assert rules_page.status_code == hours_page.status_code == 200
    for html in (rules_page.get_data(as_text=True), hours_page.get_data(as_text=True)):
        assert '<html lang="id">' in html and "Jam kerja" in html
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag
        assert not re.search(r"\son[a-z]+\s*=|\sstyle\s*=", html)
    config = config_of(rules_page.get_data(as_text=True))
    assert [s["name"] for s in config["scopes"]] == ["Sales"]  # not global, not Billing
    assert config["strings"]["would_fire"] == "akan dijalankan: {rules}"
    hours = config_of(hours_page.get_data(as_text=True))
    assert [s["name"] for s in hours["scopes"]] == ["Sales"]
    assert [z["short"] for z in hours["zones"]] == ["WIB", "WITA", "WIT"]
    admin = config_of(sign_in_as(world, "ayu").get("/automation/hours").get_data(as_text=True))
    assert admin["scopes"][0]["id"] is None and len(admin["scopes"]) == 4


def test_the_header_links_auto_reply_only_for_those_who_keep_it(world):
    assert 'href="/automation"' in sign_in_as(world, "budi").get("/").get_data(as_text=True)
    assert 'href="/automation"' in sign_in_as(world, "ayu").get("/").get_data(as_text=True)
    assert 'href="/automation"' not in sign_in_as(world, "dedi").get("/").get_data(as_text=True)

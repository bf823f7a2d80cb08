"""Graph basics: the bearer token, unknown ids and paths, the phone number, the templates list."""

from __future__ import annotations

import pytest

from tests.simulator.conftest import PHONE_ID, WABA_ID, error_of


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": "Basic abc"}],
                         ids=["missing", "wrong", "not-bearer"])
def test_a_call_without_the_right_token_fails_with_190_and_401(api, headers):
    # When Gembok calls with a missing or wrong token
    response = api.client.get(f"/v25.0/{PHONE_ID}", headers=headers)
    # Then Graph's OAuth error comes back, before anything else is looked at
    assert response.status_code == 401
    error = error_of(response)
    assert (error["code"], error["type"]) == (190, "OAuthException")
    assert error["message"].startswith("(#190) ")
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert error["fbtrace_id"]
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_the_token_may_also_come_as_the_access_token_parameter(api):
    response = api.client.get(f"/v25.0/{PHONE_ID}?access_token={api.sim.config.access_token}")
    assert response.status_code == 200


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/v25.0/999999999999/messages"),
    ("GET", "/v25.0/999999999999"),
    ("GET", f"/v25.0/{WABA_ID}/subscribed_things"),
    ("GET", f"/v25.0/{PHONE_ID}/nothing/here"),
    ("GET", "/favicon.ico"),
])
def test_an_unknown_object_or_path_fails_with_code_100(api, method, path):
    response = api.graph(method, path, json={"messaging_product": "whatsapp"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100
    assert error["message"].startswith(f"Unsupported {method.lower()} request.")


@pytest.mark.parametrize("version", ["v19.0", "v23.0", "v25.0", "v26.0"])
def test_any_graph_version_in_the_path_is_served(api, version):
    assert api.graph("GET", f"/{version}/{PHONE_ID}").status_code == 200


def test_the_phone_number_reports_meta_s_fields(api):
    # When Gembok reads its business number
    body = api.graph("GET", f"/v25.0/{PHONE_ID}").json
    # Then it sees the fields of reference §5.5, digits-only number included
    assert body == {
        "verified_name": "Toko Ayu", "code_verification_status": "VERIFIED",
        "display_phone_number": "6281100000000", "quality_rating": "GREEN",
        "platform_type": "CLOUD_API", "throughput": {"level": "STANDARD"},
        "status": "CONNECTED", "whatsapp_business_manager_messaging_limit": "TIER_250",
        "id": PHONE_ID}


def test_fields_select_what_the_phone_number_returns(api):
    body = api.graph("GET", f"/v25.0/{PHONE_ID}?fields=quality_rating,throughput").json
    assert body == {"quality_rating": "GREEN", "throughput": {"level": "STANDARD"},
                    "id": PHONE_ID}


def test_an_unknown_field_is_graph_s_error_100(api):
    response = api.graph("GET", f"/v25.0/{PHONE_ID}?fields=colour")
    assert error_of(response)["code"] == 100
    assert "nonexisting field (colour)" in error_of(response)["message"]


def test_health_status_says_available_then_blocked_when_disconnected(api):
    # Given a healthy number
    body = api.graph("GET", f"/v25.0/{PHONE_ID}?fields=health_status").json
    assert body["health_status"]["can_send_message"] == "AVAILABLE"
    assert body["id"] == PHONE_ID
    # When it is disconnected
    api.control("POST", "number", {"status": "DISCONNECTED"}, expect=200)
    # Then the health status blocks it and says why
    health = api.graph("GET", f"/v25.0/{PHONE_ID}?fields=health_status").json["health_status"]
    assert health["can_send_message"] == "BLOCKED"
    phone = health["entities"][0]
    assert phone["entity_type"] == "PHONE_NUMBER" and phone["errors"][0]["error_code"]


def test_a_flagged_number_is_limited(api):
    api.control("POST", "number", {"status": "FLAGGED", "quality": "RED"}, expect=200)
    body = api.graph("GET", f"/v25.0/{PHONE_ID}?fields=health_status,status,quality_rating").json
    assert body["health_status"]["can_send_message"] == "LIMITED"
    assert (body["status"], body["quality_rating"]) == ("FLAGGED", "RED")


def test_the_templates_list_has_meta_s_shape(api):
    # When Gembok lists the WABA's templates
    body = api.graph("GET", f"/v25.0/{WABA_ID}/message_templates").json
    # Then each has Meta's keys and the paging cursors are there
    names = {t["name"] for t in body["data"]}
    assert names == {"hello_world", "order_update", "pengingat_pembayaran", "gembok_alert"}
    for t in body["data"]:
        assert {"name", "language", "status", "category", "id", "components"} <= t.keys()
    assert set(body["paging"]["cursors"]) == {"before", "after"}


def test_the_templates_list_filters_pages_and_summarises(api):
    first = api.graph("GET", f"/v25.0/{WABA_ID}/message_templates?limit=3&summary=total_count").json
    assert len(first["data"]) == 3 and "next" in first["paging"]
    assert first["summary"]["total_count"] == 4
    after = first["paging"]["cursors"]["after"]
    rest = api.graph("GET", f"/v25.0/{WABA_ID}/message_templates?limit=3&after={after}").json
    assert len(rest["data"]) == 1 and "next" not in rest["paging"]
    marketing = api.graph("GET", f"/v25.0/{WABA_ID}/message_templates?category=MARKETING").json
    assert [t["name"] for t in marketing["data"]] == ["pengingat_pembayaran"]


def test_the_waba_and_its_phone_numbers_are_readable(api):
    assert api.graph("GET", f"/v25.0/{WABA_ID}").json["id"] == WABA_ID
    numbers = api.graph("GET", f"/v25.0/{WABA_ID}/phone_numbers").json["data"]
    assert [n["id"] for n in numbers] == [PHONE_ID]


def test_healthz_answers_ok(api):
    response = api.client.get("/healthz")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "ok\n")


OTHER_WABA = "300000000000777"


def test_a_number_in_another_account_has_that_accounts_own_templates(api):
    # Given a second brand's number in another WhatsApp Business Account of the business
    added = api.control("POST", "numbers", {"display_phone_number": "6281100000088",
                                            "verified_name": "Apotek Sehat",
                                            "waba_id": OTHER_WABA}, expect=201)
    # Then that account lists its templates under ids of its own, and its numbers
    first = api.graph("GET", f"/v25.0/{WABA_ID}/message_templates").json["data"]
    other = api.graph("GET", f"/v25.0/{OTHER_WABA}/message_templates").json["data"]
    assert {t["name"] for t in other} == {t["name"] for t in first}
    assert not {t["id"] for t in other} & {t["id"] for t in first}
    listed = api.graph("GET", f"/v25.0/{OTHER_WABA}/phone_numbers").json["data"]
    assert [n["id"] for n in listed] == [added["phone_number_id"]]
    assert [n["id"] for n in api.graph("GET", f"/v25.0/{WABA_ID}/phone_numbers").json[
        "data"]] == [PHONE_ID]
    # And a template paused in that account is refused from its number only (132015)
    api.control("POST", "templates", {"waba_id": OTHER_WABA, "name": "order_update",
                                      "language": "id", "status": "PAUSED"}, expect=200)
    siti = api.customer()
    api.says(siti)
    api.says(siti, to_number=added["phone_number_id"])
    payload = {"messaging_product": "whatsapp", "to": siti["wa_id"], "type": "template",
               "template": {"name": "order_update", "language": {"code": "id"},
                            "components": [{"type": "body", "parameters": [
                                {"type": "text", "text": "Siti"},
                                {"type": "text", "text": "INV-1"}]}]}}
    refused = api.client.post(f"/v25.0/{added['phone_number_id']}/messages", json=payload,
                              headers=api.auth)
    assert refused.json["error"]["code"] == 132015
    assert api.template(siti["wa_id"]).status_code == 200
    # And the template webhook names the account it is about
    posts = api.sim.flush()
    [post] = [p for p in posts if p["fields"] == ["message_template_status_update"]]
    assert post["body"]["entry"][0]["id"] == OTHER_WABA
    # as do the messages to and from its number
    assert {p["body"]["entry"][0]["id"] for p in posts if p["fields"] == ["messages"]} == {
        WABA_ID, OTHER_WABA}

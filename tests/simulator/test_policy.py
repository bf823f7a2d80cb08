"""Meta's sending policy: the 24 h window, template checks, opt-out and the messaging limit."""

from __future__ import annotations

import pytest

from tests.simulator.conftest import Api, error_of, statuses

PHONE = "6281234567890"


def failures(api: Api) -> list[int]:
    return [s["errors"][0]["code"] for s in statuses(api.sim.flush()) if s["status"] == "failed"]


def test_a_free_form_message_outside_the_window_fails_with_131047(api):
    # Given a customer who never wrote (async mode, Meta's usual path)
    api.customer()
    # When the business sends a free-form text
    response = api.text(PHONE)
    # Then it is accepted, and a failed status with 131047 follows
    assert response.status_code == 200
    [failed] = [s for s in statuses(api.sim.flush()) if s["status"] == "failed"]
    assert failed["id"] == response.json["messages"][0]["id"]
    assert failed["errors"][0]["code"] == 131047
    assert failed["errors"][0]["title"] == "Re-engagement message"


def test_in_sync_mode_the_window_error_is_a_400(make_sim):
    api = Api(make_sim(window_failure="sync"))
    api.customer()
    response = api.text(PHONE)
    assert response.status_code == 400
    assert error_of(response)["code"] == 131047
    assert "24 hours" in error_of(response)["error_data"]["details"]


def test_the_window_closes_24_hours_after_the_customer_s_last_message(api, siti, clock):
    # Given Siti wrote just now: free-form works
    assert failures(api) == [] and api.text(PHONE).status_code == 200
    assert failures(api) == []
    # When 24 hours pass
    clock.advance(24 * 3600)
    api.text(PHONE)
    # Then the next free-form fails; a new message from her reopens the window
    assert failures(api) == [131047]
    api.says(siti, "Masih ada?")
    api.text(PHONE)
    assert failures(api) == []


def test_a_template_may_be_sent_outside_the_window(api):
    api.customer()
    assert api.template(PHONE).status_code == 200
    sent = [s for s in statuses(api.sim.flush()) if s["status"] == "sent"]
    assert sent[0]["pricing"] == {"billable": True, "pricing_model": "PMP",
                                  "type": "regular", "category": "utility"}


@pytest.mark.parametrize(("name", "language"), [("no_such_template", "id"),
                                                ("order_update", "en_US")])
def test_an_unknown_template_or_language_fails_with_132001_and_404(api, siti, name, language):
    response = api.template(PHONE, name=name, language=language)
    assert response.status_code == 404
    assert error_of(response)["code"] == 132001


@pytest.mark.parametrize("params", [[], ["Siti"], ["Siti", "INV-1", "extra"]])
def test_the_wrong_number_of_body_parameters_fails_with_132000(api, siti, params):
    response = api.template(PHONE, params=params)
    assert response.status_code == 400
    assert error_of(response)["code"] == 132000


def test_a_paused_template_fails_with_132015(api, siti):
    api.control("POST", "templates", {"name": "order_update", "language": "id",
                                      "status": "PAUSED"}, expect=200)
    assert error_of(api.template(PHONE))["code"] == 132015


def test_a_template_with_named_parameters_needs_those_names(make_sim):
    named = {"name": "sapa", "language": "id", "category": "UTILITY",
             "components": [{"type": "BODY", "text": "Halo {{nama}}"}]}
    api = Api(make_sim(templates=(named,)))
    api.customer()
    body = {"name": "sapa", "language": {"code": "id"}, "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "Siti",
                                          "parameter_name": "nama"}]}]}
    assert api.send(to=PHONE, type="template", template=body).status_code == 200
    body["components"][0]["parameters"][0]["parameter_name"] = "name"
    assert error_of(api.send(to=PHONE, type="template", template=body))["code"] == 132000


def test_a_marketing_template_to_an_opted_out_customer_fails_with_131050(api, siti):
    # Given Siti stopped marketing messages
    api.control("POST", f"customers/{PHONE}/opt_out", expect=200)
    # When the business sends a marketing template, and a utility one
    api.template(PHONE, name="pengingat_pembayaran", params=["Siti", "Rp1"])
    api.template(PHONE)
    # Then only the marketing one fails, with 131050
    assert failures(api) == [131050]


def test_templates_to_more_unique_users_than_the_limit_fail_with_131048(make_sim, clock):
    # Given a portfolio at the 250 limit and 251 customers who never wrote
    api = Api(make_sim(throughput_mps=1000))
    phones = [f"62812000{i:05d}" for i in range(251)]
    for phone in phones:
        api.customer(phone=phone)
    # When the business sends each a template
    for phone in phones:
        assert api.template(phone).status_code == 200
    # Then the 251st unique user fails; a repeat to a reached user still goes out
    assert failures(api) == [131048]
    api.template(phones[0])
    assert failures(api) == []
    # And a day later the moving window has room again
    clock.advance(24 * 3600 + 1)
    api.template(phones[250])
    assert failures(api) == []


def test_templates_inside_the_window_do_not_count_toward_the_limit(make_sim):
    api = Api(make_sim())
    api.control("POST", "number", {"messaging_limit": 250}, expect=200)
    customer = api.customer()
    api.says(customer)
    api.template(PHONE)
    assert api.control("GET", "number")["messaging_limit_used"] == 0

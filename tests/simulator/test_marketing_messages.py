"""Meta's Marketing Messages API and what a campaign meets there: marketing templates only,
templates not ready yet, the per-person cap, category changes, Meta's time to answer, and
the log a test reads the rate and duplicates from (cloud-api.md §11)."""

from __future__ import annotations

from typing import Any

from simulator.config import SimulatorConfigError
from tests.simulator.conftest import PHONE_ID, Api, error_of, statuses, updates

PHONE = "6281234567890"
BILL = {"name": "pengingat_pembayaran", "language": {"code": "id"}, "components": [
    {"type": "body", "parameters": [{"type": "text", "text": "Budi"},
                                    {"type": "text", "text": "Rp150.000"}]}]}


def marketing(api: Api, template: dict[str, Any] | None = None, **extra: Any) -> Any:
    return api.graph("POST", f"/v25.0/{PHONE_ID}/marketing_messages", json={
        "messaging_product": "whatsapp", "to": PHONE, "type": "template",
        "template": template or BILL, "biz_opaque_callback_data": "gembok:bc:7", **extra})


def test_a_marketing_template_goes_through_and_its_statuses_say_marketing_lite(api):
    api.customer()
    response = marketing(api, product_policy="STRICT", message_activity_sharing=True)
    assert response.status_code == 200, response.json
    sent = [s for s in statuses(api.sim.flush()) if s["status"] == "sent"]
    assert sent[0]["pricing"]["category"] == "marketing_lite"
    assert api.control("GET", "sends/rate")["by_api"] == {"marketing_messages": 1}


def test_a_utility_template_or_a_bad_policy_is_refused_by_the_marketing_api(api):
    api.customer()
    utility = {"name": "order_update", "language": {"code": "id"}, "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "Siti"},
                                        {"type": "text", "text": "INV-1"}]}]}
    assert error_of(marketing(api, utility))["code"] == 134100
    assert error_of(marketing(api, product_policy="LOOSE"))["code"] == 100
    assert api.control("GET", "sends/rate")["accepted"] == 0


def test_a_template_not_ready_on_the_marketing_api_answers_134101_until_it_is(api, clock):
    api.customer()
    api.control("POST", "templates", {"name": "pengingat_pembayaran", "language": "id",
                                      "mm_ready_in_seconds": 600}, expect=200)
    assert error_of(marketing(api))["code"] == 134101
    clock.advance(601)
    assert marketing(api).status_code == 200


def test_a_capped_person_gets_131049_later_as_a_failed_status(api):
    customer = api.customer()
    api.control("POST", f"customers/{customer['user_id']}/marketing-cap", {"capped": True},
                expect=200)
    assert marketing(api).status_code == 200
    [failed] = [s for s in statuses(api.sim.flush()) if s["status"] == "failed"]
    assert failed["errors"][0]["code"] == 131049
    assert failed["biz_opaque_callback_data"] == "gembok:bc:7"


def test_the_configured_cap_counts_marketing_per_person_per_day(make_sim, clock):
    api = Api(make_sim(marketing_cap_per_day=2))
    api.customer()
    for _ in range(3):
        marketing(api)
        clock.advance(10)
    codes = [s["errors"][0]["code"] for s in statuses(api.sim.flush()) if s["status"] == "failed"]
    assert codes == [131049]


def test_a_category_change_is_a_template_category_update_webhook(api):
    api.control("POST", "templates", {"name": "order_update", "language": "id",
                                      "category": "MARKETING"}, expect=200)
    [value] = [v for v in updates(api.sim.flush()) if "new_category" in v]
    assert (value["previous_category"], value["new_category"]) == ("UTILITY", "MARKETING")
    assert value["message_template_name"] == "order_update"


def test_each_campaign_callback_is_counted_and_the_busiest_second_measured(api):
    api.customer()
    marketing(api)
    marketing(api)
    log = api.control("GET", "sends/callbacks")
    assert log["callbacks"] == {"gembok:bc:7": 2}
    rate = api.control("GET", "sends/rate")
    assert rate["accepted"] == 2 and rate["max_in_any_second"] == 2
    api.control("DELETE", "sends/rate", expect=200)
    assert api.control("GET", "sends/callbacks")["callbacks"] == {}


def test_customers_in_bulk_and_latency_set_at_run_time(api):
    made = api.control("POST", "customers/bulk", {"first": "6281300000000", "count": 50},
                       expect=201)
    assert made["created"] == 50
    assert api.control("POST", "latency", {"latency_ms": [5, 10]}, expect=200) == {
        "latency_ms": [5, 10]}
    assert "low first" in api.control("POST", "latency", {"latency_ms": [10, 5]}, expect=400)[
        "error"]


def test_a_bad_latency_or_thread_count_in_the_config_stops_the_start(make_sim):
    for bad in ({"latency_ms": (300, 150)}, {"server_threads": 0}):
        try:
            make_sim(**bad)
        except SimulatorConfigError as exc:
            assert "must be" in str(exc)
        else:
            raise AssertionError(f"{bad} was accepted")

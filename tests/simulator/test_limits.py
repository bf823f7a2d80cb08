"""Rate limits: per-number throughput (130429) and the per-user pair rate (131056)."""

from __future__ import annotations

from tests.simulator.conftest import Api, error_of

PHONE = "6281234567890"


def test_more_than_the_throughput_in_one_second_fails_with_130429(make_sim, clock):
    # Given a number allowed 80 messages per second and 81 customers
    api = Api(make_sim())
    phones = [f"62812000{i:05d}" for i in range(81)]
    for phone in phones:
        api.customer(phone=phone)
    # When 81 templates go out within the same second
    answers = [api.template(phone) for phone in phones]
    # Then the 81st is refused with 130429, and the next second has room again
    assert [r.status_code for r in answers[:80]] == [200] * 80
    assert answers[80].status_code == 400
    assert error_of(answers[80])["code"] == 130429
    clock.advance(1)
    assert api.template(phones[80]).status_code == 200


def test_the_pair_rate_allows_a_burst_of_45_then_one_every_6_seconds(api, siti, clock):
    # When the business sends 45 messages to Siti at once
    assert all(api.text(PHONE).status_code == 200 for _ in range(45))
    # Then the 46th fails with 131056 (too many to the same user)
    refused = api.text(PHONE)
    assert refused.status_code == 400
    assert error_of(refused)["code"] == 131056
    # And after 6 seconds exactly one more goes through
    clock.advance(6)
    assert api.text(PHONE).status_code == 200
    assert error_of(api.text(PHONE))["code"] == 131056


def test_the_pair_rate_is_per_recipient(api, siti):
    for _ in range(45):
        api.text(PHONE)
    other = api.customer(phone="+62 813 0000 0001", name="Budi")
    api.says(other)
    assert api.text("6281300000001").status_code == 200


def test_a_throughput_upgrade_lifts_the_limit_to_1000(make_sim):
    api = Api(make_sim())
    api.control("POST", "number", {"throughput": "HIGH"}, expect=200)
    phones = [f"62812000{i:05d}" for i in range(100)]
    for phone in phones:
        api.customer(phone=phone)
    assert all(api.template(p).status_code == 200 for p in phones)
    level = api.graph("GET", "/v25.0/106540352242922?fields=throughput").json["throughput"]
    assert level == {"level": "HIGH"}

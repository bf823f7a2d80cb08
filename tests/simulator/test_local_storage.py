"""The number's local storage setting, as the records of processing read it: Meta's
`GET /<phone-number-id>/settings` answers `storage_configuration`, DEFAULT until the
business enables storage at rest in one region."""

from __future__ import annotations

import httpx

from appliance.whatsapp.client import CloudApiClient
from simulator.app import create_simulator
from simulator.config import new_config
from tests.simulator.conftest import PHONE_ID, Api, error_of


def test_local_storage_is_default_until_enabled_for_a_region(api: Api):
    assert api.graph("GET", f"/v25.0/{PHONE_ID}/settings").json == {
        "storage_configuration": {"status": "DEFAULT"}}
    enabled = api.graph("POST", f"/v25.0/{PHONE_ID}/settings", json={
        "storage_configuration": {"status": "IN_COUNTRY_STORAGE_ENABLED",
                                  "data_localization_region": "ID"}})
    assert enabled.status_code == 200
    assert api.graph("GET", f"/v25.0/{PHONE_ID}/settings").json["storage_configuration"] == {
        "status": "IN_COUNTRY_STORAGE_ENABLED", "data_localization_region": "ID"}
    refused = api.graph("POST", f"/v25.0/{PHONE_ID}/settings", json={
        "storage_configuration": {"status": "IN_COUNTRY_STORAGE_ENABLED",
                                  "data_localization_region": "XX"}})
    assert error_of(refused)["code"] == 100


def test_gemboks_client_reads_the_setting_from_the_simulator():
    sim = create_simulator(new_config(), background=False)
    with CloudApiClient("http://sim.test", "v25.0", sim.config.phone_number_id,
                        sim.config.access_token, transport=httpx.WSGITransport(app=sim)) as client:
        assert client.local_storage() == {"status": "DEFAULT"}
        sim.state.storage = {"status": "IN_COUNTRY_STORAGE_ENABLED",
                             "data_localization_region": "ID"}
        assert client.local_storage()["data_localization_region"] == "ID"
    sim.close()

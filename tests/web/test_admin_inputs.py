"""The admin API reads numbers as numbers: a JSON true is not a retention or a division."""

from __future__ import annotations

from tests.web.conftest import sign_in_as


def test_true_is_not_a_number_of_days_or_a_division_id(world):
    ayu = sign_in_as(world, "ayu")
    made = ayu.post("/api/admin/divisions", {"name": "Gudang", "retention_days": True})
    assert made.status_code == 400 and "retention_days" in made.get_json()["error"]
    user = ayu.post("/api/admin/users", {"username": "baru9", "display_name": "Baru",
                                         "role": "agent", "divisions": [True]})
    assert user.status_code == 400 and "divisions" in user.get_json()["error"]


def test_a_webhook_length_in_unicode_digits_is_not_a_500(world):
    from werkzeug.test import Client

    from webui.webhook_app import create_webhook_app

    app = create_webhook_app(world.rt.settings, enqueue=False)
    resp = Client(app).post("/webhooks/whatsapp", data=b"{}",
                            headers={"Content-Length": "\u00b2"})
    assert resp.status_code in (400, 401, 411, 413)

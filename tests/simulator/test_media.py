"""Media: upload, a 5-minute URL, download with the bearer only, delete, customers' photos."""

from __future__ import annotations

import base64
import hashlib
import io

import httpx
import pytest

from tests.simulator.conftest import PHONE_ID, error_of, updates

JPEG = b"\xff\xd8\xff\xe0" + b"simulated jpeg" * 10


def upload(api, data=JPEG, mime="image/jpeg", product="whatsapp", declared=None):
    form = {"messaging_product": product, "type": declared or mime,
            "file": (io.BytesIO(data), "struk.jpg", mime)}
    return api.graph("POST", f"/v25.0/{PHONE_ID}/media", data=form)


def test_an_upload_gives_an_id_then_a_url_that_downloads_with_the_token(api):
    # Given an uploaded photo
    media_id = upload(api).json["id"]
    assert media_id.isdigit()
    # When Gembok asks for its URL
    info = api.graph("GET", f"/v25.0/{media_id}").json
    # Then it has Meta's fields, and the URL on the simulator downloads the bytes
    assert info == {"messaging_product": "whatsapp", "url": info["url"],
                    "mime_type": "image/jpeg", "sha256": hashlib.sha256(JPEG).hexdigest(),
                    "file_size": len(JPEG), "id": media_id}
    assert info["url"].startswith("http://localhost/_media/")
    got = api.graph("GET", info["url"])
    assert (got.status_code, got.data, got.mimetype) == (200, JPEG, "image/jpeg")


def test_a_media_url_without_the_token_fails_with_401(api):
    url = api.graph("GET", f"/v25.0/{upload(api).json['id']}").json["url"]
    response = api.client.get(url)
    assert response.status_code == 401
    assert error_of(response)["code"] == 190


def test_a_media_url_expires_after_5_minutes(api, clock):
    media_id = upload(api).json["id"]
    url = api.graph("GET", f"/v25.0/{media_id}").json["url"]
    clock.advance(5 * 60)
    assert api.graph("GET", url).status_code == 404
    fresh = api.graph("GET", f"/v25.0/{media_id}").json["url"]
    assert api.graph("GET", fresh).status_code == 200


def test_an_unknown_media_url_is_404(api):
    assert api.graph("GET", "/_media/nope").status_code == 404


def test_deleted_media_is_gone(api):
    media_id = upload(api).json["id"]
    assert api.graph("DELETE", f"/v25.0/{media_id}").json == {"success": True}
    assert error_of(api.graph("GET", f"/v25.0/{media_id}"))["code"] == 100


def test_media_asked_for_with_another_phone_number_id_is_refused(api):
    media_id = upload(api).json["id"]
    assert api.graph("GET", f"/v25.0/{media_id}?phone_number_id={PHONE_ID}").status_code == 200
    assert error_of(api.graph("GET", f"/v25.0/{media_id}?phone_number_id=1"))["code"] == 100


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"product": "sms"}, 100),
    ({"mime": "application/x-msdownload"}, 100),
    ({"mime": "image/png", "declared": "video/mp4"}, 131053),
])
def test_a_bad_upload_fails_with_meta_s_code(api, kwargs, code):
    response = upload(api, **kwargs)
    assert response.status_code == 400
    assert error_of(response)["code"] == code


def test_an_image_over_5_mb_fails_with_131053(api):
    # (through httpx: werkzeug's test client spills big bodies to a file it never closes)
    with httpx.Client(transport=httpx.WSGITransport(app=api.sim), base_url="http://sim") as http:
        response = http.post(f"/v25.0/{PHONE_ID}/media", headers=api.auth,
                             data={"messaging_product": "whatsapp", "type": "image/jpeg"},
                             files={"file": ("big.jpg", b"x" * (5 * 1024 * 1024 + 1),
                                             "image/jpeg")})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 131053


def test_uploaded_media_can_be_sent_by_id(api, siti):
    media_id = upload(api).json["id"]
    response = api.send(to="6281234567890", type="image", image={"id": media_id})
    assert response.status_code == 200


def test_a_photo_from_a_customer_is_downloadable_by_gembok(api, siti):
    # When Siti sends a photo
    content = base64.b64encode(JPEG).decode()
    api.says(siti, type="image", image={"caption": "Bukti transfer"}, content_base64=content,
             mime_type="image/jpeg")
    [value] = updates(api.sim.flush())
    image = value["messages"][0]["image"]
    # Then the webhook carries Meta's media fields, and both the id and the url work
    assert image["caption"] == "Bukti transfer" and image["mime_type"] == "image/jpeg"
    assert image["sha256"] == base64.b64encode(hashlib.sha256(JPEG).digest()).decode()
    assert api.graph("GET", image["url"]).data == JPEG
    info = api.graph("GET", f"/v25.0/{image['id']}").json
    assert api.graph("GET", info["url"]).data == JPEG

"""pywa as an outside oracle (a): its client, written against real Meta, accepts our answers.

pywa is MIT-licensed and used by tests only. If it accepts every response and maps
every error to the right exception class, the simulator matches facts nobody on this
team wrote down.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pywa import WhatsApp, errors
from pywa.types import Button, Section, SectionList, SectionRow
from pywa.types.templates import BodyText, TemplateLanguage, TemplateStatus

from simulator import Simulator
from tests.simulator.conftest import PHONE_ID, TOKEN, WABA_ID, Api

PHONE = "6281234567890"
JPEG = b"\xff\xd8\xff\xe0 simulated photo"


def pywa_on(sim: Simulator) -> tuple[WhatsApp, httpx.Client]:
    """A pywa client whose every request lands on the simulator.

    pywa has no base-URL setting: `GraphAPI.__init__` pins `session.base_url` to
    https://graph.facebook.com/vNN.N. The session it is handed is ours, though, and an
    httpx WSGI transport sends every request (media URLs included) to the simulator
    whatever host it names; so pywa's own code path runs unchanged.
    """
    session = httpx.Client(transport=httpx.WSGITransport(app=sim))
    return WhatsApp(phone_id=PHONE_ID, token=TOKEN, waba_id=WABA_ID, session=session), session


@pytest.fixture
def wa(sim: Simulator) -> Iterator[WhatsApp]:
    client, session = pywa_on(sim)
    yield client
    session.close()


@pytest.fixture
def customer(api: Api) -> dict:
    siti = api.customer(username="@siti")
    api.says(siti)
    return siti


def test_pywa_sends_text_buttons_and_lists(wa, customer):
    sent = wa.send_message(to=PHONE, text="Halo, pesanan Anda dikirim.")
    assert sent.id.startswith("wamid.") and sent.input == PHONE
    assert wa.send_message(to=PHONE, text="Ubah jadwal?",
                           buttons=[Button("Ubah", "ubah"), Button("Batal", "batal")]).id
    rows = [SectionRow(title="Express", callback_data="express", description="1-2 hari")]
    listed = wa.send_message(to=PHONE, text="Pilih pengiriman", buttons=SectionList(
        button_title="Pilihan", sections=[Section(title="Cepat", rows=rows)]))
    assert listed.id.startswith("wamid.")


def test_pywa_sends_a_template_built_with_its_own_objects(wa, customer):
    sent = wa.send_template(to=PHONE, name="order_update", language=TemplateLanguage.INDONESIAN,
                            params=[BodyText.params("Siti", "INV-001")])
    assert sent.id.startswith("wamid.") and sent.status is None  # not paced


def test_pywa_sends_an_image_by_link(wa, customer):
    assert wa.send_image(to=PHONE, image="https://example.com/struk.jpg", caption="Struk").id


def test_pywa_uploads_gets_the_url_and_downloads_the_bytes(wa, tmp_path):
    media = wa.upload_media(media=JPEG, mime_type="image/jpeg", filename="struk.jpg")
    url = wa.get_media_url(media.id)
    assert (url.id, url.mime_type, url.file_size) == (media.id, "image/jpeg", len(JPEG))
    assert wa.get_media_bytes(url.url) == JPEG
    path = wa.download_media(url=url.url, path=tmp_path)
    assert path.read_bytes() == JPEG
    assert wa.delete_media(media.id).success is True


def test_pywa_marks_a_message_read(wa, api, customer):
    wamid = api.says(customer, "Halo?")["wamid"]
    assert wa.mark_message_as_read(message_id=wamid).success is True


def test_pywa_reads_the_business_phone_number(wa):
    number = wa.get_business_phone_number()
    assert (number.id, number.display_phone_number, number.verified_name) == (
        PHONE_ID, "6281100000000", "Toko Ayu")
    assert number.quality_rating == "GREEN" and number.status == "CONNECTED"
    assert number.whatsapp_business_manager_messaging_limit == "TIER_250"


def test_pywa_lists_the_templates(wa):
    result = wa.get_templates(statuses=[TemplateStatus.APPROVED])
    assert {t.name for t in result} == {"hello_world", "order_update", "pengingat_pembayaran",
                                        "gembok_alert"}
    assert result.total_count == 4


def test_window_error_in_sync_mode_is_pywa_s_re_engagement_error(make_sim):
    sim = make_sim(window_failure="sync")
    Api(sim).customer()
    wa, session = pywa_on(sim)
    with session, pytest.raises(errors.ReEngagementMessage) as raised:
        wa.send_message(to=PHONE, text="Halo")
    assert raised.value.status_code == 400 and "24 hours" in raised.value.details


@pytest.mark.parametrize(("kind", "error_class"), [
    ("rate_limit", errors.RateLimitHit), ("token_expired", errors.ExpiredAccessToken),
    ("http_500", errors.UnknownError), ("http_503", errors.ServiceUnavailable)])
def test_injected_faults_map_to_pywa_s_exception_classes(wa, api, customer, kind, error_class):
    api.control("POST", "faults", {"path": "messages", "kind": kind}, expect=200)
    with pytest.raises(error_class):
        wa.send_message(to=PHONE, text="Halo")


def test_the_pair_rate_is_pywa_s_too_many_messages(wa, customer):
    for _ in range(45):
        wa.send_message(to=PHONE, text="Halo")
    with pytest.raises(errors.TooManyMessages):
        wa.send_message(to=PHONE, text="Halo")


def test_a_wrong_token_is_a_pywa_authorization_error(sim):
    session = httpx.Client(transport=httpx.WSGITransport(app=sim))
    wa = WhatsApp(phone_id=PHONE_ID, token="wrong", session=session)
    with session, pytest.raises(errors.ExpiredAccessToken) as raised:
        wa.get_business_phone_number()
    assert isinstance(raised.value, errors.AuthorizationError)
    assert raised.value.status_code == 401


@pytest.mark.parametrize(("name", "params", "error_class"), [
    ("nope", ["Siti", "INV-1"], errors.TemplateNotExists),
    ("order_update", ["Siti"], errors.TemplateParamCountMismatch)])
def test_template_errors_map_to_pywa_s_classes(wa, customer, name, params, error_class):
    with pytest.raises(error_class):
        wa.send_template(to=PHONE, name=name, language=TemplateLanguage.INDONESIAN,
                         params=[BodyText.params(*params)])


def test_an_unknown_object_is_pywa_s_generic_error_with_code_100(wa):
    with pytest.raises(errors.WhatsAppError) as raised:
        wa.get_media_url("999999")
    assert raised.value.code == 100 and raised.value.fbtrace_id

"""A business whose brands sit in different WhatsApp Business Accounts, and perhaps in
different business portfolios: each account keeps its own templates (a pause in one
leaves the other's alone), a campaign leaves only from a number of its template's
account, and each portfolio reaches its own messaging limit while numbers of one
portfolio share theirs (cloud-api.md 5.4 and 11)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from appliance.auth.permissions import BOX_ADMIN
from appliance.automation import campaign_runner, campaigns, template_book
from appliance.automation.campaigns import CampaignError
from appliance.clock import utcnow
from appliance.store import broadcast as store
from appliance.store.models import Customer
from appliance.store.numbers import WaNumber
from appliance.whatsapp import health, numbers
from tests.conftest import BOTH_ENGINES

pytestmark = BOTH_ENGINES

TOKO, KOPI = "102290129340398", "102290129340399"  # the two brands' accounts
BODY = [{"type": "BODY", "text": "Halo {{1}}, pesanan Anda {{2}} sedang dikirim."}]
VALUES = [{"name": "1", "source": "name"}, {"name": "2", "source": "text", "value": "INV-1"}]


@pytest.fixture
def brands(wa_rt):
    """Toko Gembok (number 1, account TOKO) and Kopi Nusantara (number 2, account KOPI)."""
    WaNumber.update(waba_id=TOKO).where(WaNumber.id == 1).execute()
    numbers.add(wa_rt, phone_number_id="109876543210987", label="Kopi Nusantara",
                waba_id=KOPI, actor="system")
    numbers.clear_cache()
    yield wa_rt
    numbers.clear_cache()


def template(account: str, name: str = "order_update", meta_id: str = "") -> int:
    now = utcnow()
    return int(store.WaTemplate.create(
        waba_id=account, meta_id=meta_id or str(5000 + store.WaTemplate.select().count()),
        name=name, language="id", category="UTILITY", previous_category="",
        status="APPROVED", reason="", components=json.dumps(BODY),
        parameter_format="POSITIONAL", synced_at=now, updated_at=now).id)


def paused(name: str, meta_id: str = "") -> dict:
    return {"event": "PAUSED", "message_template_id": meta_id, "message_template_name": name,
            "message_template_language": "id", "reason": "LOW_QUALITY"}


def test_meta_pausing_one_brands_template_leaves_the_other_brands_namesake_approved(brands):
    toko, kopi = template(TOKO), template(KOPI)
    assert template_book.apply_update("message_template_status_update",
                                      paused("order_update"), KOPI)
    assert template_book.get(kopi).status == "PAUSED"
    assert template_book.get(toko).sendable


def test_a_campaign_leaves_only_from_a_number_of_its_templates_account(brands):
    kopi = template(KOPI)
    with pytest.raises(CampaignError, match="another WhatsApp Business Account than "
                                            "Nomor utama: send it from Kopi Nusantara"):
        campaigns.create(brands, BOX_ADMIN, name="Promo", template_id=kopi,
                         parameters=VALUES, audience_filter=None, number_id=1)
    cid = campaigns.create(brands, BOX_ADMIN, name="Promo", template_id=kopi,
                           parameters=VALUES, audience_filter=None, number_id=2)
    assert store.Campaign.get_by_id(cid).number_id == 2


def test_an_old_boxs_templates_become_number_ones_accounts_and_keep_their_campaigns(brands):
    # Given a template synced before templates had an account, and a campaign of it
    old = template("", meta_id="777")
    cid = campaigns.create(brands, BOX_ADMIN, name="Lama", template_id=old,
                           parameters=VALUES, audience_filter=None, number_id=1)
    # When the first template webhook of number 1's account arrives
    assert template_book.apply_update("message_template_status_update",
                                      paused("order_update", "777"), TOKO, first=True)
    # Then the row is that account's, paused, and the campaign still names it
    row = store.WaTemplate.get_by_id(old)
    assert (row.waba_id, row.status) == (TOKO, "PAUSED")
    assert store.Campaign.get_by_id(cid).template_id == old
    # And another account's webhook of a namesake never takes it: it gets its own row
    assert template_book.apply_update("message_template_status_update",
                                      paused("order_update"), KOPI)
    assert sorted(t.waba_id for t in template_book.all_templates()) == [TOKO, KOPI]


def sent(rt, number_id: int, how_many: int) -> None:
    """A campaign from the number that reached `how_many` people an hour ago."""
    tid = template(numbers.get(rt, number_id).waba_id, f"t{number_id}_{how_many}")
    cid = campaigns.create(rt, BOX_ADMIN, name=f"c{number_id}", template_id=tid,
                           parameters=VALUES, audience_filter=None, number_id=number_id)
    people = [int(Customer.create().id) for _ in range(how_many)]
    store.insert_recipients((cid, p, "sent", "", None) for p in people)
    store.CampaignRecipient.update(sent_at=utcnow() - timedelta(hours=1)).where(
        store.CampaignRecipient.campaign == cid).execute()


def test_two_portfolios_each_reach_their_own_messaging_limit(brands):
    # Given Kopi Nusantara in a portfolio of its own, at 2,000 people a day, and the
    # first brand's portfolio at 250
    numbers.set_portfolio(brands, 2, "884422000111", actor="cli")
    health.record(health.HealthState(messaging_limit="TIER_250"), source="poll", number_id=1)
    health.record(health.HealthState(messaging_limit="TIER_2K"), source="poll", number_id=2)
    sent(brands, 1, 200)
    sent(brands, 2, 30)
    day = utcnow() - timedelta(hours=24)
    # Then each counts its own numbers' people against its own limit
    assert campaign_runner.messaging_limit(brands, 1) == (250, [1])
    assert campaign_runner.messaging_limit(brands, 2) == (2000, [2])
    assert store.sent_in_last_day(day, [1]) == 200
    assert store.sent_in_last_day(day, [2]) == 30


def test_numbers_of_one_portfolio_share_its_limit(brands):
    # Given both numbers in the first brand's portfolio (the default), the latest limit
    # either reported is theirs, and what both reached counts against it
    health.record(health.HealthState(messaging_limit="TIER_250"), source="poll", number_id=1)
    health.record(health.HealthState(messaging_limit="TIER_2K"), source="poll", number_id=2)
    sent(brands, 1, 20)
    sent(brands, 2, 30)
    limit, members = campaign_runner.messaging_limit(brands, 1)
    assert (limit, members) == (2000, [1, 2])
    assert store.sent_in_last_day(utcnow() - timedelta(hours=24), members) == 50


def test_a_portfolio_id_that_is_not_digits_is_refused_in_words(brands):
    with pytest.raises(numbers.NumberError, match="portfolio id is digits only"):
        numbers.set_portfolio(brands, 2, "Kopi's", actor="cli")
    with pytest.raises(numbers.NumberError, match="there is no number 9"):
        numbers.set_portfolio(brands, 9, "884422000111", actor="cli")

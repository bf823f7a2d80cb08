"""A customer is found by phone however the agent types it, without the phone stored in clear."""

from __future__ import annotations

import os

import pytest

from appliance.crypto.blind_index import BlindIndex, InvalidPhoneNumber, normalise_phone

INDEX = BlindIndex(os.urandom(32))


@pytest.mark.parametrize("written", ["+62 812-3456-7890", "0812 3456 7890", "+6281234567890",
                                     "62 812 3456 7890", "(0812) 3456-7890", "6281234567890"])
def test_the_ways_people_write_an_indonesian_number_give_one_index(written):
    assert normalise_phone(written, "ID") == "+6281234567890"
    assert INDEX.phone(written) == INDEX.phone("+6281234567890")


def test_a_foreign_number_keeps_its_country():
    assert normalise_phone("+65 8123 4567", "ID") == "+6581234567"


def test_another_key_or_purpose_gives_an_unrelated_index():
    assert BlindIndex(os.urandom(32)).phone("+6281234567890") != INDEX.phone("+6281234567890")
    assert INDEX("phone", "+6281234567890") != INDEX("wa_user", "+6281234567890")


@pytest.mark.parametrize("bad", ["halo", "123", "+62 12"])
def test_a_bad_number_is_refused_without_repeating_it(bad):
    with pytest.raises(InvalidPhoneNumber) as caught:
        normalise_phone(bad, "ID")
    assert bad not in str(caught.value)

"""A sealed field opens only where it was sealed, under its own key; anything else fails loudly."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.crypto.aead import KeySet, SealError, key_version_of, place

KEYS = KeySet({1: os.urandom(32)})
HERE = place("customer", "name", 42)

texts = st.text(max_size=300)
blobs = st.binary(max_size=300)


@given(plaintext=blobs)
def test_any_value_round_trips(plaintext):
    assert KEYS.open(KEYS.seal(plaintext, HERE), HERE) == plaintext


@given(plaintext=blobs, data=st.data())
def test_flipping_any_byte_fails_to_open(plaintext, data):
    token = bytearray(KEYS.seal(plaintext, HERE))
    index = data.draw(st.integers(0, len(token) - 1))
    bit = data.draw(st.integers(0, 7))
    token[index] ^= 1 << bit
    with pytest.raises(SealError):
        KEYS.open(bytes(token), HERE)


@given(plaintext=blobs, cut=st.integers(1, 40))
def test_a_truncated_value_fails_to_open(plaintext, cut):
    token = KEYS.seal(plaintext, HERE)
    with pytest.raises(SealError):
        KEYS.open(token[:-cut], HERE)


@given(plaintext=texts,
       other=st.sampled_from([place("customer", "name", 43), place("customer", "phone", 42),
                              place("message", "name", 42), place("customer", "name", 420)]))
def test_a_value_moved_to_another_row_column_or_table_fails_to_open(plaintext, other):
    token = KEYS.seal(plaintext.encode(), HERE)
    with pytest.raises(SealError):
        KEYS.open(token, other)


def test_another_customers_key_cannot_open_it():
    token = KEYS.seal(b"Siti", HERE)
    with pytest.raises(SealError):
        KeySet({1: os.urandom(32)}).open(token, HERE)


def test_the_error_names_the_place_but_never_the_value():
    token = bytearray(KEYS.seal(b"Siti Rahayu", HERE))
    token[-1] ^= 1
    with pytest.raises(SealError) as caught:
        KEYS.open(bytes(token), HERE)
    assert "customer|name|42" in str(caught.value)
    assert "Siti" not in str(caught.value)


def test_an_unknown_format_version_is_refused():
    token = bytearray(KEYS.seal(b"x", HERE))
    token[0] = 2
    with pytest.raises(SealError):
        KEYS.open(bytes(token), HERE)


def test_relabelling_the_key_version_fails_even_when_that_version_exists():
    both = KeySet({1: os.urandom(32), 2: os.urandom(32)})
    token = bytearray(both.seal(b"x", HERE))
    token[1:5] = (1).to_bytes(4, "big")
    with pytest.raises(SealError):
        both.open(bytes(token), HERE)


def test_keys_rotate_seal_with_the_newest_open_with_any():
    old_key, new_key = os.urandom(32), os.urandom(32)
    old_token = KeySet({1: old_key}).seal(b"lama", HERE)
    rotated = KeySet({1: old_key, 2: new_key})
    new_token = rotated.seal(b"baru", HERE)
    assert key_version_of(old_token) == 1 and key_version_of(new_token) == 2
    assert rotated.open(old_token, HERE) == b"lama"
    assert rotated.open(new_token, HERE) == b"baru"


def test_two_seals_of_the_same_value_differ():
    assert KEYS.seal(b"same", HERE) != KEYS.seal(b"same", HERE)


@pytest.mark.parametrize("bad", [("cust|omer", "name", 1), ("customer", "", 1)])
def test_a_place_cannot_be_ambiguous(bad):
    with pytest.raises(ValueError):
        place(*bad)

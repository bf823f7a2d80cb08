"""Provides blind indexes: find a customer by phone without storing the phone in clear.

HMAC-SHA256 under the index key, over a purpose label and the normalised value, so the
same number gives the same index every time, different columns give unrelated indexes,
and without the key the index says nothing about the number.
"""

from __future__ import annotations

import hashlib
import hmac

import phonenumbers

from appliance.errors import GembokError


class InvalidPhoneNumber(GembokError):
    """A phone number that cannot be read as a valid number."""


def normalise_phone(raw: str, region: str = "ID") -> str:
    """E.164 form (+6281234567890). Numbers without a +country are read in `region`.

    The message never repeats the number: it is personal data and may end up in a log.
    """
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber("phone number cannot be read: write it with its country "
                                 "code, such as +62 812 3456 7890") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("phone number is not a valid number for its country: "
                                 "check the digits and the country code")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class BlindIndex:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, purpose: str, normalised: str) -> bytes:
        message = purpose.encode() + b"\x00" + normalised.encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def phone(self, raw: str, region: str = "ID") -> bytes:
        return self("phone", normalise_phone(raw, region))

    def __repr__(self) -> str:
        return "BlindIndex(<key hidden>)"

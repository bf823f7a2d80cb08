"""Provides phone-number handling as the Cloud API does it: `to` parsing and country lookups.

Meta accepts `+`, `-`, `(`, `)` and spaces in `to`, and prepends the business number's
country code to a number written without `+` (reference §3.1). Written in full
(`6281234567890`, as clients usually send a wa_id) the number is taken as it is.
"""

from __future__ import annotations

import re
from collections.abc import Container

import phonenumbers

_ALLOWED = re.compile(r"^\+?[\d\s()\-]+$")


def digits_of(value: str) -> str:
    return re.sub(r"\D", "", value)


def is_phone_like(value: str) -> bool:
    return bool(_ALLOWED.fullmatch(value.strip())) and any(ch.isdigit() for ch in value)


def normalise_to(value: str, business_number: str, known: Container[str] = ()) -> str:
    """The wa_id a `to` value addresses: digits only, with the country code in front."""
    raw = value.strip()
    digits = digits_of(raw)
    if raw.startswith("+") or digits in known:
        return digits
    region = region_of(business_number)
    try:
        national = phonenumbers.parse(digits, region)
        if phonenumbers.is_valid_number(national):
            return f"{national.country_code}{national.national_number}"
    except phonenumbers.NumberParseException:
        pass
    try:
        if phonenumbers.is_valid_number(phonenumbers.parse("+" + digits)):
            return digits
    except phonenumbers.NumberParseException:
        pass
    return calling_code(business_number) + digits.lstrip("0")


def region_of(number: str) -> str:
    """ISO region of a digits-only international number; `ID` when it cannot be told."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + number))
    except phonenumbers.NumberParseException:
        return "ID"
    return str(region) if region and region != "ZZ" else "ID"


def calling_code(number: str) -> str:
    try:
        return str(phonenumbers.parse("+" + number).country_code)
    except phonenumbers.NumberParseException:
        return "62"


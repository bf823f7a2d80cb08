"""What an agent without reveal sees: no NIK, card, account number, e-mail or code, ever."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.privacy.masking import luhn_ok, mask_phone, mask_text

digits = st.text("0123456789", min_size=1, max_size=1)


@st.composite
def niks(draw) -> str:
    return "".join(draw(digits) for _ in range(16))


@st.composite
def cards(draw) -> str:
    length = draw(st.integers(13, 19))
    body = [draw(digits) for _ in range(length - 1)]
    for check in "0123456789":
        if luhn_ok("".join(body) + check):
            body.append(check)
            break
    number = "".join(body)
    sep = draw(st.sampled_from(["", " ", "-"]))
    return sep.join(number[i:i + 4] for i in range(0, len(number), 4))


@st.composite
def accounts(draw) -> str:
    bank = draw(st.sampled_from(["BCA", "bni", "BRI", "Mandiri", "no rek", "rekening", "BSI"]))
    number = "".join(draw(digits) for _ in range(draw(st.integers(8, 16))))
    return f"{bank}{draw(st.sampled_from([' ', ': ', ' a.n. Budi ']))}{number}"


@st.composite
def otps(draw) -> str:
    word = draw(st.sampled_from(["kode OTP", "OTP", "kode verifikasi", "code", "PIN"]))
    code = "".join(draw(digits) for _ in range(draw(st.integers(4, 8))))
    return f"{word}{draw(st.sampled_from([' ', ': ', ' Anda ']))}{code}"


filler = st.text(st.characters(whitelist_categories=("Ll", "Lu", "Zs", "Po")), max_size=30)


def hidden(secret: str, masked: str) -> bool:
    """No run of the secret's digits longer than the 4 kept ones survives."""
    clear = re.sub(r"\D", "", secret)
    return not any(clear[i:i + 5] in re.sub(r"\D", "", masked)
                   for i in range(len(clear) - 4)) if len(clear) > 4 else clear not in masked


@settings(max_examples=300)
@given(before=filler, nik=niks(), after=filler)
def test_a_nik_anywhere_in_a_message_is_masked(before, nik, after):
    masked = mask_text(f"{before} {nik} {after}")
    assert nik not in masked and masked.count("*") >= 12


@settings(max_examples=300)
@given(before=filler, card=cards(), after=filler)
def test_a_card_number_passing_luhn_is_masked_to_its_last_four(before, card, after):
    masked = mask_text(f"{before} {card} {after}")
    assert hidden(card, masked)


@settings(max_examples=300)
@given(before=filler, account=accounts(), after=filler)
def test_a_bank_account_after_a_bank_word_is_masked(before, account, after):
    number = re.search(r"\d+$", account).group(0)
    masked = mask_text(f"{before} {account} {after}")
    assert hidden(number, masked)


@settings(max_examples=300)
@given(before=filler, otp=otps(), after=filler)
def test_a_one_time_code_after_a_code_word_is_masked_entirely(before, otp, after):
    code = re.search(r"\d+$", otp).group(0)
    masked = mask_text(f"{before} {otp} {after}")
    assert code not in masked


@settings(max_examples=200)
@given(local=st.from_regex(r"[a-z][a-z0-9._]{2,15}", fullmatch=True),
       domain=st.from_regex(r"[a-z]{3,10}\.(com|co\.id|id)", fullmatch=True))
def test_an_email_address_is_masked(local, domain):
    masked = mask_text(f"email saya {local}@{domain} ya")
    assert f"{local}@{domain}" not in masked and "@" in masked
    assert local not in masked.split(" ")[2]  # the address as masked, not the words around it


@pytest.mark.parametrize("text", ["pesanan 12345 belum sampai", "harga Rp150.000",
                                  "tanggal 25/11/2026 jam 14.30", "nomor resi JNE00123456"])
def test_ordinary_numbers_are_left_alone(text):
    assert mask_text(text) == text


def test_a_phone_shows_only_its_start_and_last_four_digits():
    assert mask_phone("+6281234567890") == "+62 812-****-7890"
    assert mask_phone(None) == ""

"""What Indonesians actually type: grouped NIKs, phones in text, codes before their word.

Every masked number keeps its separators and its last four digits; a one-time code keeps
none; prices, dates, times, quantities and order numbers stay exactly as written.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.privacy.masking import luhn_ok, mask_text

NIK = "3174091203870007"  # Jakarta Pusat; fails Luhn, as most NIKs do


def test_a_nik_written_whole_is_masked_to_its_last_four_digits():
    assert mask_text(f"Halo kak, NIK saya {NIK}") == "Halo kak, NIK saya ************0007"


@pytest.mark.parametrize(("written", "shown"), [
    ("3174 0912 0387 0007", "**** **** **** 0007"),
    ("3174.0912.0387.0007", "****.****.****.0007"),
    ("3174-0912-0387-0007", "****-****-****-0007"),
    ("3174 - 0912 - 0387 - 0007", "**** - **** - **** - 0007"),
])
def test_a_nik_written_in_groups_of_four_is_masked(written, shown):
    assert mask_text(f"NIK saya {written} ya kak") == f"NIK saya {shown} ya kak"


@pytest.mark.parametrize(("written", "shown"), [
    ("317409-120387-0007", "******-******-0007"),
    ("317409 120387 0007", "****** ****** 0007"),
    ("317409.120387.0007", "******.******.0007"),
])
def test_a_nik_written_six_six_four_is_masked(written, shown):
    assert mask_text(f"nik {written}") == f"nik {shown}"


def test_a_family_card_number_is_masked_like_a_nik():
    assert mask_text("No KK: 3174 0101 2345 6789") == "No KK: **** **** **** 6789"


def test_a_sixteen_digit_number_that_fails_luhn_is_still_masked():
    # Given a NIK, which has no checksum and here fails Luhn
    assert not luhn_ok(NIK)
    # Then it is masked all the same
    assert mask_text(f"ini {NIK} kak") == "ini ************0007 kak"


def test_a_card_number_that_passes_luhn_is_masked_the_same_way():
    assert luhn_ok("4111111111111111")
    assert mask_text("kartu 4111 1111 1111 1111") == "kartu **** **** **** 1111"


@pytest.mark.parametrize(("written", "shown"), [
    ("09.254.294.3-407.000", "**.***.***.*-**7.000"),
    ("092542943407000", "***********7000"),
    ("0925 4294 3407 0001", "**** **** **** 0001"),  # the 16-digit NPWP of 2024
])
def test_an_npwp_is_masked_in_its_dotted_whole_and_new_forms(written, shown):
    assert mask_text(f"NPWP: {written}") == f"NPWP: {shown}"


@pytest.mark.parametrize(("written", "shown"), [
    ("081234567890", "********7890"),
    ("0812-3456-7890", "****-****-7890"),
    ("0812 3456 7890", "**** **** 7890"),
    ("0812.3456.7890", "****.****.7890"),
    ("+62 812 3456 7890", "+** *** **** 7890"),
    ("+62-812-3456-7890", "+**-***-****-7890"),
    ("+6281234567890", "+*********7890"),
    ("62812345678 90", "*********78 90"),
])
def test_a_phone_number_in_a_message_shows_only_its_last_four_digits(written, shown):
    assert mask_text(f"nomor saya {written} ya") == f"nomor saya {shown} ya"


@pytest.mark.parametrize(("written", "shown"), [
    ("(021) 5551234", "(***) ***1234"),
    ("0274-512345", "****-**2345"),
])
def test_a_landline_written_with_its_area_code_is_masked(written, shown):
    assert mask_text(f"telp kantor {written}") == f"telp kantor {shown}"


@pytest.mark.parametrize(("text", "masked"), [
    ("123456 adalah kode OTP Anda", "****** adalah kode OTP Anda"),
    ("482913 is your verification code", "****** is your verification code"),
    ("<#> 482913 merupakan kode verifikasi Anda", "<#> ****** merupakan kode verifikasi Anda"),
    ("482913. Jangan berikan kode ini kepada siapa pun",
     "******. Jangan berikan kode ini kepada siapa pun"),
    ("482913 JANGAN BERIKAN KODE INI", "****** JANGAN BERIKAN KODE INI"),
])
def test_a_one_time_code_before_its_word_is_masked(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize(("text", "masked"), [
    ("kode: 4 8 2 9 1 3", "kode: * * * * * *"),
    ("OTP 482-913", "OTP ***-***"),
    ("kode OTP 482 913 berlaku 5 menit", "kode OTP *** *** berlaku 5 menit"),
])
def test_a_one_time_code_written_spaced_or_split_is_masked(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize(("text", "masked"), [
    ("kode verifikasi Anda: 482913", "kode verifikasi Anda: ******"),
    ("kode rahasia 4829", "kode rahasia ****"),
    ("PIN ATM saya 123456", "PIN ATM saya ******"),
    ("token 48291357", "token ********"),
    ("Kode OTP Anda 482913. JANGAN BERIKAN kode ini kepada siapa pun",
     "Kode OTP Anda ******. JANGAN BERIKAN kode ini kepada siapa pun"),
])
def test_a_one_time_code_after_an_indonesian_word_is_masked(text, masked):
    assert mask_text(text) == masked


def test_a_code_word_between_an_order_number_and_a_code_hides_only_the_code():
    assert (mask_text("pesanan 12345 kode verifikasi 482913")
            == "pesanan 12345 kode verifikasi ******")


def test_a_phone_after_a_code_word_keeps_its_last_four_digits():
    assert mask_text("kode dikirim ke 0812 3456 7890") == "kode dikirim ke **** **** 7890"


@pytest.mark.parametrize("text", [
    "harga Rp 150.000", "total Rp150.000,00", "Rp. 1.250.000 sudah ditransfer",
    "transfer ke BCA Rp 150.000", "IDR 75.000", "tanggal 12/03/2026", "tanggal 2026-03-12",
    "tanggal 08-03-2026 jam 10.00", "jam 14.30", "pukul 09:15 WIB", "pesanan #12345 belum sampai",
    "order 4821 ya", "beli 3 pcs", "kode pos 40123", "12345 adalah kode pos",
    "pakai kode promo HEMAT50", "resi JNE00123456",
])
def test_prices_dates_times_order_numbers_and_quantities_stay_as_written(text):
    assert mask_text(text) == text


@pytest.mark.parametrize("unit", ["1 ", "12.", "123-", "(1) ", "kode 1 ", "BCA 12 ", "a@",
                                  "+6 ", "0812 ", "4 8 2 9 adalah kode "])
def test_a_long_hostile_message_is_masked_quickly(unit):
    # Given a message as long as WhatsApp allows, made of one repeated trap
    text = unit * (4096 // len(unit))
    # When it is masked, Then no pattern backtracks its way into seconds
    started = time.perf_counter()
    mask_text(text)
    assert time.perf_counter() - started < 0.5


# A property over generated Indonesian sentences: a secret in every written shape, set in a
# template and surrounded by fillers (prices, dates, times, order numbers, quantities).

@dataclass(frozen=True)
class Secret:
    written: str
    shown: int  # trailing digits the mask may leave visible

    @property
    def digits(self) -> str:
        return re.sub(r"\D", "", self.written)


@dataclass(frozen=True)
class Message:
    text: str
    secret: Secret
    around: tuple[int, int]  # the template holding the secret: it has no digits of its own
    fillers: list[tuple[int, int]]


def numbers(size: int):
    return st.text("0123456789", min_size=size, max_size=size)


def grouped(number: str, sizes: list[int], sep: str) -> str:
    parts, at = [], 0
    for size in sizes:
        parts.append(number[at:at + size])
        at += size
    return sep.join(parts)


SEPARATORS = st.sampled_from([" ", ".", "-", " - "])


@st.composite
def niks(draw):
    number = draw(numbers(16))
    sizes = draw(st.sampled_from([[16], [4, 4, 4, 4], [6, 6, 4]]))
    return Secret(grouped(number, sizes, draw(SEPARATORS)), 4)


@st.composite
def npwps(draw):
    number = draw(numbers(15))
    return Secret(draw(st.sampled_from([
        number,
        f"{number[:2]}.{number[2:5]}.{number[5:8]}.{number[8]}-{number[9:12]}.{number[12:]}",
        number + draw(numbers(1)),
    ])), 4)


@st.composite
def phones(draw):
    national = "8" + draw(st.sampled_from("123456789")) + draw(
        st.integers(7, 10).flatmap(numbers))
    sep = draw(st.sampled_from([" ", "-", "."]))
    local = "0" + national
    return Secret(draw(st.sampled_from([
        local,
        grouped(local, [4, 4, len(local) - 8], sep),
        "+62" + national,
        "62" + national,
        "+62 " + grouped(national, [3, 4, len(national) - 7], sep.strip() or " "),
        f"62{national[:-2]} {national[-2:]}",
    ])), 4)


@st.composite
def otps(draw):
    code = draw(st.integers(4, 8).flatmap(numbers))
    half = len(code) // 2
    shapes = [code, " ".join(code)]
    if len(code) >= 6:
        shapes += [f"{code[:half]}-{code[half:]}", f"{code[:half]} {code[half:]}"]
    return Secret(draw(st.sampled_from(shapes)), 0)


@st.composite
def accounts(draw):
    number = draw(numbers(10))
    return Secret(draw(st.sampled_from([number, grouped(number, [3, 3, 4], "-")])), 4)


TEMPLATES = {
    "nik": (niks(), ["Halo kak, NIK saya {}", "nik {} atas nama Budi", "No KK {} ya kak"]),
    "npwp": (npwps(), ["NPWP: {}", "npwp perusahaan {} kak"]),
    "phone": (phones(), ["nomor saya {} ya", "hubungi saya di {}", "WA {} min"]),
    "otp": (otps(), ["{} adalah kode OTP Anda", "{} is your verification code",
                     "Kode OTP Anda {}. Jangan berikan kode ini kepada siapa pun",
                     "kode: {}", "PIN {}", "token {}", "kode verifikasi {}",
                     "{} JANGAN BERIKAN kode ini"]),
    "account": (accounts(), ["transfer ke rek BCA {}", "no rek {} a.n. Budi"]),
}


def rupiah(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


FILLERS = st.one_of(
    st.builds(lambda n, shape: shape.format(rupiah(n * 1000)), st.integers(1, 999_999),
              st.sampled_from(["Rp {}", "Rp{}", "Rp {},00", "IDR {}", "harga Rp. {}"])),
    st.builds(lambda d, shape: d.strftime(shape), st.dates(),
              st.sampled_from(["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "tgl %d.%m.%Y"])),
    st.builds(lambda h, m, shape: shape.format(h, m), st.integers(0, 23), st.integers(0, 59),
              st.sampled_from(["jam {:02d}.{:02d}", "pukul {:02d}:{:02d} WIB"])),
    st.builds(lambda n, shape: shape.format(n), st.integers(1, 99_999),
              st.sampled_from(["pesanan #{}", "order {}", "{} pcs", "{} botol", "kode pos {}"])),
    st.sampled_from(["terima kasih", "mohon dicek", "sudah transfer", "pakai kode promo HEMAT50"]),
)
JOINERS = st.sampled_from([", ", ". ", " ya, ", "! "])


@st.composite
def messages(draw):
    secrets, templates = TEMPLATES[draw(st.sampled_from(sorted(TEMPLATES)))]
    secret, template = draw(secrets), draw(st.sampled_from(templates))
    text, fillers = "", []
    for filler in draw(st.lists(FILLERS, max_size=2)):
        fillers.append((len(text), len(text) + len(filler)))
        text += filler + draw(JOINERS)
    start = len(text)
    text += template.format(secret.written)
    around = (start, len(text))
    for filler in draw(st.lists(FILLERS, max_size=2)):
        text += draw(JOINERS)
        fillers.append((len(text), len(text) + len(filler)))
        text += filler
    return Message(text, secret, around, fillers)


@settings(max_examples=200, deadline=None)
@given(message=messages())
def test_no_secret_in_any_written_shape_survives_masking_and_the_words_around_it_do(message):
    # Given a customer's message holding one secret among prices, dates and order numbers
    text, secret = message.text, message.secret
    # When it is masked
    masked = mask_text(text)
    # Then the layout is kept, so each piece can be found where it was written
    assert len(masked) == len(text)
    # and near the secret only its last digits (at most what its mask shows) remain:
    # for a NIK, none of its first 12 digits in any separator style
    start, end = message.around
    shown = re.sub(r"\D", "", masked[start:end])
    assert secret.digits.endswith(shown) and len(shown) <= secret.shown, masked
    # and every filler is exactly as written
    for start, end in message.fillers:
        assert masked[start:end] == text[start:end], masked
    # and masking what is already masked changes nothing
    assert mask_text(masked) == masked

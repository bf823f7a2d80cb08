"""Provides masking: phone numbers and sensitive patterns hidden before text leaves the server.

Masked on the server, so the clear value never reaches a browser that should not have it.
The shapes are the ones Indonesian customers type into a chat, not the ones a form enforces
(issue 11 found grouped NIKs, phones in text and codes before their word shown in clear):
a NIK or KK number (16 digits, no checksum) whole or grouped (`3174 0912 0387 0007`,
`3174.0912.0387.0007`, `317409-120387-0007`); an NPWP (`09.254.294.3-407.000`, 15 digits
whole, or the 16-digit NIK form); a card number (13-19 digits passing Luhn); a phone number
(`0812-3456-7890`, `+62 812 3456 7890`, `62812345678 90`, `(021) 5551234`); an account
number after a bank word; an e-mail address; a one-time code on either side of its word
(`kode OTP: 482913`, `482913 adalah kode OTP Anda`, `kode: 4 8 2 9 1 3`, `OTP 482-913`).

A masked number keeps its separators and its last four digits, which an agent may need to
tell two numbers apart; a one-time code keeps none. Prices (`Rp 150.000`), dates, times,
quantities and short order numbers stay as written: a run of digit groups is masked only
where some window of its groups has the shape of one of the numbers above.

Runs on every message of a thread page (50): patterns are compiled once, no unbounded
quantifier repeats over classes that overlap, and a run is tried in windows of at most six
groups, so time grows linearly. Measured on the 2-core box: a page of 50 ordinary messages in
about 8 ms; the worst 4,096-character trap found (`0812 0812 ...`) in about 17 ms.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import phonenumbers

BANK_WORDS = (r"bca|bni|bri|bsi|btn|mandiri|cimb(?:\s*niaga)?|permata|danamon|ocbc|jago|"
              r"seabank|panin|mega|maybank|no\.?\s*rek(?:ening)?|norek|rek(?:ening)?|"
              r"account|acc(?:ount)?\s*no")
# "kode pos 40123" or "kode promo" is not a secret; "kode OTP", "kode rahasia" are.
_PUBLIC_CODE_KINDS = (r"pos|promo|voucher|kupon|produk|barang|referral|resi|booking|pesanan|"
                      r"order|transaksi|warna|area|negara|wilayah|bank")
CODE_WORDS = (rf"otp|kode(?!\s+(?:{_PUBLIC_CODE_KINDS})\b)"
              r"(?:\s+(?:otp|verifikasi|rahasia|aktivasi|keamanan))?|"
              r"(?<!promo\s)(?<!zip\s)(?<!postal\s)code|passcode|pin|verifikasi|"
              r"verification(?:\s+code)?|token|one[- ]time\s+password")

_NOT_A_PRICE = r"(?<!rp)(?<!rp )(?<!rp\.)(?<!rp\. )(?<!idr)(?<!idr )"
_SPACE = r"[ \t\u00a0]"
# One code: `482-913` or `482 913`, `4 8 2 9 1 3`, or 4-8 digits whole; never the head of a
# longer number (`0812-3456-7890`, `2026-03-12`), yet `482913 2 menit` is still a code.
_ONE_CODE = (r"\d{3,4}[ \-]\d{3,4}(?![\-.]?\d| \d\d)|\d(?:[ \-]\d){3,7}(?![\-. ]?\d)|"
             r"\d{4,8}(?![\-.]?\d)")
_GAP = r"[^\d\n*,;.!?#]{0,20}"  # words between a code and its word; no clause break
_CODE_AFTER = re.compile(rf"(?i)\b(?:{CODE_WORDS})\b{_GAP}{_NOT_A_PRICE}({_ONE_CODE})")
_CODE_BEFORE = re.compile(
    rf"(?i)(?<![\d*])(?<![\d*][.\-/:]){_NOT_A_PRICE}({_ONE_CODE})"
    rf"(?:{_SPACE}{{0,3}}[:=\-]?{_SPACE}{{0,3}}"
    rf"(?:(?:adalah|merupakan|ialah|is|sebagai|jadi){_SPACE}+)?"
    rf"(?:(?:your|anda|kamu|the){_SPACE}+)?"
    rf"|{_SPACE}{{0,3}}[.,!]{_SPACE}{{0,3}}(?=jangan))"
    rf"(?:jangan{_SPACE}+(?:berikan|bagikan|sebarkan|beritahukan|kasih){_SPACE}+)?"
    # `12345 kode verifikasi 482913`: the word belongs to the code after it
    rf"(?:{CODE_WORDS})\b(?!{_GAP}(?:{_ONE_CODE}))")
_BANK = re.compile(rf"(?i)\b(?:{BANK_WORDS})\b[^\d\n*]{{0,25}}{_NOT_A_PRICE}"
                   r"(\d(?:[ \-.]?\d){5,19})(?!\d)")
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([\w-])[\w-]*((?:\.[\w-]+)*\.[a-z]{2,})",
                    re.IGNORECASE)

# A run of digit groups joined by one separator each (`3174 0912`, `0812-3456`, `(021) 555`,
# `3174 - 0912`), or a price, which is matched only to be left alone. A dot or dash with a
# space after it only ends a sentence: `... 0812345678. 2026-03-12 ...` is two runs.
_SEPARATOR = rf"(?:[.\-]|{_SPACE}[.\-]{_SPACE}|{_SPACE})"
_RUNS = re.compile(rf"(?P<price>\b(?:rp|idr)\.?{_SPACE}?\d+(?:[.,]\d+)*)"
                   rf"|(?:\+{_SPACE}?)?\(?\d+\)?(?:{_SEPARATOR}\(?\d+\)?)*",
                   re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_NPWP_GROUPS = [2, 3, 3, 1, 3, 3]  # 09.254.294.3-407.000
_SHORTEST, _LONGEST = 8, 19  # digits of a maskable number: `+65 9123 4567` to a long card
_MOST_GROUPS = 6  # an NPWP's; nobody writes a NIK or a phone in more groups than that


def mask_phone(e164: str | None) -> str:
    """`+6281234567890` shows as `+62 812-****-7890`."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
        national = str(number.national_number)
        country = f"+{number.country_code}"
    except phonenumbers.NumberParseException:
        digits = re.sub(r"\D", "", e164)
        country, national = "+" + digits[:2], digits[2:]
    if len(national) <= 4:
        return f"{country} ****"
    return f"{country} {national[:3]}-****-{national[-4:]}"


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _keep_last4(text: str) -> str:
    """Masks every digit but the last four, keeping spaces and dashes in place."""
    count = sum(ch.isdigit() for ch in text)
    out, seen = [], 0
    for ch in text:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > count - 4 else "*")
        else:
            out.append(ch)
    return "".join(out)


def _hide_all(text: str) -> str:
    return "".join("*" if ch.isdigit() else ch for ch in text)


def _is_phone(groups: list[str], plus: bool) -> bool:
    """`0812-3456-7890`, `+62 812 3456 7890`, `62812345678 90`, `(021) 5551234`."""
    number = "".join(groups)
    if plus:  # `+` and 8-15 digits is E.164, whatever the country
        return 8 <= len(number) <= 15
    if not number.startswith(("0", "62")):
        return False
    sizes = [len(g) for g in groups]
    # groups of three or more digits (a date's `08-03` is not), the last may have two
    grouped = len(sizes) == 1 or (min(sizes[1:-1], default=3) >= 3 and sizes[-1] >= 2)
    if number.startswith("62"):
        national = number[2:]
        head = sizes[1:] if sizes[0] == 2 else sizes
        return (national[:1] == "8" and 9 <= len(national) <= 12 and bool(head)
                and head[0] >= 3 and grouped)
    national = number[1:]
    if national[:1] == "8":
        return 9 <= len(national) <= 12 and sizes[0] >= 3 and grouped
    # a landline only with its area code apart: `(021) 5551234`, `0274-512345`
    return (national[:1] in "1234579" and 8 <= len(national) <= 10 and len(sizes) > 1
            and sizes[0] in (3, 4) and min(sizes[1:]) >= 3)


def _is_sensitive(groups: list[str], separators: list[str], plus: bool) -> bool:
    """Whether these groups, as written, are a NIK, KK, NPWP, card or phone number."""
    number = "".join(groups)
    sizes = [len(g) for g in groups]
    whole = len(groups) == 1
    alike = len(set(separators)) <= 1
    even = whole or (alike and min(sizes) >= 3)
    if len(number) == 16 and even:  # NIK, KK, the new NPWP, and most cards
        return True
    if len(number) == 15 and (even or sizes == _NPWP_GROUPS):
        return True
    if 13 <= len(number) <= _LONGEST and (  # a card: 4-4-4-4(-3), Diners' 4-6-4
            whole or (alike and (all(s == 4 for s in sizes[:-1]) or sizes[:2] == [4, 6]))
    ) and luhn_ok(number):
        return True
    return _is_phone(groups, plus)


def _mask_run(run: str) -> str:
    """Masks each window of groups that is sensitive; overlapping windows mask as one."""
    spans = [m.span() for m in _DIGITS.finditer(run)]
    groups = [run[start:end] for start, end in spans]
    separators = [run[spans[i][1]:spans[i + 1][0]] for i in range(len(spans) - 1)]
    windows: list[tuple[int, int]] = []
    for first in range(len(groups)):
        count, plus = 0, first == 0 and run.startswith("+")
        for last in range(first, min(first + _MOST_GROUPS, len(groups))):
            count += len(groups[last])
            if count > _LONGEST:
                break
            if count >= _SHORTEST and _is_sensitive(groups[first:last + 1],
                                                    separators[first:last], plus):
                if windows and first <= windows[-1][1]:
                    windows[-1] = (windows[-1][0], max(windows[-1][1], last))
                else:
                    windows.append((first, last))
    out, done = [], 0
    for first, last in windows:
        start, end = spans[first][0], spans[last][1]
        out += [run[done:start], _keep_last4(run[start:end])]
        done = end
    out.append(run[done:])
    return "".join(out)


def _numbers(m: re.Match[str]) -> str:
    return m.group(0) if m.group("price") else _mask_run(m.group(0))


def _in_group(m: re.Match[str], mask: Callable[[str], str]) -> str:
    """Masks the captured number only, leaving the word before it as written."""
    start, end = m.span(1)
    return m.string[m.start():start] + mask(m.group(1)) + m.string[end:m.end()]


def mask_text(text: str | None) -> str:
    """Message text as an agent without reveal sees it; same length unless it has an e-mail."""
    if not text:
        return text or ""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}***{m.group(3)}", text)
    text = _BANK.sub(lambda m: _in_group(m, _keep_last4), text)
    text = _RUNS.sub(_numbers, text)
    text = _CODE_BEFORE.sub(lambda m: _in_group(m, _hide_all), text)
    return _CODE_AFTER.sub(lambda m: _in_group(m, _hide_all), text)

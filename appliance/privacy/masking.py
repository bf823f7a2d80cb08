"""Provides masking: phone numbers and sensitive patterns hidden before text leaves the server.

Masked on the server, so the clear value never reaches a browser that should not have
it. Patterns are the ones Indonesian customers actually type into a chat: NIK (16
digits), payment cards (13-19 digits passing Luhn), bank account numbers after a bank
word, e-mail addresses, and one-time codes after a code word. Masking keeps the last
four digits where an agent may need them to tell two numbers apart.
"""

from __future__ import annotations

import re

import phonenumbers

BANK_WORDS = (r"bca|bni|bri|bsi|btn|mandiri|cimb(?:\s*niaga)?|permata|danamon|ocbc|jago|"
              r"seabank|panin|mega|maybank|no\.?\s*rek(?:ening)?|norek|rek(?:ening)?|"
              r"account|acc(?:ount)?\s*no")
CODE_WORDS = r"otp|kode(?:\s+(?:otp|verifikasi|rahasia|aktivasi))?|code|pin|verifikasi|token"

_CARD = re.compile(r"(?<![\d\w])\d(?:[ \-]?\d){12,18}(?![\d\w])")
_NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")
_BANK = re.compile(rf"(?i)\b(?:{BANK_WORDS})\b[^\d\n]{{0,25}}(\d(?:[ \-.]?\d){{5,19}})(?!\d)")
_CODE = re.compile(rf"(?i)\b(?:{CODE_WORDS})\b[^\d\n]{{0,20}}(\d{{4,8}})(?!\d)")
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([\w-])[\w-]*((?:\.[\w-]+)*\.[a-z]{2,})",
                    re.IGNORECASE)


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


def mask_text(text: str | None) -> str:
    if not text:
        return text or ""

    def card(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return _keep_last4(m.group(0)) if luhn_ok(digits) else m.group(0)

    def group(m: re.Match[str], how: str) -> str:
        start, end = m.span(1)
        value = m.group(1)
        hidden = "*" * sum(ch.isdigit() for ch in value) if how == "all" else _keep_last4(value)
        whole = m.group(0)
        return whole[:start - m.start()] + hidden + whole[end - m.start():]

    text = _CODE.sub(lambda m: group(m, "all"), text)
    text = _BANK.sub(lambda m: group(m, "last4"), text)
    text = _NIK.sub(lambda m: _keep_last4(m.group(0)), text)
    text = _CARD.sub(card, text)
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}***{m.group(3)}", text)

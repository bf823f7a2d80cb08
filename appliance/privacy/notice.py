"""Provides the business's privacy notice: versioned, shown once per customer and version.

UU PDP Pasal 20-21 asks the business to tell a person, before it processes their data,
who processes it, for what, for how long and how to withdraw. Auto Reply sends the
WhatsApp summary with a customer's first message (and again when a new version is
published), records "notice shown" in the consent ledger with the version and the
message that carried it, and the webhook face serves the full text at `/privacy`: the
one page of Gembok's on the internet, so a customer can read it from the link.

A published version is never changed or deleted (the database refuses it, m0013): what
the ledger says a customer was shown must still be there to read. A correction is a new
version; publishing one is audited. Only admins publish: the notice is the business's,
not a division's.
"""

from __future__ import annotations

import html
import re
import threading
from dataclasses import dataclass
from typing import Any

from peewee import IntegrityError

from appliance.auth.permissions import Denied, Principal, require
from appliance.clock import utcnow
from appliance.errors import GembokError
from appliance.runtime import Runtime
from appliance.store.consent import ConsentEvent, PrivacyNotice
from appliance.store.db import db

MAX_SUMMARY = 4096 - 200  # a WhatsApp text, with room for the link to the full notice
MAX_FULL = 100_000
VERSION = re.compile(r"[A-Za-z0-9._-]{1,32}")
NOTICE_PATH = "/privacy"
LANGUAGES = ("id", "en")


class NoticeError(GembokError):
    """A notice that cannot be published as given: the message says which part and why."""


@dataclass(frozen=True)
class Notice:
    version: str
    summary: dict[str, str]  # language: the WhatsApp text
    full: dict[str, str]  # language: the page's text
    published_at: str
    published_by: str

    def text(self, language: str, *, kind: str = "summary") -> str:
        """The text in `language`, or the Indonesian one where there is none in it."""
        texts = self.summary if kind == "summary" else self.full
        return texts.get(language) or texts.get("id") or ""


def _of(row: PrivacyNotice) -> Notice:
    return Notice(row.version, {"id": row.summary_id, "en": row.summary_en},
                  {"id": row.full_id, "en": row.full_en}, str(row.published_at)[:19],
                  row.published_by)


def current() -> Notice | None:
    """The latest published notice, or None before the business has published one."""
    row = PrivacyNotice.select().order_by(PrivacyNotice.id.desc()).first()
    return None if row is None else _of(row)


class Cached:
    """The current notice a worker sends, read again only when a version is published."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: str | None = None
        self._notice: Notice | None = None

    def current(self, stamp: str | None) -> Notice | None:
        """`stamp`: the newest version's id, name and time (None: none published)."""
        with self._lock:
            if stamp != self._stamp:
                self._notice, self._stamp = current(), stamp
            return self._notice


CURRENT = Cached()


def versions() -> list[Notice]:
    """Every published version, newest first: what each customer saw stays readable."""
    return [_of(r) for r in PrivacyNotice.select().order_by(PrivacyNotice.id.desc())]


def find(version: str) -> Notice | None:
    row = PrivacyNotice.get_or_none(PrivacyNotice.version == version)
    return None if row is None else _of(row)


def publish(rt: Runtime, principal: Principal, version: str, *, summary_id: str,
            full_id: str, summary_en: str = "", full_en: str = "") -> Notice:
    """Publishes a new version; customers see it with their next message."""
    require(principal, "automation.manage")
    if principal.role != "admin":
        raise Denied()  # the business's notice, not a division's
    version = version.strip()
    if not VERSION.fullmatch(version):
        raise NoticeError("the version is a short name of letters, digits, dots and dashes, "
                          "such as 2026-12 or v2")
    for name, text, limit in (("Indonesian summary", summary_id, MAX_SUMMARY),
                              ("English summary", summary_en, MAX_SUMMARY),
                              ("Indonesian full notice", full_id, MAX_FULL),
                              ("English full notice", full_en, MAX_FULL)):
        if len(text) > limit:
            raise NoticeError(f"the {name} has {len(text):,} characters: at most {limit:,}")
    if not summary_id.strip() or not full_id.strip():
        raise NoticeError("the notice needs its Indonesian text, both the short one for "
                          "WhatsApp and the full one for the page")
    if bool(summary_en.strip()) != bool(full_en.strip()):
        raise NoticeError("give the English notice both ways (short and full), or neither")
    try:
        with db.atomic():
            PrivacyNotice.create(version=version, summary_id=summary_id.strip(),
                                 summary_en=summary_en.strip(), full_id=full_id.strip(),
                                 full_en=full_en.strip(), published_at=utcnow(),
                                 published_by=principal.actor)
            rt.audit(actor=principal.actor, action="privacy.notice_published",
                     target=f"privacy_notice:{version}")
    except IntegrityError:
        raise NoticeError(f"version {version} is published already: a notice is never "
                          "changed once customers may have seen it; publish a new version"
                          ) from None
    found = find(version)
    assert found is not None
    return found


def shown_versions(customer_ids: list[int]) -> dict[int, set[str]]:
    """The notice versions each customer has been shown (from the ledger), in one query."""
    shown: dict[int, set[str]] = {c: set() for c in customer_ids}
    if customer_ids:
        rows: Any = ConsentEvent.select(ConsentEvent.customer, ConsentEvent.notice_version) \
            .where(ConsentEvent.customer.in_(customer_ids),
                   ConsentEvent.event == "notice_shown").tuples()
        for customer, version in rows:
            shown[int(customer)].add(str(version))
    return shown


def message_text(notice: Notice, language: str, public_url: str) -> str:
    """The WhatsApp summary, with the address of the full notice when the box has one."""
    text = notice.text(language)
    if public_url:
        more = "Pemberitahuan lengkap" if language == "id" else "The full notice"
        text += f"\n\n{more}: {public_url.rstrip('/')}{NOTICE_PATH}?v={notice.version}"
    return text


def page(notice: Notice | None, language: str) -> str:
    """The full notice as a small HTML page (no script, no style sheet, no cookie)."""
    lang = language if language in LANGUAGES else "id"
    if notice is None:
        title = "Pemberitahuan privasi" if lang == "id" else "Privacy notice"
        body = ("<p>Belum ada pemberitahuan privasi yang diterbitkan.</p>" if lang == "id"
                else "<p>No privacy notice has been published yet.</p>")
        return _html(lang, title, body)
    title = ("Pemberitahuan privasi" if lang == "id" else "Privacy notice") + \
        f" ({html.escape(notice.version)})"
    paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>"
                         for p in notice.text(lang, kind="full").split("\n\n") if p.strip())
    other = "en" if lang == "id" else "id"
    switch = "" if not notice.full.get(other) else (
        f'<p><a href="{NOTICE_PATH}?v={html.escape(notice.version)}&amp;lang={other}">'
        f'{"English" if other == "en" else "Bahasa Indonesia"}</a></p>')
    stamp = ("Diterbitkan" if lang == "id" else "Published") + f" {notice.published_at[:10]}"
    return _html(lang, title, f"{paragraphs}<p><small>{stamp}</small></p>{switch}")


def _html(lang: str, title: str, body: str) -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>")

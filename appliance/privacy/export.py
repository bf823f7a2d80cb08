"""Provides the data-subject export (UU PDP Pasal 32 access, Pasal 13 portability).

Everything held about one customer goes in one ZIP: `data.json` (machine-readable: the
record, every conversation with its messages, notes and labels, media, consent history,
requests, holds, every row of every sealed column the customer-data registry lists, and
the processing trail: who read, revealed or exported their data and when, from the
audit log), `data.html` and `data.pdf` (the same for a person, in Indonesian) and the
media files. The sealed rows are gathered by walking the registry, not a list of its own,
so a table added to the registry is exported without anyone remembering to: and
`missing_columns` checks the result against the registry before the file is written.

The ZIP is built in memory and encrypted (AES-256, WinZip AE-2: 7-Zip and most archive
tools open it) with a one-time password shown once to the DPO, who hands it over apart
from the file; the password is never stored. Only the encrypted bytes reach the disk:
an export waiting to be downloaded lies under `<data_dir>/exports/` and the retention
job deletes it after `privacy.export_keep_hours`.
"""

from __future__ import annotations

import io
import json
import mimetypes
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyzipper
from jinja2 import Environment, PackageLoader, select_autoescape

from appliance.auth.permissions import Denied, Principal, require
from appliance.clock import utcnow
from appliance.config import Settings
from appliance.crypto.aead import KeySet, place
from appliance.errors import GembokError
from appliance.keys.customer_keys import customer_keys
from appliance.privacy import consent
from appliance.runtime import Runtime
from appliance.store import customer_data
from appliance.store.chatroom import ConversationLabel, Label
from appliance.store.models import (
    AuditEntry,
    Conversation,
    Customer,
    Division,
    Media,
    Message,
    User,
)
from appliance.store.privacy import PrivacyRequest

# An unambiguous alphabet (no 0/O, 1/l/I): read out or typed by the customer; 24 letters
# of 31 are ~119 bits.
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,40}")
_ENV = Environment(loader=PackageLoader("appliance.privacy", "templates"),
                   autoescape=select_autoescape(["html"]))


class ExportError(GembokError):
    """The export cannot be made or found; the message says why."""


@dataclass(frozen=True, repr=False)
class Export:
    customer_id: int
    data: bytes  # the encrypted ZIP
    password: str
    pdf: bool  # False: this box cannot draw PDFs (the HTML says the same)

    @property
    def filename(self) -> str:
        return f"gembok-customer-{self.customer_id}-{utcnow():%Y%m%d}.zip"

    def __repr__(self) -> str:  # never the password, in a log or a traceback
        return f"Export(customer={self.customer_id}, {len(self.data)} bytes)"


def one_time_password() -> str:
    letters = "".join(secrets.choice(_ALPHABET) for _ in range(24))
    return "-".join(letters[i:i + 4] for i in range(0, 24, 4))


def _open(keys: KeySet, table: str, purpose: str, row_id: int, token: Any) -> bytes | None:
    if token is None or not bytes(token):
        return None
    return keys.open(bytes(token), place(table, purpose, row_id))


def _sealed_rows(keys: KeySet, customer_id: int, files: dict[str, bytes]
                 ) -> dict[str, list[dict[str, Any]]]:
    """Every registry table's rows of the customer, every sealed column opened: text as
    text, JSON as JSON, anything else (a photo) as a file in the ZIP."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for entry in customer_data.CUSTOMER_SEALED:
        rows = customer_data.rows_of_customer(entry, customer_id)
        plain = customer_data.plain_fields(entry, [int(r[0]) for r in rows])
        out = []
        for row_id, _, *values in rows:
            item: dict[str, Any] = {"id": row_id, "fields": plain.get(int(row_id), {})}
            for purpose, value in zip(entry.purposes(), values, strict=True):
                opened = _open(keys, entry.table, purpose, int(row_id), value)
                item[purpose] = _as_json_value(opened, f"{entry.table}-{row_id}-{purpose}",
                                               files)
            out.append(item)
        tables[entry.table] = out
    return tables


def _as_json_value(opened: bytes | None, name: str, files: dict[str, bytes]) -> Any:
    if opened is None:
        return None
    try:
        text = opened.decode("utf-8")
    except UnicodeDecodeError:
        path = f"files/{name}"
        files[path] = opened
        return {"file": path}
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def _conversations(customer_id: int, sealed: dict[str, list[dict[str, Any]]],
                   files: dict[str, bytes]) -> list[dict[str, Any]]:
    """The conversations as a person reads them, built from the opened registry rows."""
    texts = {m["id"]: m.get("body") for m in sealed.get("message", [])}
    notes = sealed.get("note", [])
    media_files = {m["fields"].get("message_id"): m.get("content")
                   for m in sealed.get("media", [])}
    names = {d.id: d.name for d in Division.select()}
    staff = {u.id: u.display_name for u in User.select(User.id, User.display_name)}
    out = []
    for convo in (Conversation.select().where(Conversation.customer == customer_id)
                  .order_by(Conversation.id)):
        labels = [lab.name for lab in Label.select().join(ConversationLabel).where(
            ConversationLabel.conversation == convo.id)]
        messages = []
        for m in (Message.select().where(Message.conversation == convo.id)
                  .order_by(Message.id)):
            item = {"id": m.id, "direction": m.direction, "kind": m.kind,
                    "text": texts.get(m.id), "status": m.status,
                    "at": str(m.sent_at or m.created_at),
                    "by": staff.get(m.author_id or 0, "")}
            content = media_files.get(m.id)
            if isinstance(content, dict):
                media = Media.get(Media.message == m.id)
                ext = mimetypes.guess_extension(media.mime_type) or ".bin"
                nice = f"media/{m.id}{ext}"
                files[nice] = files.pop(content["file"])
                content["file"] = nice
                item["file"] = nice
            messages.append(item)
        out.append({"id": convo.id, "division": names.get(convo.division_id or 0, ""),
                    "status": convo.status, "opened": str(convo.created_at),
                    "resolved": str(convo.resolved_at or ""), "labels": labels,
                    "messages": messages,
                    "notes": [{"id": n["id"], "text": n.get("body"),
                               "at": str(n["fields"].get("created_at", ""))}
                              for n in notes
                              if n["fields"].get("conversation_id") == convo.id]})
    return out


def _targets(customer_id: int) -> list[str]:
    convos = [c.id for c in Conversation.select(Conversation.id)
              .where(Conversation.customer == customer_id)]
    messages = [m.id for m in Message.select(Message.id).where(
        Message.conversation.in_(convos))] if convos else []
    media = [m.id for m in Media.select(Media.id).where(Media.message.in_(messages))] \
        if messages else []
    return ([f"customer:{customer_id}"] + [f"conversation:{c}" for c in convos]
            + [f"message:{m}" for m in messages] + [f"media:{m}" for m in media])


def processing_trail(customer_id: int) -> list[dict[str, str]]:
    """Every audit entry about the customer's data: who (by name), what, when (Pasal 32)."""
    staff = {f"user:{u.id}": f"{u.display_name} ({u.role})" for u in User.select()}
    targets = _targets(customer_id)
    rows: list[AuditEntry] = []
    for start in range(0, len(targets), 500):
        rows += list(AuditEntry.select().where(AuditEntry.target.in_(targets[start:start + 500])))
    rows.sort(key=lambda r: r.seq)
    return [{"at": r.at, "who": staff.get(r.actor, r.actor), "action": r.action,
             "what": r.target} for r in rows]


def gather(rt: Runtime, customer_id: int) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Everything held about the customer (JSON-ready) and the files that go beside it."""
    customer = Customer.get_or_none(Customer.id == customer_id)
    if customer is None:
        raise ExportError(f"there is no customer {customer_id}")
    if customer.erased_at is not None:
        raise ExportError(f"customer {customer_id} was erased: nothing is left to export")
    keys = customer_keys(rt.master, customer_id)
    files: dict[str, bytes] = {}
    sealed = _sealed_rows(keys, customer_id, files)
    record = sealed["customer"][0]
    data = {
        "format": "gembok-customer-export/1",
        "made_at": utcnow().isoformat(timespec="seconds") + "Z",
        "customer": {"id": customer_id, "name": record.get("name"),
                     "phone": record.get("phone"), "whatsapp_user_id": record.get("wa_user"),
                     "first_contact": str(customer.created_at),
                     "last_wrote": str(customer.last_inbound_at or "")},
        "conversations": _conversations(customer_id, sealed, files),
        "consent_history": [r.__dict__ for r in consent.history(customer_id)],
        "requests": [{"id": r.id, "kind": r.kind, "channel": r.channel,
                      "received_at": str(r.received_at), "state": r.state,
                      "done_at": str(r.done_at or "")}
                     for r in PrivacyRequest.select().where(
                         PrivacyRequest.customer == customer_id).order_by(PrivacyRequest.id)],
        "processing_trail": processing_trail(customer_id),
        "sealed_tables": sealed,
    }
    return data, files


def missing_columns(data: dict[str, Any]) -> list[str]:
    """Registry columns the export has no place for ("table.column"): must be empty."""
    tables = data.get("sealed_tables", {})
    missing = []
    for entry in customer_data.CUSTOMER_SEALED:
        if entry.table not in tables:
            missing.append(f"{entry.table}.*")
            continue
        for row in tables[entry.table]:
            missing += [f"{entry.table}.{c}" for c, p in zip(entry.columns, entry.purposes(),
                                                              strict=True) if p not in row]
    return sorted(set(missing))


def _html(data: dict[str, Any], pdf_note: str) -> str:
    return _ENV.get_template("export.html").render(d=data, pdf_note=pdf_note)


def preload_pdf() -> bool:
    """Loads WeasyPrint and Pango now (the web app calls it at start, before gunicorn
    forks): their first load probes for libraries through a temporary file (ctypes), and
    an export's request must touch no temporary file. False where Pango is missing."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def _pdf(html: str) -> bytes | None:
    """The document as PDF (WeasyPrint, in memory); None where the box lacks Pango."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError):
        return None

    def refuse(url: str) -> dict[str, Any]:  # the document is whole: fetch nothing
        raise ValueError(f"an export fetches nothing ({url[:20]})")

    return bytes(HTML(string=html, url_fetcher=refuse).write_pdf())


def _zip(members: Iterator[tuple[str, bytes]], password: str) -> bytes:
    buffer = io.BytesIO()
    with pyzipper.AESZipFile(buffer, "w", compression=pyzipper.ZIP_DEFLATED,
                             encryption=pyzipper.WZ_AES) as archive:
        archive.setpassword(password.encode())
        archive.setencryption(pyzipper.WZ_AES, nbits=256)
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


def build(rt: Runtime, principal: Principal, customer_id: int) -> Export:
    """The encrypted export of one customer and its one-time password; audited."""
    require(principal, "privacy.manage")
    data, files = gather(rt, customer_id)
    missing = missing_columns(data)
    if missing:  # a table the registry lists that the export left out: never hand it over
        raise ExportError(f"the export would miss {', '.join(missing)}: report this as a bug")
    html = _html(data, "")
    pdf = _pdf(html)
    if pdf is None:
        html = _html(data, "PDF tidak tersedia di server ini; dokumen HTML ini isinya sama.")
    password = one_time_password()

    def members() -> Iterator[tuple[str, bytes]]:
        yield "data.json", json.dumps(data, ensure_ascii=False, indent=1, default=str).encode()
        yield "data.html", html.encode()
        if pdf is not None:
            yield "data.pdf", pdf
        yield from sorted(files.items())

    archive = _zip(members(), password)
    rt.audit(actor=principal.actor, action="customer.exported",
             target=f"customer:{customer_id}",
             detail={"files": len(files), "bytes": len(archive)})
    return Export(customer_id, archive, password, pdf is not None)


def exports_dir(settings: Settings) -> Path:
    return settings.data_dir / "exports"


def keep(settings: Settings, export: Export) -> str:
    """Puts the encrypted file where its download finds it; returns its token."""
    folder = exports_dir(settings)
    folder.mkdir(mode=0o700, exist_ok=True)
    token = secrets.token_urlsafe(24)
    path = folder / f"{token}.{export.customer_id}.zip"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(export.data)
    return token


def kept(rt: Runtime, principal: Principal, token: str) -> tuple[int, bytes]:
    """(customer id, encrypted bytes) of a kept export; audited as downloaded."""
    require(principal, "privacy.manage")
    if not _TOKEN.fullmatch(token):
        raise Denied()
    found = list(exports_dir(rt.settings).glob(f"{token}.*.zip")) \
        if exports_dir(rt.settings).exists() else []
    if len(found) != 1:
        raise Denied()
    customer_id = int(found[0].name.split(".")[-2])
    rt.audit(actor=principal.actor, action="customer.export_downloaded",
             target=f"customer:{customer_id}")
    return customer_id, found[0].read_bytes()


def purge_exports(settings: Settings, now: datetime | None = None) -> int:
    """Deletes exports older than `privacy.export_keep_hours`; returns how many."""
    folder = exports_dir(settings)
    if not folder.exists():
        return 0
    limit = (now or utcnow()) - timedelta(hours=settings.privacy.export_keep_hours)
    gone = 0
    for path in folder.glob("*.zip"):
        if datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None) < limit:
            path.unlink(missing_ok=True)
            gone += 1
    return gone

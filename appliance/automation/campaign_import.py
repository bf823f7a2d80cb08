"""Provides the CSV import of a campaign's recipients: numbers with their opt-in on record.

Each row needs a phone number (checked with `phonenumbers`, Indonesian when written
without +62), where the person opted in (`opt_in_source`: website, store, event...) and
the reference that proves it (`opt_in_reference`: a form id, a receipt number); other
columns may fill template values. Every valid row records a marketing grant in the
consent ledger (source `import`, the proof `<source>/<reference>`), finds or creates the
customer, and adds them to the campaign with their values sealed under their key. A bad
row is reported by its number and column, never its content, and nothing of it is kept.
The file is read from memory (the web face never spools it to disk) and never written.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from appliance.auth.permissions import Principal
from appliance.automation import audience, campaigns, template_book
from appliance.clock import utcnow
from appliance.crypto.blind_index import InvalidPhoneNumber, normalise_phone
from appliance.inbox.customers import create_customer, find_by_phone
from appliance.privacy import consent
from appliance.runtime import Runtime
from appliance.store import broadcast as store
from appliance.store.db import db

MAX_BYTES = 16 * 2**20
MAX_ROWS = 200_000
REQUIRED = ("phone", "opt_in_source", "opt_in_reference")
MAX_WORD = 60  # a source or a reference; both together make the ledger's proof


@dataclass
class Imported:
    added: int = 0
    created: int = 0  # customers new to the box
    errors: list[str] = field(default_factory=list)  # "row 7: phone is not a valid number"


def import_csv(rt: Runtime, principal: Principal, campaign_id: int, data: bytes) -> Imported:
    row = campaigns.draft_of(principal, campaign_id)
    if len(data) > MAX_BYTES:
        raise campaigns.CampaignError(f"the file is over {MAX_BYTES // 2**20} MB: split it")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise campaigns.CampaignError("the file is not UTF-8 text: save it as CSV UTF-8") \
            from None
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    try:
        out, good, t, params = _read(rt, row, reader)
    except csv.Error as exc:  # a field over csv's 128 KB, a quote never closed...
        raise campaigns.CampaignError(f"line {reader.line_num} cannot be read as CSV ({exc}): "
                                      "nothing was imported") from None
    with db.atomic():
        ids: dict[int, dict[str, str]] = {}
        grants: list[consent.Entry] = []
        for e164, columns, proof in good:
            cid = find_by_phone(rt, e164)
            if cid is None:
                cid = create_customer(rt, name=None, phone=e164, actor=principal.actor)
                out.created += 1
            ids[cid] = columns
            grants.append(consent.Entry(cid, "marketing", True, "import", proof, utcnow(),
                                        principal.actor))
        consent.record_many(grants)
        prepared = audience.prepare(rt, campaign_id, sorted(ids), t, params,
                                    audience.Filter(), ids)
        out.added = prepared.queued
        store.Campaign.update(updated_at=utcnow()).where(
            store.Campaign.id == campaign_id).execute()
        rt.audit(actor=principal.actor, action="campaign.imported",
                 target=f"campaign:{campaign_id}",
                 detail={"rows": len(good) + len(out.errors), "added": out.added,
                         "refused": len(out.errors), "new_customers": out.created})
    return out


def _read(rt: Runtime, row: store.Campaign, reader: csv.DictReader[str]
          ) -> tuple[Imported, list[tuple[str, dict[str, str], str]],
                     template_book.TemplateInfo, list[audience.Parameter]]:
    """The rows to import, and the refused ones by number; raises csv.Error on a file
    that is not CSV past some line."""
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [h for h in REQUIRED if h not in headers]
    if missing:
        raise campaigns.CampaignError("the first line must name the columns; missing: "
                                      + ", ".join(missing))
    t = template_book.get(int(row.template_id))
    params = campaigns.parameters_of(row)
    wanted = [p.value.lower() for p in params if p.source == "column"]
    absent = [c for c in wanted if c not in headers]
    if absent:
        raise campaigns.CampaignError("the template's values need the column(s) "
                                      + ", ".join(absent))
    out = Imported()
    good: list[tuple[str, dict[str, str], str]] = []
    seen: set[str] = set()
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            out.errors.append(f"row {number}: over {MAX_ROWS:,} rows; the rest was not read")
            break
        fields = {str(k).strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        problem, e164 = _check_row(rt, fields, wanted)
        if problem:
            out.errors.append(f"row {number}: {problem}")
            continue
        if e164 in seen:
            out.errors.append(f"row {number}: the same number as an earlier row: skipped")
            continue
        seen.add(e164)
        proof = f"{fields['opt_in_source']}/{fields['opt_in_reference']}"[:160]
        good.append((e164, {c: fields.get(c, "") for c in wanted}, proof))
    return out, good, t, params


def _check_row(rt: Runtime, fields: dict[str, str], wanted: list[str]) -> tuple[str, str]:
    phone = fields.get("phone", "")
    if not phone:
        return "phone is empty", ""
    if any(ch.isalpha() for ch in phone):  # phonenumbers reads letters as a keypad's digits
        return "phone has letters in it (write it as +62 812 3456 7890)", ""
    try:
        e164 = normalise_phone(phone, rt.settings.region)
    except InvalidPhoneNumber:
        return "phone is not a valid number (write it as +62 812 3456 7890)", ""
    for column in ("opt_in_source", "opt_in_reference"):
        value = fields.get(column, "")
        if len(value) > MAX_WORD or not consent.REFERENCE.fullmatch(value):
            return (f"{column} must be a short word or id (letters, digits, . _ : / - ; "
                    "up to 60)"), ""
    for column in wanted:
        if not " ".join(fields.get(column, "").split()):
            return f"column {column} is empty: its template value would be blank", ""
    return "", e164

"""Provides the records of processing: what Gembok holds, why, where, for how long, who sees
it and who processes it besides the business, generated from the live settings so that
the page an auditor reads is what the box does today, not what a document once said.

The data categories come from the customer-data registry (a new sealed table shows up
here by itself); retention from the divisions; who can see from the roles, divisions and
grants; and Meta's part from the Graph API: every WhatsApp message passes through Meta
(a cross-border transfer, UU PDP Pasal 56), and the number's local storage setting says
whether Meta keeps message content at rest in one region after its data-in-use period.
"""

from __future__ import annotations

from typing import Any

from peewee import fn

from appliance.auth.permissions import ROLE_PERMISSIONS, Principal, require
from appliance.clock import utcnow
from appliance.errors import GembokError
from appliance.runtime import Runtime
from appliance.store import customer_data
from appliance.store.models import Division, User, UserDivision

# What each sealed table holds and why, in the words of a record of processing; a
# registry table missing here is listed with its name (tests keep this whole).
PURPOSES = {
    "customer": ("name, WhatsApp number and WhatsApp user id", "answering the customer "
                 "(contract, Pasal 20(2)(b))"),
    "message": ("every message written and received, with its WhatsApp payload",
                "customer service (contract, Pasal 20(2)(b))"),
    "note": ("staff's private notes on conversations", "customer service"),
    "media": ("photos, documents and voice notes the customer sent", "customer service"),
    "reveal": ("why a staff member revealed a masked number or message",
               "accountability (legal obligation, Pasal 20(2)(c))"),
    "customer_change": ("number changes and DPO corrections, with the values replaced",
                        "accuracy (Pasal 29-30)"),
    "campaign_recipient": ("per-recipient values of broadcast messages (name, order number)",
                           "marketing with consent (Pasal 20(2)(a))"),
    "legal_hold": ("why a customer's data is kept from erasure",
                   "legal obligation (Pasal 20(2)(c))"),
}
ROLE_WORDS = {
    "agent": "their divisions' unassigned conversations and their own; numbers masked",
    "supervisor": "all of their divisions' conversations; reveals with a reason",
    "admin": "runs the box; no conversations unless granted `content` (audited)",
    "dpo": "every customer's data, for data-subject requests, exports and breaches",
}


class RecordsError(GembokError):
    """The records cannot be produced."""


def _local_storage(rt: Runtime) -> dict[str, str]:
    from appliance.whatsapp.client import GraphError, TokenError
    from appliance.whatsapp.connection import NotConfigured, make_client

    try:
        with make_client(rt) as client:
            found = client.local_storage()
    except (NotConfigured, GraphError, TokenError, OSError) as exc:
        return {"status": "unknown", "why": str(exc)[:200]}
    if found.get("status") == "IN_COUNTRY_STORAGE_ENABLED":
        region = found.get("data_localization_region", "?")
        return {"status": found["status"], "region": region,
                "meaning": f"Meta keeps message content at rest only in {region}, after up "
                           "to 60 minutes in use (90 for marketing messages) anywhere"}
    return {"status": found.get("status", "DEFAULT"),
            "meaning": "Meta may keep message content at rest in its data centres in any "
                       "country"}


def records(rt: Runtime, principal: Principal) -> dict[str, Any]:
    require(principal, "privacy.manage")
    settings = rt.settings
    per_division: Any = (UserDivision.select(UserDivision.division, fn.COUNT(UserDivision.user))
                         .group_by(UserDivision.division).tuples())
    members = dict(per_division)
    per_role: Any = (User.select(User.role, fn.COUNT(User.id)).where(User.is_active)
                     .group_by(User.role).tuples())
    roles = dict(per_role)
    content = User.select().where(User.role == "admin", User.is_active,
                                  User.extra_permissions.contains("content")).count()
    categories = [{"table": e.table, "columns": [c.removesuffix("_sealed") for c in e.columns],
                   "what": PURPOSES.get(e.table, (e.table, ""))[0],
                   "purpose": PURPOSES.get(e.table, ("", "not described yet"))[1],
                   "protection": "sealed under the customer's own key (erasure destroys it)"}
                  for e in customer_data.CUSTOMER_SEALED]
    categories.append({"table": "consent_event", "columns": ["purpose", "event", "proof"],
                       "what": "the customer's grants and withdrawals of consent",
                       "purpose": "proving consent (Pasal 20-24)",
                       "protection": "whole-database encryption; deleted at erasure"})
    categories.append({"table": "audit_entry", "columns": ["actor", "action", "target"],
                       "what": "who did what to which record, by ids only",
                       "purpose": "accountability and the processing trail (Pasal 31-32)",
                       "protection": "hash chain signed with the audit key"})
    return {
        "made_at": utcnow().isoformat(timespec="seconds") + "Z",
        "controller": "the business that runs this Gembok box",
        "where": {"box": str(settings.data_dir),
                  "database": "SQLCipher (AES-256) file, each customer's fields sealed under "
                              "their own key, wrapped by the master key",
                  "backups": f"{settings.data_dir / 'backups'} ({settings.backup.keep} "
                             "nightly kept); erasure reaches them"},
        "categories": categories,
        "retention": [{"division": d.name, "days": d.retention_days,
                       "rule": (f"resolved conversations deleted {d.retention_days} days "
                                "after resolution") if d.retention_days else
                       "kept until erased (no retention set)"}
                      for d in Division.select().order_by(Division.name)]
        + [{"division": "(raw webhooks)", "days": settings.inbox.failed_days,
            "rule": "applied ones keep no body; failed ones purged after this many days"},
           {"division": "(exports)", "days": 0,
            "rule": f"deleted {settings.privacy.export_keep_hours} hours after they are made"}],
        "sector_minimum_days": settings.privacy.sector_minimum_days,
        "who_can_see": [{"role": r, "active_accounts": roles.get(r, 0), "sees": ROLE_WORDS[r],
                         "permissions": sorted(ROLE_PERMISSIONS[r])} for r in ROLE_WORDS]
        + [{"role": "admin with content", "active_accounts": content,
            "sees": "every division's conversations, read only", "permissions": ["content"]}],
        "divisions": [{"division": d.name, "staff": members.get(d.id, 0)}
                      for d in Division.select().order_by(Division.name)],
        "processors": [
            {"who": "Meta Platforms (WhatsApp Business Cloud API)",
             "role": "processor: carries every message between the customer and the box",
             "transfer": "cross-border (UU PDP Pasal 56): messages pass through Meta's data "
                         "centres outside Indonesia",
             "local_storage": _local_storage(rt)},
        ] + ([{"who": f"SMTP server {settings.smtp.host}",
               "role": "carries staff e-mails (alerts, reminders): ids only, no customer data",
               "transfer": "as configured by the business"}] if settings.smtp.host else []),
    }

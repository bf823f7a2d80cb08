"""The office every test meets, on the web, in the TUI and on WhatsApp: one cast of people.

Toko Makmur sells, bills and supports; Ayu and Eko run the box, Budi supervises Sales,
Dedi and Sari answer Sales customers, Citra answers Billing's.
"""

from __future__ import annotations

from typing import Any

from appliance.auth.users import create_user

DIVISIONS = ("Sales", "Billing", "Support")
CAST: dict[str, tuple[str, tuple[str, ...]]] = {  # user name: role, divisions
    "ayu": ("admin", ()),
    "eko": ("admin", ()),
    "budi": ("supervisor", ("Sales",)),
    "dedi": ("agent", ("Sales",)),
    "sari": ("agent", ("Sales",)),
    "citra": ("agent", ("Billing",)),
}


def hire(rt: Any, name: str, division_ids: dict[str, int], **how: Any) -> Any:
    """One of the cast, made as the product makes staff; `how` passes actor, principal..."""
    role, divisions = CAST[name]
    user, _ = create_user(rt, username=name, display_name=name.title(), role=role,
                          email=f"{name}@toko.example",
                          divisions=[division_ids[d] for d in divisions],
                          **{"actor": "system", **how})
    return user

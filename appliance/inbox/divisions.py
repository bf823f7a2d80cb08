"""Provides divisions (Sales, Billing, Support...): the walls between agents' inboxes."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.auth.permissions import Principal, require
from appliance.errors import GembokError
from appliance.runtime import Runtime
from appliance.store.db import db
from appliance.store.models import Division


class DivisionError(GembokError):
    """A division request that cannot be done as asked."""


@dataclass(frozen=True)
class DivisionView:
    id: int
    name: str
    retention_days: int | None


def list_divisions(principal: Principal) -> list[DivisionView]:
    """Admins see every division; others see their own."""
    query = Division.select().order_by(Division.name)
    if not principal.can("division.manage") and not principal.every_division:
        query = query.where(Division.id.in_(sorted(principal.divisions)))
    return [DivisionView(d.id, d.name, d.retention_days) for d in query]


@dataclass(frozen=True)
class DivisionName:
    id: int
    name: str
    mine: bool


def names(principal: Principal) -> list[DivisionName]:
    """Every division's name, for transfers and filters: names only, no one's conversations."""
    require(principal, "conversation.read")
    return [DivisionName(d.id, d.name, d.id in principal.divisions)
            for d in Division.select().order_by(Division.name)]


def create_division(rt: Runtime, principal: Principal, name: str,
                    retention_days: int | None = None) -> int:
    require(principal, "division.manage")
    name = _clean(name)
    _check_retention(retention_days)
    with db.atomic():
        if Division.select().where(Division.name == name).exists():
            raise DivisionError(f"a division named {name} exists already")
        row = Division.create(name=name, retention_days=retention_days)
        rt.audit(actor=principal.actor, action="division.created", target=f"division:{row.id}")
    return int(row.id)


def update_division(rt: Runtime, principal: Principal, division_id: int, *,
                    name: str | None = None, retention_days: int | None = None) -> None:
    """`None` leaves a field as it is; a retention of 0 days lifts the limit."""
    require(principal, "division.manage")
    row = Division.get_or_none(Division.id == division_id)
    if row is None:
        raise DivisionError(f"there is no division {division_id}")
    if retention_days != 0:
        _check_retention(retention_days)
    with db.atomic():
        if name is not None:
            name = _clean(name)
            if Division.select().where(Division.name == name, Division.id != row.id).exists():
                raise DivisionError(f"a division named {name} exists already")
            row.name = name
        if retention_days is not None:
            row.retention_days = retention_days or None
        row.save()
        rt.audit(actor=principal.actor, action="division.changed", target=f"division:{row.id}")


def _clean(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= 80:
        raise DivisionError("a division name is 1 to 80 characters")
    return name


def _check_retention(days: int | None) -> None:
    if days is not None and not 1 <= days <= 3650:
        raise DivisionError("retention is 1 to 3,650 days, or none")

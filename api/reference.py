"""`/api/v1/wards`, `/offices`, …: the city's reference data."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import ActorDep, ContainerDep
from api.schemas import problem_responses

router = APIRouter(tags=["reference data"], responses=problem_responses(401, 422))
Limit = Annotated[int, Query(ge=1, le=200)]
_OFFSET = re.compile(r"[0-9]{1,9}")


def _page(items: list[dict[str, Any]], limit: int, cursor: str | None) -> dict[str, Any]:
    # ASCII digits only: "¹" is a digit to str.isdigit() but not to int()
    start = int(cursor) if cursor and _OFFSET.fullmatch(cursor) else 0
    page = items[start:start + limit]
    more = start + limit < len(items)
    return {"items": page, "next_cursor": str(start + limit) if more else None}


def _rows(objects: tuple[Any, ...]) -> list[dict[str, Any]]:
    rows = []
    for obj in objects:
        row = asdict(obj)
        if "targets" in row:
            row["targets"] = obj.targets.as_dict()
        rows.append(row)
    return rows


@router.get("/wards")
def wards(c: ContainerDep, _: ActorDep, limit: Limit = 50,
          cursor: str | None = None) -> dict[str, Any]:
    """The city's wards, with their development visions."""
    return _page(_rows(c.city.wards), limit, cursor)


@router.get("/offices")
def offices(c: ContainerDep, _: ActorDep, ward: str | None = None, kind: str | None = None,
            limit: Limit = 50, cursor: str | None = None) -> dict[str, Any]:
    """Ward offices, branch offices, exchange rooms and community centres."""
    rows = [r for r in _rows(c.city.offices)
            if (ward is None or r["ward"] == ward) and (kind is None or r["kind"] == kind)]
    return _page(rows, limit, cursor)


@router.get("/school-districts")
def school_districts(c: ContainerDep, _: ActorDep, ward: str | None = None, limit: Limit = 50,
                     cursor: str | None = None) -> dict[str, Any]:
    """School districts (校区), each in one ward."""
    rows = [r for r in _rows(c.city.school_districts) if ward is None or r["ward"] == ward]
    return _page(rows, limit, cursor)


@router.get("/departments")
def departments(c: ContainerDep, _: ActorDep, bureau: str | None = None, limit: Limit = 50,
                cursor: str | None = None) -> dict[str, Any]:
    """Head-office divisions with their bureau and clock targets in business days."""
    rows = [r for r in _rows(c.city.departments) if bureau is None or r["bureau"] == bureau]
    return _page(rows, limit, cursor)


@router.get("/policy-areas")
def policy_areas(c: ContainerDep, _: ActorDep, limit: Limit = 50,
                 cursor: str | None = None) -> dict[str, Any]:
    """Policy areas needs and proposals are filed under."""
    return _page(_rows(c.city.policy_areas), limit, cursor)


@router.get("/plan-goals")
def plan_goals(c: ContainerDep, _: ActorDep, limit: Limit = 50,
               cursor: str | None = None) -> dict[str, Any]:
    """Chapters and measures of the comprehensive plan."""
    return _page(_rows(c.city.plan_goals), limit, cursor)


@router.get("/indicators")
def indicators(c: ContainerDep, _: ActorDep, plan_goal: str | None = None, limit: Limit = 50,
               cursor: str | None = None) -> dict[str, Any]:
    """Declared indicators: unit, better direction, plan goals measured and scope."""
    rows = [r for r in _rows(c.city.indicators)
            if plan_goal is None or plan_goal in r["plan_goals"]]
    for row in rows:
        row["plan_goals"] = list(row["plan_goals"])
    return _page(rows, limit, cursor)

"""HTTP fixtures: a real uvicorn server per test on a fresh store, and tokens per role.

Every test using `api` runs twice: on SQLite files and on a real PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from infra.settings import Settings
from tests.e2e.serving import serving
from wiring.bootstrap import Container, build

#: who the tests act as: name → (role, ward, office, department)
PEOPLE: dict[str, tuple[str, str | None, str | None, str | None]] = {
    "room": ("exchange_room_staff", None, "higashi-exchange-room-1", None),
    "other_room": ("exchange_room_staff", None, "higashi-exchange-room-2", None),
    "staff": ("ward_staff", "higashi", None, None),
    "mayor": ("ward_mayor", "higashi", None, None),
    "chuo_staff": ("ward_staff", "chuo", None, None),
    "chuo_mayor": ("ward_mayor", "chuo", None, None),
    "transport": ("department_reviewer", None, None, "transport-planning"),
    "transport2": ("department_reviewer", None, None, "transport-planning"),
    "roads": ("department_reviewer", None, None, "road-maintenance"),
    "parks": ("department_reviewer", None, None, "parks"),
    "monitor": ("monitor", None, None, None),
    "admin": ("admin", None, None, None),
}


@dataclass
class Api:
    """A running server, its container, and an HTTP client per person."""

    container: Container
    base_url: str
    tokens: dict[str, str]

    def as_(self, person: str) -> httpx.Client:
        """A client that signs in as `person` (see PEOPLE)."""
        return httpx.Client(base_url=self.base_url, timeout=30,
                            headers={"Authorization": f"Bearer {self.tokens[person]}"})

    def anonymous(self) -> httpx.Client:
        """A client without a token."""
        return httpx.Client(base_url=self.base_url, timeout=30)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a fresh store of each kind."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        return Settings(data_dir=tmp_path, database_url=url, poll_interval=0.05)
    return Settings(data_dir=tmp_path, poll_interval=0.05)


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    """Tsunagi served over real HTTP on a free loopback port."""
    container = build(settings)
    tokens = {}
    for name, (role, ward, office, department) in PEOPLE.items():
        _, tokens[name] = container.users.add(name, role, ward, office, department,
                                              user_id=f"user-{name}")
    try:
        with serving(create_app(container)) as base_url:
            yield Api(container, base_url, tokens)
    finally:
        container.close()


NEED: dict[str, Any] = {
    "ward": "higashi",
    "office": "higashi-exchange-room-1",
    "school_district": "higashi-sakuragi",
    "source": "council_meeting",
    "policy_area": "transport",
    "title": "バス停にベンチがほしい",
    "description": "桜木校区の自治協議会で、高齢者がバスを待つ間に座れる場所がないとの声。",
    "observed_on": "2026-11-20",
    "residents_affected": 120,
    "urgency": "normal",
}


def new_need(api: Api, person: str = "staff", **changes: Any) -> dict[str, Any]:
    """Record a need (201) and return its body."""
    with api.as_(person) as client:
        response = client.post("/api/v1/needs", json={**NEED, **changes})
    assert response.status_code == 201, response.text
    return dict(response.json())


def triaged_need(api: Api, **changes: Any) -> dict[str, Any]:
    """A need recorded and triaged by the ward."""
    need = new_need(api, **changes)
    with api.as_("staff") as client:
        response = client.post(f"/api/v1/needs/{need['id']}/triage", json={})
    assert response.status_code == 200, response.text
    return dict(response.json())


def new_proposal(api: Api, needs: list[str] | None = None, **changes: Any) -> dict[str, Any]:
    """A draft proposal of higashi led by transport-planning, co road-maintenance."""
    if needs is None:
        needs = [triaged_need(api)["id"]]
    body = {"ward": "higashi", "title": "東区のバス停待合環境の改善",
            "summary": "ベンチと屋根の設置", "needs": needs,
            "lead_department": "transport-planning", "co_departments": ["road-maintenance"],
            "policy_area": "transport", "estimated_cost_jpy": 4_800_000,
            "plan_goals": ["6-2-1"], **changes}
    with api.as_("staff") as client:
        response = client.post("/api/v1/proposals", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def act(api: Api, person: str, kind: str, record_id: str, action: str,
        body: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
    """POST one action as `person`."""
    with api.as_(person) as client:
        return client.post(f"/api/v1/{kind}/{record_id}/{action}", json=body or {}, **kwargs)


def submitted_proposal(api: Api, **changes: Any) -> dict[str, Any]:
    """A proposal drafted by the ward and submitted by its mayor."""
    proposal = new_proposal(api, **changes)
    response = act(api, "mayor", "proposals", proposal["id"], "submit")
    assert response.status_code == 200, response.text
    return dict(response.json())

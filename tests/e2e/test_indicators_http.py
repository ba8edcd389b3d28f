"""Indicators and their observations over HTTP: the reference list, recording with an
Idempotency-Key, refusals that change nothing, history and time travel by `effective_at`.

Hand-worked history of 桜木校区's council meetings attended (FY2025):
  8  effective 2026-04-10 (first count)   11 effective 2026-05-20 (a correction)
  FY2024: 6 effective 2025-04-15
As of 2026-05-01 the FY2025 value was 8; now it is 11; FY2024 stays 6.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Api
from tests.e2e.test_conventions import assert_problem

BASE = "/api/v1/indicators"
MEETINGS = f"{BASE}/council-meetings-attended/observations"


def body(**changes: Any) -> dict[str, Any]:
    return {"fiscal_year": 2025, "school_district": "higashi-sakuragi", "value": 8,
            "source": "桜木校区自治協議会の議事録", "effective_at": "2026-04-10T10:00:00+09:00",
            **changes}


def record(api: Api, key: str, **changes: Any) -> dict[str, Any]:
    with api.as_("monitor") as client:
        response = client.post(MEETINGS, json=body(**changes), headers={"Idempotency-Key": key})
    assert response.status_code == 201, response.text
    out = dict(response.json())
    assert response.headers["Location"] == f"{MEETINGS}/{out['id']}"
    return out


def test_the_indicator_list_gives_unit_direction_goals_and_scope(api: Api) -> None:
    with api.as_("staff") as client:
        items = client.get(BASE, params={"plan_goal": "6-5-2"}).json()["items"]
    assert items == [{"id": "road-repair-backlog", "name_ja": "未対応の道路補修要望の件数",
                      "name_en": "Road-repair requests not yet handled", "unit": "count",
                      "direction": "lower", "plan_goals": ["6-5-2"], "scope": "ward"}]


def test_observations_read_as_history_and_as_known_at_an_instant(api: Api) -> None:
    first = record(api, "m-1")
    assert (first["ward"], first["value"]) == ("higashi", 8.0)
    record(api, "m-2", value=11, effective_at="2026-05-20T10:00:00+09:00")
    record(api, "m-3", fiscal_year=2024, value=6, effective_at="2025-04-15T10:00:00+09:00")
    position = api.container.app.position()
    with api.as_("staff") as client:
        now = client.get(MEETINGS, params={"min_position": position}).json()
        then = client.get(MEETINGS, params={"as_of": "2026-05-01T00:00:00+09:00",
                                            "min_position": position}).json()
        only = client.get(MEETINGS, params={"fiscal_year": 2025,
                                            "min_position": position}).json()
    assert [o["value"] for o in now["items"]] == [6.0, 8.0, 11.0]  # oldest first
    assert [(o["fiscal_year"], o["value"]) for o in now["latest"]] == [(2024, 6.0), (2025, 11.0)]
    assert [(o["fiscal_year"], o["value"]) for o in then["latest"]] == [(2024, 6.0), (2025, 8.0)]
    assert then["as_of"].startswith("2026-05-01T00:00:00")
    assert [o["value"] for o in only["items"]] == [8.0, 11.0]


def test_a_retry_with_the_same_key_meets_the_first_observation(api: Api) -> None:
    first = record(api, "same")
    again = record(api, "same")
    assert again["id"] == first["id"]
    with api.as_("monitor") as client:
        one = client.get(f"{MEETINGS}/{first['id']}")
    assert one.status_code == 200 and one.json()["source"] == "桜木校区自治協議会の議事録"


def test_refusals_are_problems_in_japanese_and_change_nothing(api: Api) -> None:
    before = api.container.app.position()
    with api.as_("monitor") as client:
        wrong_unit = client.post(MEETINGS, json=body(value=2.5))
        unknown = client.post(f"{BASE}/happiness/observations", json=body())
        no_district = client.post(MEETINGS, json=body(school_district=None, ward="higashi"))
        no_source = client.post(MEETINGS, json=body(source=" "))
    with api.as_("staff") as client:
        not_monitor = client.post(MEETINGS, json=body())
    problem = assert_problem(wrong_unit, 422, "indicator-unit-mismatch")
    assert problem["detail"].startswith("「値」は指標の単位（件数）に合いません")
    assert_problem(unknown, 404)
    assert "指標「happiness」は見つかりません" in unknown.json()["detail"]
    assert_problem(no_district, 422, "invalid-command")
    assert_problem(no_source, 422)
    assert "モニタリング担当" in assert_problem(not_monitor, 403)["detail"]
    assert api.container.app.position() == before

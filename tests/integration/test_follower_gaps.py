"""On PostgreSQL, notification ids have gaps (a rolled-back insert burns its id).

A subscribed follower must not take such a gap for a view left behind: every
view keeps up across it.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infra.settings import Settings
from wiring.bootstrap import build

NEED = {"ward": "higashi", "office": "higashi-exchange-room-1", "source": "counter",
        "policy_area": "transport", "title": "街灯が暗い", "description": "通学路",
        "observed_on": "2026-11-20"}


@pytest.mark.postgres
def test_a_subscribed_follower_keeps_every_view_up_across_a_gap_in_the_ids(
        postgres_url: str, tmp_path: Path) -> None:
    c = build(Settings(data_dir=tmp_path, database_url=postgres_url, poll_interval=0.05))
    assert c.follower.subscribe
    table = c.app.recorder.events_table_name  # type: ignore[attr-defined]
    token = c.users.add("staff", "ward_staff", "higashi", None, None)[1]
    try:
        with TestClient(create_app(c), headers={"Authorization": f"Bearer {token}"}) as client:
            first = client.post("/api/v1/needs", json=NEED).json()["position"]
            assert client.get("/api/v1/needs", params={"min_position": first}).status_code == 200
            with psycopg.connect(postgres_url, autocommit=True) as conn:  # burn two ids
                for _ in range(2):
                    conn.execute("SELECT nextval(pg_get_serial_sequence(%s, 'notification_id'))",
                                 (table,))
            second = client.post("/api/v1/needs", json={**NEED, "title": "二件目"}).json()
            assert second["position"] == first + 3
            assert all(c.follower.wait_for(second["position"], 30, view=v.name)
                       for v in c.views), "a view was left behind at the gap"
    finally:
        c.close()

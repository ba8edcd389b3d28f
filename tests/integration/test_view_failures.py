"""One view's failure is contained (issue 7 §3), on SQLite and on PostgreSQL.

A test-only fault in one view's handler (never an API request) stops that view at
the failing event; the other views go on, `/healthz`, `tsunagi projections status`
and Prometheus show it, reads of it answer 503 naming it at once, and a restart
without the fault resumes it to equal a rebuild.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest

from api.app import create_app
from consumers.metrics import FailureLog, add_feed_metrics
from domain.need import Need
from infra.settings import Settings
from projections.base import ViewStopped
from projections.tracking import ViewFailure
from tests.view_helpers import dump_rows, with_fault
from wiring import cli
from wiring.bootstrap import Container, build

NEED = {"ward": "higashi", "office": "higashi-exchange-room-1",
        "school_district": "higashi-sakuragi", "source": "council_meeting",
        "policy_area": "transport", "title": "バス停にベンチがほしい",
        "description": "桜木校区の自治協議会で要望", "observed_on": "2026-11-20"}
FAILING = "ward_feedback"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A fresh store of each kind; a read would wait long, so a 503 'at once' shows."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else ""
    return Settings(data_dir=tmp_path / "data", database_url=url, poll_interval=0.05,
                    min_position_wait=120)


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The same settings in the environment, for the command line."""
    monkeypatch.setenv("TSUNAGI_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", settings.database_url)
    return settings


def _faulty_container(settings: Settings) -> Container:
    """A container whose ward_feedback view fails on every NeedTriaged event."""
    c = build(settings)
    index = [v.name for v in c.views].index(FAILING)
    c.follower.views[index] = with_fault(c.views[index],
                                         lambda e: isinstance(e, Need.Triaged))
    return c


def _token(c: Container) -> str:
    return c.users.add("staff", "ward_staff", "higashi", None, None, user_id="user-staff")[1]


@pytest.fixture
def stopped(env: Settings) -> Iterator[tuple[Container, TestClient, int]]:
    """A served app whose ward_feedback stopped on a triage; yields the triage's position."""
    c = _faulty_container(env)
    auth = {"Authorization": f"Bearer {_token(c)}"}
    with TestClient(create_app(c), headers=auth) as client:
        need = client.post("/api/v1/needs", json=NEED)
        assert need.status_code == 201, need.text
        triaged = client.post(f"/api/v1/needs/{need.json()['id']}/triage", json={})
        assert triaged.status_code == 200, triaged.text
        yield c, client, int(triaged.json()["position"])
    c.close()


def test_a_failing_view_stops_alone_and_its_reads_answer_503_naming_it(
        stopped: tuple[Container, TestClient, int]) -> None:
    c, client, position = stopped
    read = client.get("/api/v1/views/ward-feedback/higashi",
                      params={"min_position": position})
    assert read.status_code == 503
    assert read.headers["content-type"].startswith("application/problem+json")
    assert FAILING in read.json()["detail"]
    assert f"stopped at position {position}" in read.json()["detail_en"]  # Japanese first
    assert client.get("/api/v1/views/office-feedback/higashi-exchange-room-1")\
        .status_code == 503, "a stopped view is not served stale"

    # The other views went on past the failing event.
    needs = client.get("/api/v1/needs", params={"min_position": position})
    assert needs.status_code == 200
    assert [n["status"] for n in needs.json()["items"]] == ["triaged"]
    others = [v for v in c.views if v.name != FAILING]
    assert all(c.follower.view_position(v.name) == position for v in others)
    assert c.follower.view_position(FAILING) == position - 1


def test_healthz_and_prometheus_show_the_stopped_view(
        stopped: tuple[Container, TestClient, int]) -> None:
    c, client, position = stopped
    client.get("/api/v1/needs", params={"min_position": position})
    health = client.get("/healthz").json()
    assert health["status"] == "degraded"
    by_view = {v["view"]: v for v in health["views"]}
    assert set(by_view) == {v.name for v in c.views}
    assert by_view[FAILING]["state"] == "stopped"
    assert by_view[FAILING]["position"] == position - 1
    assert by_view[FAILING]["failure"]["position"] == position
    assert by_view[FAILING]["failure"]["event_type"] == "NeedTriaged"
    assert "HandlerFault" in by_view[FAILING]["failure"]["error"]
    assert all(v["state"] == "running" for name, v in by_view.items() if name != FAILING)

    registry = CollectorRegistry()
    add_feed_metrics(registry, c.view_feed)
    text = generate_latest(registry).decode()
    assert f'tsunagi_view_stopped{{view="{FAILING}"}} 1.0' in text
    assert 'tsunagi_view_stopped{view="needs_index"} 0.0' in text
    assert f'tsunagi_view_failures_total{{view="{FAILING}"}}' in text


def test_projections_status_shows_the_failure_recorded_by_the_server(
        stopped: tuple[Container, TestClient, int], capsys: pytest.CaptureFixture[str]) -> None:
    _, client, position = stopped
    client.get("/api/v1/needs", params={"min_position": position})
    assert cli.main(["projections", "status"]) == 1  # another process reads the record
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith(FAILING))
    assert "stopped" in line.split()
    assert f"stopped at position {position} (NeedTriaged)" in out


def test_after_the_fix_a_restart_resumes_the_view_and_equals_a_rebuild(
        env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    c = _faulty_container(env)
    auth = {"Authorization": f"Bearer {_token(c)}"}
    with TestClient(create_app(c), headers=auth) as client:
        ids = [client.post("/api/v1/needs", json={**NEED, "title": f"件 {i}"}).json()["id"]
               for i in range(3)]
        for need_id in ids:
            last = client.post(f"/api/v1/needs/{need_id}/triage", json={}).json()["position"]
        client.get("/api/v1/needs", params={"min_position": last})
        assert c.follower.view_position(FAILING) < last
    c.close()

    restarted = build(env)  # the code is fixed: no fault any more
    with TestClient(create_app(restarted), headers=auth) as client:
        read = client.get("/api/v1/views/ward-feedback/higashi", params={"min_position": last})
        assert read.status_code == 200, read.text
        assert sorted(i["status"] for i in read.json()["items"]) == ["triaged"] * 3
        assert client.get("/healthz").json()["status"] == "ok"
        live = dump_rows(restarted.views)
    restarted.close()

    # One view rebuilt alone: the others keep their rows and positions.
    assert cli.main(["projections", "rebuild", FAILING]) == 0
    assert f"rebuilt {FAILING} up to position {last}" in capsys.readouterr().out
    again = build(env)
    try:
        assert dump_rows(again.views) == live
        assert all(v.position() == last for v in again.views)
    finally:
        again.close()


def test_a_repeating_failure_is_logged_once_then_rate_limited(
        caplog: pytest.LogCaptureFixture) -> None:
    from datetime import UTC, datetime

    log = FailureLog(logging.getLogger("tsunagi.test"), every=3600)

    def stop(position: int) -> ViewStopped:
        return ViewStopped(ViewFailure(FAILING, position, "NeedTriaged", "HandlerFault: x",
                                       datetime.now(UTC)), position - 1)

    with caplog.at_level(logging.ERROR, logger="tsunagi.test"):
        for _ in range(5):
            log.failed(stop(7))
        log.failed(stop(9))  # a failure on another event is news
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        f"view {FAILING} stopped at position 7", f"view {FAILING} stopped at position 9"]

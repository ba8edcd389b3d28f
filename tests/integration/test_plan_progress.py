"""The plan progress report and needs per school district on real stores, worked by hand.

Fiscal year 2025 (1 Apr 2025 – 31 Mar 2026), 東区, lead division transport-planning:

  N1 observed 2025-05-10, goals 6-5-1 and 6-5-2, 桜木校区   → P1
  N2 observed 2025-06-01, goal 6-5-2, 桜木校区              → P2
  N3 observed 2025-07-01, goal 6-7-2, 健軍校区              → P3 (a draft: never counted)
  N4 observed 2025-03-15 (FY2024), goal 6-5-1, no district
  P1 goals 6-5-1 + 6-5-2: submitted 06-10, accepted 07-01, budgeted ¥3,000,000 08-01,
     completed 10-01, feedback 10-05, evaluated 4 on 10-10
  P2 goal 6-5-2: submitted 07-10, rejected 08-01, no feedback

  measure 6-5-1: needs 1, proposals 1, accepted 1, budgeted 1 (¥3,000,000), completed 1,
                 final 1, closure 1.0, satisfaction 4.0
  measure 6-5-2: needs 2, proposals 2, accepted 1, budgeted 1 (¥3,000,000), completed 1,
                 final 2, closure 0.5, satisfaction 4.0
  chapter 6-5:   the union, each item once — the same as 6-5-2 (not 3 needs, not ¥6,000,000)
  as of 2025-09-01: 6-5-2 has completed 0, final 1 (P2), closure 0.0, no satisfaction

  road-repair-backlog (6-5-2, per ward, lower is better): FY2024 東区 40, 中央区 20 → 30;
  FY2025 東区 30, 中央区 18 → 24, change −6, better; 東区 corrected to 34 on 2026-03-10
  → now 26 (change −4); as of 2026-03-01 still 24.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from api import queries
from domain.calendar import JST
from domain.observation import RecordObservation
from domain.permissions import Actor, Role
from domain.plan_progress import GoalProgress
from infra.settings import Settings
from wiring.bootstrap import Container, build
from wiring.cli import main

NOW = datetime(2026, 3, 20, 3, 0, tzinfo=UTC)
STAFF = Actor("u-staff", "東区職員", Role.WARD_STAFF, ward="higashi")
MAYOR = Actor("u-mayor", "東区長", Role.WARD_MAYOR, ward="higashi")
LEAD = Actor("u-lead", "交通企画課", Role.DEPARTMENT_REVIEWER, department="transport-planning")
MONITOR = Actor("u-mon", "政策企画", Role.MONITOR)


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=JST)


def need(c: Container, observed: str, goals: list[str], district: str | None) -> UUID:
    fields = {"ward": "higashi", "office": "higashi-exchange-room-1", "source": "council_meeting",
              "policy_area": "transport", "title": "バス停にベンチがほしい",
              "description": "自治協議会で要望", "observed_on": date.fromisoformat(observed),
              "plan_goals": goals, "school_district": district}
    recorded = c.app.record_need(STAFF, fields, effective_at=at(observed)).aggregate
    c.app.act_on_need(STAFF, recorded.id, "triage", policy_area=None, urgency="normal",
                      note=None, effective_at=at(observed))
    return recorded.id


def proposal(c: Container, need_id: UUID, goals: list[str], steps: list[tuple[str, str,
                                                                         dict[str, Any]]]) -> None:
    fields = {"ward": "higashi", "title": "バス停の待合環境", "summary": "ベンチ",
              "lead_department": "transport-planning", "policy_area": "transport",
              "needs": [need_id], "plan_goals": goals}
    first = steps[0][1] if steps else "2025-07-02"
    pid = c.app.create_proposal(STAFF, fields, effective_at=at(first)).aggregate.id
    who = {"submit": MAYOR, "feedback": STAFF, "evaluate": STAFF}
    for action, day, body in steps:
        c.app.act_on_proposal(who.get(action, LEAD), pid, action, effective_at=at(day), **body)


def observe(c: Container, fy: int, ward: str, value: int, day: str) -> None:
    c.app.record_observation(MONITOR, RecordObservation(
        indicator="road-repair-backlog", fiscal_year=fy, ward=ward, value=value,
        source="道路補修要望の台帳", effective_at=at(day)))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def container(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Container]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else ""
    c = build(Settings(data_dir=tmp_path, database_url=url), clock=lambda: NOW)
    try:
        n1 = need(c, "2025-05-10", ["6-5-1", "6-5-2"], "higashi-sakuragi")
        n2 = need(c, "2025-06-01", ["6-5-2"], "higashi-sakuragi")
        n3 = need(c, "2025-07-01", ["6-7-2"], "higashi-kengun")
        need(c, "2025-03-15", ["6-5-1"], None)
        proposal(c, n1, ["6-5-1", "6-5-2"], [
            ("submit", "2025-06-10", {}),
            ("decide", "2025-07-01", {"decision": "accepted", "reason": "効果あり",
                                      "deferred_to_fiscal_year": None}),
            ("request-budget", "2025-07-15", {"fiscal_year": 2025, "amount_jpy": 3_000_000}),
            ("record-budget", "2025-08-01", {"outcome": "budgeted", "fiscal_year": 2025,
                                             "amount_jpy": 3_000_000}),
            ("start-implementation", "2025-08-05", {"note": None}),
            ("complete", "2025-10-01", {"summary": "設置した"}),
            ("feedback", "2025-10-05", {"message": "設置しました", "channel": "council_meeting",
                                        "delivered_on": date(2025, 10, 5)}),
            ("evaluate", "2025-10-10", {"satisfaction": 4, "indicators": None, "note": None}),
        ])
        proposal(c, n2, ["6-5-2"], [
            ("submit", "2025-07-10", {}),
            ("decide", "2025-08-01", {"decision": "rejected", "reason": "財源がない",
                                      "deferred_to_fiscal_year": None}),
        ])
        proposal(c, n3, ["6-7-2"], [])
        observe(c, 2024, "higashi", 40, "2025-04-15")
        observe(c, 2024, "chuo", 20, "2025-04-15")
        observe(c, 2025, "higashi", 30, "2026-02-10")
        observe(c, 2025, "chuo", 18, "2026-02-10")
        observe(c, 2025, "higashi", 34, "2026-03-10")
        c.follower.catch_up()
        yield c
    finally:
        c.close()


def figures(row: GoalProgress) -> tuple[Any, ...]:
    return (row.needs_heard, row.proposals_made, row.accepted, row.budgeted, row.budgeted_jpy,
            row.completed, row.final, row.feedback_closure_rate, row.mean_satisfaction)


def rows_of(c: Container, as_of: datetime) -> dict[str, GoalProgress]:
    return {r.goal: r for r in queries.plan_progress_report(c, 2025, as_of).rows}


def test_a_need_under_two_goals_counts_under_both_and_a_chapter_counts_it_once(
    container: Container
) -> None:
    rows = rows_of(container, NOW)
    assert figures(rows["6-5-1"]) == (1, 1, 1, 1, 3_000_000, 1, 1, 1.0, 4.0)
    assert figures(rows["6-5-2"]) == (2, 2, 1, 1, 3_000_000, 1, 2, 0.5, 4.0)
    assert figures(rows["6-5"]) == figures(rows["6-5-2"])  # the union, each item once
    assert figures(rows["6-7-2"])[:2] == (1, 0)  # a draft proposal is not "made"
    assert figures(rows["6-7"])[:2] == (1, 0)
    assert figures(rows["6-1"])[:2] == (0, 0)


def test_the_report_as_of_an_earlier_instant_leaves_later_acts_out(
    container: Container
) -> None:
    rows = rows_of(container, at("2025-09-01"))
    assert figures(rows["6-5-2"]) == (2, 2, 1, 1, 3_000_000, 0, 1, 0.0, None)


def test_an_indicator_compares_with_the_previous_year_in_its_direction(
    container: Container
) -> None:
    now = rows_of(container, NOW)["6-5-2"].indicators
    before = rows_of(container, at("2026-03-01"))["6-5-2"].indicators
    assert [(i.indicator, i.value, i.previous, i.change, i.better, i.places) for i in now] == [
        ("road-repair-backlog", 26.0, 30.0, -4.0, True, 2)]
    assert (before[0].value, before[0].change) == (24.0, -6.0)
    assert rows_of(container, NOW)["6-5"].indicators == now  # the chapter shows its measures'


def test_needs_per_school_district_count_rate_and_silence(container: Container) -> None:
    voices = queries.needs_by_school_district(container, date(2025, 4, 1), date(2026, 3, 31),
                                              "higashi")
    rows = {r.school_district: r for r in voices.rows}
    assert len(rows) == len(container.city.school_districts_in("higashi"))
    sakuragi, kengun = rows["higashi-sakuragi"], rows["higashi-kengun"]
    assert (sakuragi.needs, kengun.needs) == (2, 1)
    assert sakuragi.residents is not None
    assert sakuragi.per_1000 == pytest.approx(2 * 1000 / sakuragi.residents)
    assert rows["higashi-wakaba"].silent and rows["higashi-wakaba"].needs == 0
    assert voices.without_district == 0  # N4 names no district but lies before the period
    earlier = queries.needs_by_school_district(container, date(2025, 3, 1),
                                               date(2025, 3, 31), "higashi")
    assert earlier.without_district == 1 and all(r.silent for r in earlier.rows)


def test_the_plan_report_command_writes_csv_for_excel(
        container: Container, monkeypatch: pytest.MonkeyPatch,
        capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    monkeypatch.setenv("TSUNAGI_DATA_DIR", str(container.settings.data_dir))
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", container.settings.database_url or "")
    assert main(["metrics", "plan-report", "--fiscal-year", "2025",
                 "--as-of", "2026-03-20T12:00:00+09:00"]) == 0
    raw = capsysbinary.readouterr().out
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = {r[0]: r for r in csv.reader(io.StringIO(raw.decode("utf-8-sig")))}
    assert rows["6-5"][2:8] == ["2", "2", "1", "1", "3000000", "1"]
    assert rows["6-5-2"][8:10] == ["0.5", "4"]
    assert "road-repair-backlog=26/30 改善" in rows["6-5-2"][10]

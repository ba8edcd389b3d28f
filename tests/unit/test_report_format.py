"""`tsunagi metrics report` formatting: chosen clocks only, figures rounded for people."""

from __future__ import annotations

import csv
import io
from typing import Any, get_args

import pytest

from api.metrics import GroupBy, render_report
from domain.groupings import GROUP_BYS


def _clock(n: int, median: float | None, p90: float | None, share: float | None
           ) -> dict[str, Any]:
    return {"n": n, "median": median, "p90": p90, "within_target": share}


PAYLOAD: dict[str, Any] = {
    "group_by": "ward", "as_of": "2026-11-26T12:00:00+09:00",
    "groups": [{
        "key": "higashi", "n": 12, "counts": {"submitted": 1, "accepted": 3},
        "clocks": {"acknowledgement": _clock(11, 7.099999999999999, 9.25, 0.8340000000000003),
                   "decision": _clock(8, 21.0, 33.45, 0.75),
                   "feedback": _clock(0, None, None, None),
                   "end_to_end": _clock(20, 48.0, 83.40000000000003, 0.6)},
        "acceptance_rate": 0.5, "feedback_closure_rate": 0.9,
        "transfers_per_proposal": 0.16666666666666666, "mean_satisfaction": 3.8}],
}


def test_the_csv_rounds_days_to_one_decimal_and_shares_to_three_places() -> None:
    rows = list(csv.reader(io.StringIO(render_report(PAYLOAD, "csv").decode("utf-8-sig"))))
    header, row = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert row["受付中央値 / ack median"] == "7.1"
    assert row["全体90% / end to end p90"] == "83.4"
    assert row["受付期限内率 / ack on time"] == "0.834"
    assert row["移管/件 / transfers/proposal"] == "0.17"
    assert row["回答中央値 / feedback median"] == ""  # undefined stays empty
    assert header[-2:] == ["submitted", "accepted"]


def test_the_table_shows_only_the_chosen_clocks_rounded() -> None:
    table = render_report(PAYLOAD, "table", ["decision"]).decode()
    assert "decision median" in table and "ack median" not in table
    assert "end to end" not in table
    assert "33.5" in table and "0.750" in table and "33.45" not in table


def test_fewer_clocks_make_a_narrower_table() -> None:
    every = render_report(PAYLOAD, "table").decode().splitlines()[1]
    one = render_report(PAYLOAD, "table", ["acknowledgement"]).decode().splitlines()[1]
    assert len(one) < len(every) / 2


def test_json_keeps_every_clock_whatever_is_chosen() -> None:
    assert b"end_to_end" in render_report(PAYLOAD, "json", ["decision"])


def test_the_api_offers_every_grouping_the_domain_knows() -> None:
    assert get_args(GroupBy) == GROUP_BYS


@pytest.mark.parametrize(("group_by", "ja"), [("plan_goal", "施策"),
                                              ("school_district", "校区")])
def test_the_new_groupings_have_japanese_and_english_headers(group_by: str, ja: str) -> None:
    payload = {**PAYLOAD, "group_by": group_by}
    rows = list(csv.reader(io.StringIO(render_report(payload, "csv").decode("utf-8-sig"))))
    assert rows[0][0] == f"{ja} / {group_by}"

"""Reading the ward meeting agenda: acts in a period, and what is stuck at its end.

The read side of `projections.ward_agenda` (its handlers keep the rows), a mixin of
`WardAgenda`: the acts of the period by JST date; the spans covering the period's last
instant, judged against the lead division's target as the city file gives it now; the
needs recorded in the period, grouped by policy area; titles for the agenda to name them.
Spans count business days by the application's calendar (`default_calendar`).
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from domain.calendar import JST, BusinessCalendar, date_jst, default_calendar
from domain.clocks import CLOCKS
from domain.reference import CityData
from infra.sql import Database, Tx
from projections.clock_facts import at_text

#: `to_at` of a span still open: later than any instant in `at_text` form
OPEN_SPAN = "9999-12-31T23:59:59.999999+00:00"
#: the span kind of a question awaiting the ward (the others are the clocks' names)
AWAITING = "info_requested"
#: the calendar the spans count business days by: the one the application is built with
SPAN_CALENDAR = default_calendar()
#: business days are numbered from here (the first year whose holidays are known)
_EPOCH = date(1949, 1, 1)


@dataclass(frozen=True)
class Agenda:
    """The agenda of a period: lists of plain dicts, as the API shows them (instants aware)."""

    since: date
    until: date
    ward: str | None
    as_of: datetime
    decisions: list[dict[str, Any]] = field(default_factory=list)
    budget_outcomes: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    overdue: list[dict[str, Any]] = field(default_factory=list)
    awaiting_ward: list[dict[str, Any]] = field(default_factory=list)
    common_needs: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Card:
    """How the agenda names a proposal or a need: its title, ward and (proposals) lead."""

    title: str
    ward: str
    lead_department: str | None = None


def end_of_day_jst(day: date) -> datetime:
    """The last instant (to the microsecond) of a JST date."""
    return datetime.combine(day + timedelta(days=1), time(0), JST) - timedelta(microseconds=1)


def business_day_number(day: date, calendar: BusinessCalendar) -> int:
    """The business days from the epoch to `day`: a clock of target n started on s is
    due on the day numbered number(s) + n, paused days added (n >= 1)."""
    if calendar is SPAN_CALENDAR:
        return _day_number(day)
    return calendar.business_days_between(_EPOCH, day)


@functools.lru_cache(maxsize=16384)
def _day_number(day: date) -> int:
    """`business_day_number` by the spans' calendar (a rebuild asks for the same days
    again and again; each answer walks the years since the epoch)."""
    return SPAN_CALENDAR.business_days_between(_EPOCH, day)


def _marks(values: list[Any]) -> str:
    return ", ".join("?" for _ in values)


class AgendaReads:
    """The read side of the ward meeting agenda (`WardAgenda` keeps the rows)."""

    db: Database

    def agenda(self, since: date, until: date, ward: str | None, city: CityData,
               calendar: BusinessCalendar, now: datetime) -> Agenda:
        """The agenda of the JST dates `since`..`until`, stuck items as of the end of
        `until` (or `now`, if earlier); only `ward`'s items when given."""
        as_of = min(end_of_day_jst(until), now)
        period = (since.isoformat(), until.isoformat())
        acts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        with self.db.transaction() as tx:
            tx.execute(
                "SELECT act, proposal, ward, at, detail FROM ward_agenda_acts"
                " WHERE day >= ? AND day <= ?" + (" AND ward = ?" if ward else "")
                + " ORDER BY at, proposal, version", [*period, *([ward] if ward else [])])
            for act, proposal, act_ward, at, detail in tx.fetchall():
                acts[act].append({"proposal": proposal, "ward": act_ward,
                                  "at": datetime.fromisoformat(at), **json.loads(detail)})
            stuck = self._stuck(tx, ward, city, calendar, as_of)
            common = self._common_needs(tx, period, ward, as_of)
        return Agenda(
            since=since, until=until, ward=ward, as_of=as_of,
            decisions=[{"proposal": a["proposal"], "ward": a["ward"],
                        "decision": a["decision"], "decided_at": a["at"]}
                       for a in acts["decision"]],
            budget_outcomes=[{"proposal": a["proposal"], "ward": a["ward"],
                              "outcome": a["outcome"], "amount_jpy": a["amount_jpy"]}
                             for a in acts["budget"]],
            feedback=[{"proposal": a["proposal"], "ward": a["ward"],
                       "delivered_on": date.fromisoformat(a["delivered_on"]),
                       "channel": a["channel"]} for a in acts["feedback"]],
            **stuck,
            common_needs=common,
        )

    @staticmethod
    def _stuck(tx: Tx, ward: str | None, city: CityData, calendar: BusinessCalendar,
               as_of: datetime) -> dict[str, list[dict[str, Any]]]:
        """Overdue proposals by lead division and info requests by ward, as of `as_of`:
        the spans covering it, of questions and of clocks whose due day has ended."""
        # a clock is overdue when its due day is before `as_of`'s day, that is numbered
        # at most `last`; the smallest target bounds the query, the lead's decides
        last = business_day_number(date_jst(as_of) - timedelta(days=1), calendar)
        targets = [city.default_targets, *(d.targets for d in city.departments)]
        bounds = [(name, last - min(getattr(t, name) for t in targets)) for name in CLOCKS]
        at = at_text(as_of)
        tx.execute(
            "SELECT proposal, kind, ward, lead_department, due_base, from_at"
            " FROM ward_agenda_spans WHERE to_at > ? AND from_at <= ?"
            + (" AND ward = ?" if ward else "")
            + " AND (kind = ? OR " + " OR ".join("(kind = ? AND due_base <= ?)" for _ in bounds)
            + ")", [at, at, *([ward] if ward else []), AWAITING,
                    *(v for pair in bounds for v in pair)])
        due: dict[str, tuple[str, int]] = {}  # proposal: lead, earliest overdue due day
        awaiting: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for proposal, kind, span_ward, lead, due_base, from_at in tx.fetchall():
            if kind == AWAITING:
                awaiting[span_ward].append((from_at, proposal))
                continue
            due_day = due_base + getattr(city.targets_for(lead), kind)
            if due_day <= last and (proposal not in due or due_day < due[proposal][1]):
                due[proposal] = (lead, due_day)
        overdue: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for proposal, (lead, due_day) in due.items():
            overdue[lead].append((due_day, proposal))  # most overdue first in the division
        return {
            "overdue": [{"department": d, "proposals": [i for _, i in sorted(overdue[d])]}
                        for d in sorted(overdue)],
            "awaiting_ward": [{"ward": w, "proposals": [i for _, i in sorted(awaiting[w])]}
                              for w in sorted(awaiting)],
        }

    @staticmethod
    def _common_needs(tx: Tx, period: tuple[str, str], ward: str | None,
                      as_of: datetime) -> list[dict[str, Any]]:
        """Needs recorded in the period, grouped by policy area (as of `as_of`), where the
        group spans two or more wards (and, with `ward`, includes that ward)."""
        tx.execute(
            "SELECT n.id, n.ward, a.policy_area FROM ward_agenda_needs n"
            " JOIN ward_agenda_need_areas a ON a.need = n.id"
            " WHERE n.day >= ? AND n.day <= ? AND a.at <= ?"
            " ORDER BY n.at, n.id, a.seq", [*period, at_text(as_of)])
        area_of: dict[tuple[str, str], str] = {}  # in recording order, the latest area
        for need, need_ward, area in tx.fetchall():
            area_of[(str(need), str(need_ward))] = str(area)
        groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for (need, need_ward), area in area_of.items():
            groups[area].append((need, need_ward))
        common = []
        for area in sorted(groups):
            wards = sorted({w for _, w in groups[area]})
            if len(wards) >= 2 and (ward is None or ward in wards):
                common.append({"policy_area": area, "wards": wards,
                               "needs": [n for n, _ in groups[area]]})
        return common

    def proposal_cards(self, ids: list[str]) -> dict[str, Card]:
        """Title, ward and lead division now of each of the proposals."""
        if not ids:
            return {}
        with self.db.transaction() as tx:
            tx.execute("SELECT id, title, ward, lead_department FROM ward_agenda_cases"
                       f" WHERE id IN ({_marks(ids)})", ids)
            return {str(r[0]): Card(str(r[1]), str(r[2]), str(r[3])) for r in tx.fetchall()}

    def need_cards(self, ids: list[str]) -> dict[str, Card]:
        """Title and ward now of each of the needs."""
        if not ids:
            return {}
        with self.db.transaction() as tx:
            tx.execute(f"SELECT id, title, ward FROM ward_agenda_need_cards"
                       f" WHERE id IN ({_marks(ids)})", ids)
            return {str(r[0]): Card(str(r[1]), str(r[2])) for r in tx.fetchall()}

"""The ward meeting agenda: what happened in a period, and what is stuck at its end.

The view keeps the acts a ward meeting goes through (decisions, budget outcomes,
feedback) and the needs recorded, each with its `effective_at` and its JST date,
so that "in the period" is a range query on the date. What is stuck at the end
of the period (overdue clocks, questions awaiting the ward) is read from the
clock facts as of that instant, so it answers for past periods too.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from domain.application import event_type_name
from domain.calendar import JST, BusinessCalendar, date_jst
from domain.clocks import CLOCKS, read_clock
from domain.need import Need
from domain.proposal import Proposal
from domain.reference import CityData
from domain.states import ProposalStatus
from infra.sql import Tx
from projections.base import Event, View
from projections.clock_facts import ClockFactsView, at_text

#: the acts of a proposal the agenda lists, by event type
_ACTS = {"ProposalDecided": "decision", "ProposalBudgetRecorded": "budget",
         "ProposalFeedbackRecorded": "feedback"}


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


def end_of_day_jst(day: date) -> datetime:
    """The last instant (to the microsecond) of a JST date."""
    return datetime.combine(day + timedelta(days=1), time(0), JST) - timedelta(microseconds=1)


class WardAgenda(View):
    """Decisions, budget outcomes, feedback and needs recorded, by JST date and ward."""

    name = "ward_agenda"
    tables = ("ward_agenda_proposals", "ward_agenda_acts", "ward_agenda_needs")
    schema = (
        "CREATE TABLE IF NOT EXISTS ward_agenda_proposals ("
        " id TEXT PRIMARY KEY, ward TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS ward_agenda_acts ("
        " proposal TEXT NOT NULL, version INTEGER NOT NULL, act TEXT NOT NULL,"
        " ward TEXT NOT NULL, day TEXT NOT NULL, at TEXT NOT NULL, detail TEXT NOT NULL,"
        " PRIMARY KEY (proposal, version))",
        "CREATE INDEX IF NOT EXISTS ward_agenda_acts_day ON ward_agenda_acts (act, day)",
        "CREATE TABLE IF NOT EXISTS ward_agenda_needs ("
        " id TEXT PRIMARY KEY, ward TEXT NOT NULL, day TEXT NOT NULL, at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS ward_agenda_needs_day ON ward_agenda_needs (day)",
    )

    # ── keeping the facts ─────────────────────────────────────────────────

    def handle(self, tx: Tx, event: Event) -> None:
        if not isinstance(event, Proposal.Event | Need.Event):
            return
        type_name = event_type_name(event)
        at: datetime = event.effective_at  # type: ignore[attr-defined]
        subject = str(event.originator_id)
        if type_name == "NeedRecorded":
            tx.execute("INSERT INTO ward_agenda_needs (id, ward, day, at) VALUES (?, ?, ?, ?)"
                       " ON CONFLICT (id) DO NOTHING",
                       (subject, event.ward, date_jst(at).isoformat(),  # type: ignore[attr-defined]
                        at_text(at)))
        elif type_name == "ProposalDrafted":
            tx.execute("INSERT INTO ward_agenda_proposals (id, ward) VALUES (?, ?)"
                       " ON CONFLICT (id) DO NOTHING",
                       (subject, event.ward))  # type: ignore[attr-defined]
        elif type_name in _ACTS:
            tx.execute("SELECT ward FROM ward_agenda_proposals WHERE id = ?", (subject,))
            row = tx.fetchone()
            if row is None:
                return  # drafted before this view's data; a rebuild restores it
            tx.execute(
                "INSERT INTO ward_agenda_acts (proposal, version, act, ward, day, at, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (proposal, version) DO NOTHING",
                (subject, event.originator_version, _ACTS[type_name], row[0],
                 date_jst(at).isoformat(), at_text(at), json.dumps(_detail(type_name, event))))

    # ── reading ───────────────────────────────────────────────────────────

    def agenda(self, since: date, until: date, ward: str | None, facts: ClockFactsView,
               city: CityData, calendar: BusinessCalendar, now: datetime) -> Agenda:
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
            tx.execute("SELECT id, ward FROM ward_agenda_needs WHERE day >= ? AND day <= ?"
                       " ORDER BY at, id", period)
            recorded = [(str(r[0]), str(r[1])) for r in tx.fetchall()]
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
            **self._stuck(ward, facts, city, calendar, as_of),
            common_needs=self._common_needs(recorded, ward, facts, as_of),
        )

    @staticmethod
    def _stuck(ward: str | None, facts: ClockFactsView, city: CityData,
               calendar: BusinessCalendar, as_of: datetime) -> dict[str, list[dict[str, Any]]]:
        """Overdue proposals by lead division and info requests by ward, as of `as_of`."""
        proposals, _ = facts.load(as_of, ward=ward)
        overdue: dict[str, list[tuple[date, str]]] = defaultdict(list)
        awaiting: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
        for p in proposals:
            status = p.status
            if status == ProposalStatus.INFO_REQUESTED:
                asked = [f.at for f in p.facts if f.kind == "status"][-1]
                awaiting[p.ward].append((asked, p.id))
            targets = city.targets_for(p.lead_department)
            clock_facts = p.clock_facts()
            late: list[date] = []
            for name in CLOCKS:
                reading = read_clock(clock_facts[name], getattr(targets, name), calendar, as_of)
                if reading.state == "running" and reading.due_on is not None and reading.late:
                    late.append(reading.due_on)
            if late:  # most overdue first within the division
                overdue[p.lead_department].append((min(late), p.id))
        return {
            "overdue": [{"department": d, "proposals": [i for _, i in sorted(overdue[d])]}
                        for d in sorted(overdue)],
            "awaiting_ward": [{"ward": w, "proposals": [i for _, i in sorted(awaiting[w])]}
                              for w in sorted(awaiting)],
        }

    @staticmethod
    def _common_needs(recorded: list[tuple[str, str]], ward: str | None,
                      facts: ClockFactsView, as_of: datetime) -> list[dict[str, Any]]:
        """Needs recorded in the period, grouped by policy area (as of `as_of`), where the
        group spans two or more wards (and, with `ward`, includes that ward)."""
        if not recorded:
            return []
        _, needs = facts.load(as_of, ids=[need for need, _ in recorded])
        area_of = {n.id: n.policy_area for n in needs}
        groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for need, need_ward in recorded:  # in recording order
            if need in area_of:
                groups[area_of[need]].append((need, need_ward))
        common = []
        for area in sorted(groups):
            wards = sorted({w for _, w in groups[area]})
            if len(wards) >= 2 and (ward is None or ward in wards):
                common.append({"policy_area": area, "wards": wards,
                               "needs": [n for n, _ in groups[area]]})
        return common


def _detail(type_name: str, event: Any) -> dict[str, Any]:
    """What the agenda shows of an act, besides proposal, ward and date."""
    if type_name == "ProposalDecided":
        return {"decision": event.decision}
    if type_name == "ProposalBudgetRecorded":
        budgeted = event.outcome == ProposalStatus.BUDGETED
        # as the proposal's budget shows it: not budgeted is 0 yen
        return {"outcome": event.outcome, "amount_jpy": event.amount_jpy if budgeted else 0}
    return {"delivered_on": event.delivered_on.isoformat(), "channel": event.channel}

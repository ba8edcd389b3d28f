"""The ward meeting agenda: what happened in a period, and what is stuck at its end.

The view keeps the acts a ward meeting goes through (decisions, budget outcomes,
feedback) and the needs recorded, each with its `effective_at` and its JST date,
so that "in the period" is a range query on the date; and the title, ward and
lead division of each proposal and need, for the agenda to name them.

What is stuck at the end of the period (overdue clocks, questions awaiting the
ward) holds as of that instant, so it answers for past periods too. A proposal's
state holds from one of its events to the next, so the view keeps the spans of
time in which each clock runs (with the lead division of the span and where its
due date stands in business days) and each question awaits the ward; the read is
then a query for the spans covering the instant, and a clock is overdue when its
lead's target, as the city file gives it at read time, has passed. Business days
are those of the domain's calendar (`default_calendar`), as the application's.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from domain.application import event_type_name
from domain.calendar import JST, BusinessCalendar, date_jst, default_calendar
from domain.clocks import CLOCKS, read_clock
from domain.facts import Fact, ProposalFacts, facts_of
from domain.need import Need
from domain.proposal import Proposal
from domain.reference import CityData
from domain.states import ProposalStatus
from infra.sql import Tx
from projections.base import Event, View
from projections.batch import BatchTx
from projections.clock_facts import at_text, event_data

#: the acts of a proposal the agenda lists, by event type
_ACTS = {"ProposalDecided": "decision", "ProposalBudgetRecorded": "budget",
         "ProposalFeedbackRecorded": "feedback"}
#: the kinds of fact the clocks, the status and the lead division are read from
_CLOCK_FACT_KINDS = frozenset({"status", "decided", "feedback", "lead"})
#: `to_at` of a span still open: later than any instant in `at_text` form
OPEN_SPAN = "9999-12-31T23:59:59.999999+00:00"
#: the span kind of a question awaiting the ward (the others are the clocks' names)
AWAITING = "info_requested"
#: the calendar the spans count business days by: the one the application is built with
_CALENDAR = default_calendar()
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
    if calendar is _CALENDAR:
        return _day_number(day)
    return calendar.business_days_between(_EPOCH, day)


@functools.lru_cache(maxsize=16384)
def _day_number(day: date) -> int:
    """`business_day_number` by the spans' calendar (a rebuild asks for the same days
    again and again; each answer walks the years since the epoch)."""
    return _CALENDAR.business_days_between(_EPOCH, day)


def stuck_spans(facts: ProposalFacts, at: datetime) -> dict[str, tuple[str, int]]:
    """What holds of a proposal from `at` until its next event: each running clock, with
    its lead division and the number of the business day it is due on before its target
    is added; and a question awaiting the ward (asked when its span opens: a transfer
    meanwhile does not reopen it)."""
    spans: dict[str, tuple[str, int]] = {}
    lead = facts.lead_department
    clock_facts = facts.clock_facts()
    for name in CLOCKS:
        # target 0: whether it runs and how long it paused do not depend on the target
        reading = read_clock(clock_facts[name], 0, _CALENDAR, at)
        if reading.state == "running" and reading.started_at is not None:
            start = business_day_number(date_jst(reading.started_at), _CALENDAR)
            spans[name] = (lead, start + reading.paused_business_days)
    if facts.status == ProposalStatus.INFO_REQUESTED:
        spans[AWAITING] = ("", 0)
    return spans


def _encode_facts(facts: list[Fact]) -> str:
    return json.dumps([[at_text(f.at), f.kind, f.value] for f in facts], ensure_ascii=False)


def _decode_facts(text: str) -> tuple[Fact, ...]:
    return tuple(Fact(datetime.fromisoformat(at), kind, value)
                 for at, kind, value in json.loads(text))


@dataclass
class _Case:
    """A proposal as a batch keeps it: what `ward_agenda_cases` holds, and its open spans
    (kind: lead division, due day base, from when)."""

    ward: str
    title: str
    lead: str
    facts: list[Fact]
    open: dict[str, tuple[str, int, str]]


_CASE_UPSERT = ("INSERT INTO ward_agenda_cases (id, ward, title, lead_department, facts)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET title = excluded.title,"
                " lead_department = excluded.lead_department, facts = excluded.facts")
_SPAN_UPSERT = ("INSERT INTO ward_agenda_spans (proposal, kind, ward, from_at, to_at,"
                " lead_department, due_base) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (proposal, kind, from_at) DO UPDATE SET"
                " to_at = excluded.to_at, lead_department = excluded.lead_department,"
                " due_base = excluded.due_base")


def _marks(values: list[Any]) -> str:
    return ", ".join("?" for _ in values)


class WardAgenda(View):
    """Decisions, budget outcomes, feedback and needs recorded, by JST date and ward; the
    proposals' clock facts and the spans in which they can be stuck."""

    name = "ward_agenda"
    #: 2: titles and clock facts kept here, spans of running clocks (new tables)
    version = 2
    tables = ("ward_agenda_cases", "ward_agenda_spans", "ward_agenda_acts",
              "ward_agenda_needs", "ward_agenda_need_cards", "ward_agenda_need_areas")
    schema = (
        "CREATE TABLE IF NOT EXISTS ward_agenda_cases ("
        " id TEXT PRIMARY KEY, ward TEXT NOT NULL, title TEXT NOT NULL,"
        " lead_department TEXT NOT NULL, facts TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS ward_agenda_spans ("
        " proposal TEXT NOT NULL, kind TEXT NOT NULL, ward TEXT NOT NULL,"
        " from_at TEXT NOT NULL, to_at TEXT NOT NULL, lead_department TEXT NOT NULL,"
        " due_base INTEGER NOT NULL, PRIMARY KEY (proposal, kind, from_at))",
        "CREATE INDEX IF NOT EXISTS ward_agenda_spans_to ON ward_agenda_spans (to_at, kind)",
        "CREATE TABLE IF NOT EXISTS ward_agenda_acts ("
        " proposal TEXT NOT NULL, version INTEGER NOT NULL, act TEXT NOT NULL,"
        " ward TEXT NOT NULL, day TEXT NOT NULL, at TEXT NOT NULL, detail TEXT NOT NULL,"
        " PRIMARY KEY (proposal, version))",
        "CREATE INDEX IF NOT EXISTS ward_agenda_acts_day ON ward_agenda_acts (act, day)",
        "CREATE TABLE IF NOT EXISTS ward_agenda_needs ("
        " id TEXT PRIMARY KEY, ward TEXT NOT NULL, day TEXT NOT NULL, at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS ward_agenda_needs_day ON ward_agenda_needs (day)",
        "CREATE TABLE IF NOT EXISTS ward_agenda_need_cards ("
        " id TEXT PRIMARY KEY, ward TEXT NOT NULL, title TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS ward_agenda_need_areas ("
        " need TEXT NOT NULL, seq BIGINT NOT NULL, at TEXT NOT NULL, policy_area TEXT,"
        " PRIMARY KEY (need, seq))",
    )

    # ── keeping the facts ─────────────────────────────────────────────────

    def handle(self, tx: Tx, event: Event) -> None:
        if isinstance(event, Proposal.Event):
            self._proposal(tx, event)
        elif isinstance(event, Need.Event):
            self._need(tx, event)

    def _need(self, tx: Tx, event: Event) -> None:
        type_name = event_type_name(event)
        at: datetime = event.effective_at  # type: ignore[attr-defined]
        subject = str(event.originator_id)
        data = event_data(event)
        if type_name == "NeedRecorded":
            tx.execute("INSERT INTO ward_agenda_needs (id, ward, day, at) VALUES (?, ?, ?, ?)"
                       " ON CONFLICT (id) DO NOTHING",
                       (subject, data["ward"], date_jst(at).isoformat(), at_text(at)))
            tx.execute("INSERT INTO ward_agenda_need_cards (id, ward, title) VALUES (?, ?, ?)"
                       " ON CONFLICT (id) DO NOTHING", (subject, data["ward"], data["title"]))
        elif type_name == "NeedAmended" and "title" in data.get("changes", {}):
            tx.execute("UPDATE ward_agenda_need_cards SET title = ? WHERE id = ?",
                       (data["changes"]["title"], subject))
        for fact in facts_of(type_name, data, at):
            if fact.kind == "policy_area":  # one per event at most
                tx.execute("INSERT INTO ward_agenda_need_areas (need, seq, at, policy_area)"
                           " VALUES (?, ?, ?, ?) ON CONFLICT (need, seq) DO NOTHING",
                           (subject, self.handling_position, at_text(at),
                            None if fact.value is None else str(fact.value)))

    def _proposal(self, tx: Tx, event: Event) -> None:
        type_name = event_type_name(event)
        at: datetime = event.effective_at  # type: ignore[attr-defined]
        subject = str(event.originator_id)
        data = event_data(event)
        new_facts = [f for f in facts_of(type_name, data, at) if f.kind in _CLOCK_FACT_KINDS]
        if type_name == "ProposalDrafted":
            drafted = _Case(str(data["ward"]), str(data["title"]),
                            str(data["lead_department"]), new_facts, {})
            self._keep(tx, subject, drafted)
            self._write_case(tx, subject, drafted)
            return  # a draft has no clock running nor question asked
        case = self._case(tx, subject)
        if case is None:
            return  # drafted before this view's data; a rebuild restores it
        changes = data.get("changes", {}) if type_name == "ProposalAmended" else {}
        title = str(changes.get("title", case.title))
        lead = str(changes.get("lead_department", case.lead))
        if type_name == "ProposalTransferred":
            lead = str(data["to_department"])
        if new_facts or title != case.title or lead != case.lead:
            case.title, case.lead = title, lead
            case.facts.extend(new_facts)
            self._write_case(tx, subject, case)
        if new_facts:
            self._spans(tx, subject, case, at)
        if type_name in _ACTS:
            tx.execute(
                "INSERT INTO ward_agenda_acts (proposal, version, act, ward, day, at, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (proposal, version) DO NOTHING",
                (subject, event.originator_version, _ACTS[type_name], case.ward,
                 date_jst(at).isoformat(), at_text(at), json.dumps(_detail(type_name, event))))

    @staticmethod
    def _keep(tx: Tx, subject: str, case: _Case | None) -> None:
        if isinstance(tx, BatchTx):
            tx.states[("ward_agenda_cases", subject)] = case

    def _case(self, tx: Tx, subject: str) -> _Case | None:
        """The proposal as the batch has left it (its row and open spans read once)."""
        if isinstance(tx, BatchTx) and ("ward_agenda_cases", subject) in tx.states:
            kept: _Case | None = tx.states[("ward_agenda_cases", subject)]
            return kept
        cases = self._rows(tx, "SELECT id, ward, title, lead_department, facts"
                           " FROM ward_agenda_cases WHERE id IN ({ids})", subject)
        if not cases:
            case = None
        else:
            spans = self._rows(tx, "SELECT proposal, kind, lead_department, due_base, from_at"
                               f" FROM ward_agenda_spans WHERE to_at = '{OPEN_SPAN}'"
                               " AND proposal IN ({ids})", subject)
            _, ward, title, lead, facts = cases[0]
            case = _Case(str(ward), str(title), str(lead), list(_decode_facts(facts)),
                         {str(k): (str(d), int(b), str(f)) for _, k, d, b, f in spans})
        self._keep(tx, subject, case)
        return case

    @staticmethod
    def _rows(tx: Tx, sql: str, subject: str) -> list[tuple[Any, ...]]:
        if isinstance(tx, BatchTx):
            return tx.batch_rows(sql, subject)
        tx.execute(sql.format(ids="?"), (subject,))
        return tx.fetchall()

    def _write_case(self, tx: Tx, subject: str, case: _Case) -> None:
        self.upsert(tx, _CASE_UPSERT, subject, lambda: (
            subject, case.ward, case.title, case.lead, _encode_facts(case.facts)))

    def _spans(self, tx: Tx, proposal: str, case: _Case, at: datetime) -> None:
        """Close the spans that end at `at` and open those that start there."""
        now = stuck_spans(ProposalFacts(proposal, case.ward, tuple(case.facts)), at)
        still = case.open
        when = at_text(at)
        for kind in sorted(k for k in still if now.get(k) != still[k][:2]):
            lead, due_base, from_at = still.pop(kind)
            self._write_span(tx, (proposal, kind, case.ward, from_at, when, lead, due_base))
        for kind in sorted(k for k in now if k not in still):
            # a span closed by an earlier event of the same instant opens again: the
            # state of an instant is the one after all its events (same row, last wins)
            lead, due_base = now[kind]
            still[kind] = (lead, due_base, when)
            self._write_span(tx, (proposal, kind, case.ward, when, OPEN_SPAN, lead, due_base))

    def _write_span(self, tx: Tx, row: tuple[str, str, str, str, str, str, int]) -> None:
        """One span's row, written when the batch ends (keyed by proposal, kind, start)."""
        self.upsert(tx, _SPAN_UPSERT, row[:2] + row[3:4], lambda: row)

    # ── reading ───────────────────────────────────────────────────────────

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


def _detail(type_name: str, event: Any) -> dict[str, Any]:
    """What the agenda shows of an act, besides proposal, ward and date."""
    if type_name == "ProposalDecided":
        return {"decision": event.decision}
    if type_name == "ProposalBudgetRecorded":
        budgeted = event.outcome == ProposalStatus.BUDGETED
        # as the proposal's budget shows it: not budgeted is 0 yen
        return {"outcome": event.outcome, "amount_jpy": event.amount_jpy if budgeted else 0}
    return {"delivered_on": event.delivered_on.isoformat(), "channel": event.channel}

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

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.application import event_type_name
from domain.calendar import date_jst
from domain.clocks import CLOCKS, read_clock
from domain.facts import Fact, ProposalFacts, facts_of
from domain.need import Need
from domain.proposal import Proposal
from domain.states import ProposalStatus
from infra.sql import Tx
from projections.agenda_reads import (
    AWAITING,
    OPEN_SPAN,
    SPAN_CALENDAR,
    AgendaReads,
    business_day_number,
)
from projections.base import Event, View
from projections.batch import BatchTx
from projections.clock_facts import at_text, event_data

#: the acts of a proposal the agenda lists, by event type
_ACTS = {"ProposalDecided": "decision", "ProposalBudgetRecorded": "budget",
         "ProposalFeedbackRecorded": "feedback"}
#: the kinds of fact the clocks, the status and the lead division are read from
_CLOCK_FACT_KINDS = frozenset({"status", "decided", "feedback", "lead"})
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
        reading = read_clock(clock_facts[name], 0, SPAN_CALENDAR, at)
        if reading.state == "running" and reading.started_at is not None:
            start = business_day_number(date_jst(reading.started_at), SPAN_CALENDAR)
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


class WardAgenda(AgendaReads, View):
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
        cases = self.subject_rows(tx, "SELECT id, ward, title, lead_department, facts"
                                  " FROM ward_agenda_cases WHERE id IN ({ids})", subject)
        if not cases:
            case = None
        else:
            spans = self.subject_rows(
                tx, "SELECT proposal, kind, lead_department, due_base, from_at"
                f" FROM ward_agenda_spans WHERE to_at = '{OPEN_SPAN}' AND proposal IN ({{ids}})",
                subject)
            _, ward, title, lead, facts = cases[0]
            case = _Case(str(ward), str(title), str(lead), list(_decode_facts(facts)),
                         {str(k): (str(d), int(b), str(f)) for _, k, d, b, f in spans})
        self._keep(tx, subject, case)
        return case

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

def _detail(type_name: str, event: Any) -> dict[str, Any]:
    """What the agenda shows of an act, besides proposal, ward and date."""
    if type_name == "ProposalDecided":
        return {"decision": event.decision}
    if type_name == "ProposalBudgetRecorded":
        budgeted = event.outcome == ProposalStatus.BUDGETED
        # as the proposal's budget shows it: not budgeted is 0 yen
        return {"outcome": event.outcome, "amount_jpy": event.amount_jpy if budgeted else 0}
    return {"delivered_on": event.delivered_on.isoformat(), "channel": event.channel}

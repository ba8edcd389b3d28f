"""The read side as typed read models: lists, views and metrics for the JSON API and the pages.

Framework-free: each function takes the container and plain arguments and returns
dataclasses; the JSON routers serialise them, the pages render them. Nothing here
writes, and nothing here knows HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.backlog import DepartmentBacklog, backlog
from domain.clocks import ClockReading, proposal_clock_facts, proposal_clocks
from domain.district_voices import DistrictVoices, district_voices
from domain.errors import NotFound, UnknownReference
from domain.facts import NeedFacts, ProposalFacts
from domain.metrics import GroupMetrics, response_metrics
from domain.need import Need
from domain.permissions import NEED_RULES, PROPOSAL_RULES, Actor, Scope, permits
from domain.plan_progress import NeedItem, PlanProgress, ProposalItem, plan_progress
from domain.proposal import Proposal
from domain.uniformity import PlaceFigure, Uniformity, figures, uniformity
from projections.agenda_reads import Card
from projections.department_queue import QueueItem
from projections.indicator_observations import latest_per_place
from projections.needs_index import NeedFilter
from projections.proposals_index import ProposalFilter
from projections.ward_feedback import FeedbackItem
from wiring.bootstrap import Container

# ── views ─────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class DepartmentQueue:
    """A division's queue as of an instant."""

    department: str
    as_of: datetime
    items: list[QueueItem]
    next_cursor: str | None = None


@dataclass(frozen=True)
class FeedbackPage:
    """A page of the needs of a ward or an office, newest first."""

    column: str  # "ward" or "office"
    value: str
    items: list[FeedbackItem]
    next_cursor: str | None


@dataclass(frozen=True)
class AgendaEntry:
    """One act of the period (a decision, a budget outcome, feedback) with its proposal."""

    proposal: str
    title: str
    ward: str
    lead_department: str
    detail: dict[str, Any]  # the act's own fields, as the view keeps them


@dataclass(frozen=True)
class AgendaGroup:
    """Proposals or needs grouped by division, ward or policy area, with their titles."""

    key: str  # the department, ward or policy area
    ids: list[str]
    titles: list[str]
    item_wards: list[str]  # the ward of each id
    wards: list[str]  # the wards of the group (common needs: two or more)


@dataclass(frozen=True)
class MeetingAgenda:
    """What a ward mayors' meeting goes through for a period of JST dates."""

    since: date
    until: date
    ward: str | None
    as_of: datetime
    decisions: list[AgendaEntry]
    budget_outcomes: list[AgendaEntry]
    feedback: list[AgendaEntry]
    overdue: list[AgendaGroup]
    awaiting_ward: list[AgendaGroup]
    common_needs: list[AgendaGroup]


def department_queue(c: Container, department: str, limit: int = 50,
                     cursor: str | None = None) -> DepartmentQueue:
    """A page of the division's open proposals (lead or co) and final ones still owing
    feedback, as of now."""
    if c.city.department(department) is None:
        raise NotFound("department", department)
    now = c.now()
    items, next_cursor = c.department_queue.queue(department, c.calendar, now, limit, cursor)
    return DepartmentQueue(department, now, items, next_cursor)


def feedback_page(c: Container, column: str, value: str, limit: int = 50,
                  cursor: str | None = None) -> FeedbackPage:
    """What became of each need recorded in a ward (`column="ward"`) or at an office."""
    if column == "ward" and c.city.ward(value) is None:
        raise NotFound("ward", value)
    if column == "office" and c.city.office(value) is None:
        raise NotFound("office", value)
    items, next_cursor = c.ward_feedback.list(column, value, limit, cursor)
    return FeedbackPage(column, value, items, next_cursor)


def meeting_agenda(c: Container, since: date, until: date, ward: str | None) -> MeetingAgenda:
    """The agenda of a period, each proposal and need with its title, ward and (proposals)
    lead division as they stand now, kept by the agenda's view."""
    if ward is not None and c.city.ward(ward) is None:
        raise UnknownReference("ward", ward, "ward")  # a filter, like an unknown ward in a body
    agenda = c.ward_agenda.agenda(since, until, ward, c.city, c.calendar, c.now())
    acts = [*agenda.decisions, *agenda.budget_outcomes, *agenda.feedback]
    proposal_ids = {str(r["proposal"]) for r in acts}
    for row in [*agenda.overdue, *agenda.awaiting_ward]:
        proposal_ids.update(str(i) for i in row["proposals"])
    proposals = c.ward_agenda.proposal_cards(sorted(proposal_ids))
    needs = c.ward_agenda.need_cards(sorted({str(i) for row in agenda.common_needs
                                             for i in row["needs"]}))

    def card(cards: dict[str, Card], kind: str, id_: str) -> Card:
        if id_ not in cards:
            raise NotFound(kind, id_)  # as reading it from the log would
        return cards[id_]

    def entries(rows: list[dict[str, Any]]) -> list[AgendaEntry]:
        out = []
        for row in rows:
            pid = str(row["proposal"])
            p = card(proposals, "proposal", pid)
            detail = {k: v for k, v in row.items() if k not in ("proposal", "ward")}
            out.append(AgendaEntry(pid, p.title, row["ward"], p.lead_department or "", detail))
        return out

    def groups(rows: list[dict[str, Any]], key: str, kind: str) -> list[AgendaGroup]:
        out = []
        for row in rows:
            ids = [str(i) for i in row[kind]]
            cards = [card(proposals, "proposal", i) if kind == "proposals"
                     else card(needs, "need", i) for i in ids]
            titles, wards = [k.title for k in cards], [k.ward for k in cards]
            group_wards = list(row.get("wards", dict.fromkeys(wards)))
            out.append(AgendaGroup(str(row[key]), ids, titles, wards, group_wards))
        return out

    return MeetingAgenda(
        since, until, ward, c.now(),
        entries(agenda.decisions), entries(agenda.budget_outcomes), entries(agenda.feedback),
        groups(agenda.overdue, "department", "proposals"),
        groups(agenda.awaiting_ward, "ward", "proposals"),
        groups(agenda.common_needs, "policy_area", "needs"),
    )


# ── metrics ───────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class ResponseMetrics:
    """Response metrics per group, as of an instant."""

    group_by: str
    as_of: datetime
    groups: list[GroupMetrics]


@dataclass(frozen=True)
class UniformityReport:
    """How evenly the wards, or the school districts of one ward, fare on one metric."""

    as_of: datetime
    result: Uniformity
    between: str = "ward"  # or "school_district"
    ward: str | None = None  # the ward whose school districts are compared
    #: between school districts: the ward's own figure over all its items, for comparison
    ward_figure: PlaceFigure | None = None


@dataclass(frozen=True)
class Backlog:
    """Undecided proposals by lead division, as of an instant."""

    as_of: datetime
    departments: list[DepartmentBacklog]


def load_facts(c: Container, as_of: datetime) -> tuple[list[ProposalFacts], list[NeedFacts]]:
    """The facts of every proposal and need dated up to `as_of`."""
    return c.clock_facts.load(as_of)


def response_groups(c: Container, group_by: str, as_of: datetime,
                    date_from: date | None = None,
                    date_to: date | None = None) -> list[GroupMetrics]:
    """The response metrics per group, computed once per view position (see `memo`):
    from the clock summaries when `as_of` is past every fact, else from the facts."""
    key = ("response", group_by, date_from, date_to)
    summaries = c.clock_summaries
    if summaries.answers(as_of):
        return summaries.memo(key, as_of, lambda: summaries.response_metrics(
            group_by, as_of, date_from, date_to))

    def compute() -> list[GroupMetrics]:
        # one subject at a time: a past instant of a long history does not fit in memory
        with c.clock_facts.streamed(as_of) as (proposals, needs):
            return response_metrics(proposals, needs, group_by, c.city, c.calendar, as_of,
                                    date_from, date_to)
    return c.clock_facts.memo(key, as_of, compute)


def response(c: Container, group_by: str, as_of: datetime, date_from: date | None = None,
             date_to: date | None = None) -> ResponseMetrics:
    """Counts, clocks and rates per group, as of `as_of`."""
    return ResponseMetrics(group_by, as_of,
                           response_groups(c, group_by, as_of, date_from, date_to))


def ward_uniformity(c: Container, metric: str, as_of: datetime) -> UniformityReport:
    """Coefficient of variation and max/min ratio of a metric over the wards."""
    return UniformityReport(as_of, uniformity(response_groups(c, "ward", as_of), metric))


def district_uniformity(c: Container, metric: str, ward: str,
                        as_of: datetime) -> UniformityReport:
    """The same figures over the school districts of one ward (in the city file's order)."""
    if c.city.ward(ward) is None:
        raise UnknownReference("ward", ward)
    districts = {s.id for s in c.city.school_districts_in(ward)}
    groups = [g for g in response_groups(c, "school_district", as_of) if g.key in districts]
    own = [g for g in response_groups(c, "ward", as_of) if g.key == ward]
    return UniformityReport(as_of, uniformity(groups, metric), "school_district", ward,
                            figures(own, metric)[0] if own else None)


def department_backlog(c: Container, as_of: datetime) -> Backlog:
    """Undecided proposals by lead division and business days since submission."""
    summaries = c.clock_summaries
    if summaries.answers(as_of):
        return Backlog(as_of, summaries.memo(("backlog",), as_of,
                                             lambda: summaries.backlog(as_of)))

    def compute() -> list[DepartmentBacklog]:
        with c.clock_facts.streamed(as_of) as (proposals, _):
            return backlog(proposals, c.calendar, as_of)
    return Backlog(as_of, c.clock_facts.memo(("backlog",), as_of, compute))


# ── records and desks, for the pages ──────────────────────────────────────


def actions_for(actor: Actor, record: Need | Proposal) -> list[str]:
    """The actions allowed now by the record's status that this actor may take."""
    if isinstance(record, Need):
        scope = Scope(ward=record.ward, office=record.office)
        return [a for a in record.allowed_actions() if permits(actor, NEED_RULES[a], scope)]
    scope = Scope(ward=record.ward, lead=record.lead_department,
                  co=tuple(record.co_departments))
    return [a for a in record.allowed_actions() if permits(actor, PROPOSAL_RULES[a], scope)]


@dataclass(frozen=True)
class WardDesk:
    """A ward's desk: needs to triage, needs ready for a proposal, proposals in draft."""

    ward: str
    to_triage: list[Need]
    triaged: list[Need]
    drafts: list[Proposal]


def ward_desk(c: Container, ward: str, limit: int = 200) -> WardDesk:
    """The ward's needs waiting for the ward, and its draft proposals."""
    if c.city.ward(ward) is None:
        raise NotFound("ward", ward)
    recorded, _ = c.needs_index.list(NeedFilter(ward=[ward], status=["recorded"]), limit, None)
    triaged, _ = c.needs_index.list(NeedFilter(ward=[ward], status=["triaged"]), limit, None)
    drafts, _ = c.proposals_index.list(ProposalFilter([ward], [], [], ["draft"], [], [], None),
                                       limit, None)
    return WardDesk(ward, recorded, triaged, drafts)


def merge_targets(c: Container, ward: str, limit: int = 200) -> list[Need]:
    """The ward's needs another may be merged into (recorded or triaged), newest first."""
    needs, _ = c.needs_index.list(NeedFilter(ward=[ward], status=["recorded", "triaged"]),
                                  limit, None)
    return needs


def triaged_needs(c: Container, ward: str, limit: int = 200) -> list[Need]:
    """The ward's triaged needs: those a proposal may take in."""
    needs, _ = c.needs_index.list(NeedFilter(ward=[ward], status=["triaged"]), limit, None)
    return needs


@dataclass(frozen=True)
class ClockView:
    """One clock of a proposal as a person reads it: used, target, due, paused spans."""

    name: str
    reading: ClockReading
    pauses: tuple[tuple[datetime, datetime | None], ...]


def clocks_of(c: Container, proposal: Proposal) -> list[ClockView]:
    """The proposal's clocks now, against its lead division's targets."""
    now = c.now()
    readings = proposal_clocks(proposal, c.city.targets_for(proposal.lead_department),
                               c.calendar, now)
    facts = proposal_clock_facts(proposal)
    return [ClockView(name, reading, facts[name].pauses) for name, reading in readings.items()]


#: how long a page waits for the views to show what was just written
FRESH_WAIT_SECONDS = 2.0


def fresh_views(c: Container) -> bool:
    """Let the views catch up with the log, briefly, so a page shows what was just written
    (a list read straight after a redirect); False if they are still behind."""
    return c.follower.wait_for(c.app.position(), FRESH_WAIT_SECONDS)


# ── monitoring tied to the comprehensive plan (issue 11) ─────────────────


def _every(listing: Any, flt: Any) -> list[Any]:
    """Every item of a paged view list."""
    items, cursor = listing(flt, 500, None)
    while cursor is not None:
        more, cursor = listing(flt, 500, cursor)
        items.extend(more)
    return items


def indicator_values(c: Container, as_of: datetime) -> dict[str, dict[int, list[float]]]:
    """Per indicator and fiscal year, each place's latest value known at `as_of`."""
    values: dict[str, dict[int, list[float]]] = {}
    for indicator in c.city.indicators:
        rows = latest_per_place(c.indicator_observations.history(indicator.id, as_of))
        by_year = values.setdefault(indicator.id, {})
        for row in rows:
            by_year.setdefault(row.fiscal_year, []).append(row.value)
    return values


def plan_progress_report(c: Container, fiscal_year: int, as_of: datetime) -> PlanProgress:
    """The plan progress report: facts as of `as_of`, goals as the records name them now."""
    proposal_facts, need_facts = load_facts(c, as_of)
    need_goals = {str(n.id): tuple(n.plan_goals)
                  for n in _every(c.needs_index.list, NeedFilter())}
    proposals = {str(p.id): p for p in _every(c.proposals_index.list, ProposalFilter())}
    needs = [NeedItem(f, need_goals.get(f.id, ())) for f in need_facts]
    items = [ProposalItem(f, tuple(proposals[f.id].plan_goals),
                          proposals[f.id].budget.get("budgeted_jpy"))
             for f in proposal_facts if f.id in proposals]
    return plan_progress(c.city, fiscal_year, as_of, needs, items, indicator_values(c, as_of))


def needs_by_school_district(c: Container, since: date, until: date,
                             ward: str | None = None) -> DistrictVoices:
    """Needs observed from `since` to `until` (inclusive) per school district."""
    if ward is not None and c.city.ward(ward) is None:
        raise UnknownReference("ward", ward)
    needs = _every(c.needs_index.list, NeedFilter(ward=[ward] if ward else []))
    return district_voices(c.city, ((n.ward, n.school_district, n.observed_on) for n in needs),
                           since, until, ward)

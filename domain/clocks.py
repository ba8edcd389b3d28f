"""The three clocks of a proposal, computed from the instants the proposal keeps.

Rules (domain docs, "Clocks and metrics"): business days follow the Civil Code
(first day not counted); the decision clock pauses while information is
requested and its due date moves later by the paused business days; withdraw
and merge cancel every running clock; the target is the current lead division's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from domain.calendar import BusinessCalendar, date_jst

if TYPE_CHECKING:
    from domain.proposal import Proposal
    from domain.reference import Targets

CLOCKS = ("acknowledgement", "decision", "feedback")


@dataclass(frozen=True)
class ClockFacts:
    """The instants behind one clock: start, stop, pauses, cancellation."""

    name: str
    started_at: datetime | None
    stopped_at: datetime | None
    pauses: tuple[tuple[datetime, datetime | None], ...] = ()
    cancelled_at: datetime | None = None

    @property
    def cancelled(self) -> bool:
        """Cancelled before it stopped (withdraw or merge)."""
        return (self.started_at is not None and self.stopped_at is None
                and self.cancelled_at is not None)


@dataclass(frozen=True)
class ClockReading:
    """A clock as it stands at an instant."""

    name: str
    state: str  # not_started | running | paused | stopped | cancelled
    started_at: datetime | None
    stopped_at: datetime | None
    business_days: int | None
    paused_business_days: int
    target: int
    due_on: date | None
    late: bool | None


def proposal_clock_facts(proposal: Proposal) -> dict[str, ClockFacts]:
    """Read the facts of each clock off a proposal's state."""
    pauses = tuple((r["asked_at"], r["answered_at"]) for r in proposal.info_requests)
    return {
        "acknowledgement": ClockFacts("acknowledgement", proposal.submitted_at,
                                      proposal.acknowledgement_stopped_at,
                                      cancelled_at=proposal.cancelled_at),
        "decision": ClockFacts("decision", proposal.submitted_at, proposal.first_decided_at,
                               pauses=pauses, cancelled_at=proposal.cancelled_at),
        "feedback": ClockFacts("feedback", proposal.first_decided_at,
                               proposal.first_feedback_after_decision_at,
                               cancelled_at=proposal.cancelled_at),
    }


def read_clock(facts: ClockFacts, target: int, calendar: BusinessCalendar,
               now: datetime) -> ClockReading:
    """Business days, due date and lateness of one clock at instant `now`."""
    if facts.started_at is None or facts.started_at > now:
        return ClockReading(facts.name, "not_started", None, None, None, 0, target, None, None)
    start = facts.started_at
    stopped = facts.stopped_at
    if stopped is not None and (stopped > now or (
            facts.cancelled_at is not None and facts.cancelled_at < stopped)):
        stopped = None  # not yet stopped at `now`, or cancelled first (a cancelled clock stays so)
    cancelled = (stopped is None and facts.cancelled_at is not None
                 and facts.cancelled_at <= now)
    end = stopped or (facts.cancelled_at if cancelled else None) or now
    paused = 0
    in_pause = False
    for asked, answered in facts.pauses:
        if asked > end:
            continue
        still_paused = answered is None or answered > end
        pause_end = end if still_paused else answered
        assert pause_end is not None
        if still_paused and stopped is None and not cancelled:
            in_pause = True
        paused += calendar.elapsed(asked, pause_end)
    business_days = calendar.elapsed(start, end) - paused
    due_on = calendar.add_business_days(date_jst(start), target + paused)
    if cancelled:
        return ClockReading(facts.name, "cancelled", start, None, None, paused, target,
                            due_on, None)
    if stopped is not None:
        return ClockReading(facts.name, "stopped", start, stopped, business_days, paused,
                            target, due_on, date_jst(stopped) > due_on)
    return ClockReading(facts.name, "paused" if in_pause else "running", start, None,
                        business_days, paused, target, due_on,
                        calendar.has_ended(due_on, now))


def proposal_clocks(proposal: Proposal, targets: Targets, calendar: BusinessCalendar,
                    now: datetime) -> dict[str, ClockReading]:
    """All three clocks of a proposal, against its current lead division's targets."""
    facts = proposal_clock_facts(proposal)
    return {name: read_clock(facts[name], getattr(targets, name), calendar, now)
            for name in CLOCKS}

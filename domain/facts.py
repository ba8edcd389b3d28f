"""Facts: the dated things that happened to a proposal or need, kept for metrics.

A view stores these facts instead of whole states, so that "as of T" is a query
(keep the facts dated up to T) rather than a replay of the log (decision 11).
`facts_of(event)` is the pure handler from a domain event to its facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from domain.clocks import ClockFacts
from domain.states import DECISIONS, FINAL

#: statuses whose first occurrence after submission stops the acknowledgement clock
_ACK_STOPPERS = frozenset({"acknowledged", "info_requested", "under_review", *DECISIONS})


@dataclass(frozen=True, slots=True)
class Fact:
    """One dated fact: `kind` is e.g. status, lead, feedback; `value` its detail."""

    at: datetime
    kind: str
    value: Any = None


@dataclass(frozen=True)
class ProposalFacts:
    """What happened to one proposal, in log order."""

    id: str
    ward: str
    facts: tuple[Fact, ...] = ()

    def as_of(self, instant: datetime) -> ProposalFacts:
        """Only the facts dated up to `instant` (by `effective_at`)."""
        return replace(self, facts=tuple(f for f in self.facts if f.at <= instant))

    def _all(self, kind: str) -> list[Fact]:
        return [f for f in self.facts if f.kind == kind]

    def _last(self, kind: str, default: Any = None) -> Any:
        found = self._all(kind)
        return found[-1].value if found else default

    @property
    def status(self) -> str:
        """The latest status (`draft` before any)."""
        return str(self._last("status", "draft"))

    @property
    def lead_department(self) -> str:
        """The current lead division."""
        return str(self._last("lead"))

    @property
    def policy_area(self) -> str:
        """The current policy area."""
        return str(self._last("policy_area"))

    @property
    def plan_goals(self) -> tuple[str, ...]:
        """The plan chapters and measures it names now."""
        return tuple(self._last("plan_goals", ()))

    @property
    def submitted_at(self) -> datetime | None:
        """When it was submitted, if it was."""
        found = [f.at for f in self._all("status") if f.value == "submitted"]
        return found[0] if found else None

    @property
    def decision(self) -> str | None:
        """The latest decision (accepted, rejected, deferred), if any."""
        value = self._last("decided")
        return str(value) if value is not None else None

    @property
    def transfers(self) -> int:
        """How many times the lead changed hands."""
        return len(self._all("transfer"))

    @property
    def satisfaction(self) -> list[int]:
        """The satisfaction scores given in evaluations."""
        return [int(f.value) for f in self._all("evaluated")]

    @property
    def final_at(self) -> datetime | None:
        """When it reached its (latest) final status, if it has one now."""
        statuses = self._all("status")
        if not statuses or statuses[-1].value not in FINAL:
            return None
        return statuses[-1].at

    @property
    def feedback_after_final(self) -> bool:
        """Feedback followed its final status (the originators were told)."""
        seen_final = False
        for f in self.facts:
            if f.kind == "status":
                seen_final = f.value in FINAL
            elif f.kind == "feedback" and seen_final:
                return True
        return False

    def clock_facts(self) -> dict[str, ClockFacts]:
        """The instants behind each clock, as the clocks module reads them."""
        submitted = self.submitted_at
        statuses = self._all("status")
        after = [f for f in statuses if submitted is not None and f.at >= submitted]
        ack_stop = next((f.at for f in after if f.value in _ACK_STOPPERS), None)
        decided = self._all("decided")
        first_decision = decided[0].at if decided else None
        cancelled = next((f.at for f in statuses if f.value in ("withdrawn", "merged")), None)
        pauses: list[tuple[datetime, datetime | None]] = []
        for i, f in enumerate(statuses):
            if f.value == "info_requested":
                nxt = statuses[i + 1].at if i + 1 < len(statuses) else None
                pauses.append((f.at, nxt))
        feedback_stop = None
        if first_decision is not None:
            feedback_stop = next((f.at for f in self._all("feedback")
                                  if f.at >= first_decision), None)
        return {
            "acknowledgement": ClockFacts("acknowledgement", submitted, ack_stop,
                                          cancelled_at=cancelled),
            "decision": ClockFacts("decision", submitted, first_decision, tuple(pauses),
                                   cancelled_at=cancelled),
            "feedback": ClockFacts("feedback", first_decision, feedback_stop,
                                   cancelled_at=cancelled),
        }


@dataclass(frozen=True)
class NeedFacts:
    """What happened to one need: where it was heard, its proposal, its closing."""

    id: str
    ward: str
    facts: tuple[Fact, ...] = field(default=())

    def as_of(self, instant: datetime) -> NeedFacts:
        """Only the facts dated up to `instant`."""
        return replace(self, facts=tuple(f for f in self.facts if f.at <= instant))

    def _last(self, kind: str) -> Any:
        found = [f.value for f in self.facts if f.kind == kind]
        return found[-1] if found else None

    @property
    def recorded(self) -> bool:
        """The need exists at this point of time."""
        return any(f.kind == "recorded" for f in self.facts)

    @property
    def policy_area(self) -> str:
        """The current policy area."""
        return str(self._last("policy_area"))

    @property
    def plan_goals(self) -> tuple[str, ...]:
        """The plan chapters and measures it names now."""
        return tuple(self._last("plan_goals") or ())

    @property
    def school_district(self) -> str | None:
        """The school district it was heard in, if recorded."""
        value = self._last("school_district")
        return str(value) if value is not None else None

    @property
    def observed_on(self) -> date:
        """When it was heard (the end-to-end clock's start, a JST date)."""
        value = self._last("observed_on")
        return value if isinstance(value, date) else date.fromisoformat(str(value))

    @property
    def proposal(self) -> str | None:
        """The proposal that carries it now, if any."""
        value = self._last("proposal")
        return str(value) if value is not None else None

    @property
    def closed_at(self) -> datetime | None:
        """When it was closed, if it is."""
        found = [f.at for f in self.facts if f.kind == "closed"]
        return found[0] if found else None

    def carried_since(self, instant: datetime) -> set[str]:
        """The proposals that carried it at any time from `instant` on (as far as its facts go).

        A proposal withdrawn or merged away lets its needs go, but it still carried them.
        """
        holding: str | None = None
        since: set[str] = set()
        for f in self.facts:
            if f.kind != "proposal":
                continue
            if f.at <= instant:
                holding = f.value
            elif f.value is not None:
                since.add(str(f.value))
        return since | ({str(holding)} if holding is not None else set())


_PROPOSAL_STATUS = {
    "ProposalSubmitted": "submitted", "ProposalAcknowledged": "acknowledged",
    "ProposalInfoRequested": "info_requested", "ProposalInfoProvided": "under_review",
    "ProposalReviewStarted": "under_review", "ProposalBudgetRequested": "budget_requested",
    "ProposalImplementationStarted": "in_progress", "ProposalCompleted": "completed",
    "ProposalWithdrawn": "withdrawn", "ProposalMerged": "merged",
}


#: amended fields kept as facts: what the metrics group by
_AMENDABLE_FACTS = frozenset({"lead_department", "policy_area", "observed_on", "plan_goals",
                              "school_district"})


def facts_of(type_name: str, data: dict[str, Any], at: datetime) -> list[Fact]:
    """The facts one event adds (`type_name` as in the event catalogue, e.g. NeedRecorded)."""
    if type_name in _PROPOSAL_STATUS:
        return [Fact(at, "status", _PROPOSAL_STATUS[type_name])]
    if type_name == "ProposalDrafted":
        return [Fact(at, "drafted"), Fact(at, "lead", data["lead_department"]),
                Fact(at, "policy_area", data["policy_area"]),
                Fact(at, "plan_goals", list(data.get("plan_goals") or []))]
    if type_name in ("ProposalAmended", "NeedAmended"):
        changes = data.get("changes", {})
        renamed = {"lead_department": "lead"}
        return [Fact(at, renamed.get(k, k), list(v) if k == "plan_goals" else v)
                for k, v in changes.items() if k in _AMENDABLE_FACTS]
    if type_name == "ProposalDecided":
        return [Fact(at, "status", data["decision"]), Fact(at, "decided", data["decision"])]
    if type_name == "ProposalBudgetRecorded":
        return [Fact(at, "status", data["outcome"])]
    if type_name == "ProposalTransferred":
        return [Fact(at, "lead", data["to_department"]),
                Fact(at, "transfer", data["to_department"])]
    if type_name == "ProposalFeedbackRecorded":
        return [Fact(at, "feedback")]
    if type_name == "ProposalEvaluated":
        return [Fact(at, "evaluated", data["satisfaction"])]
    if type_name == "NeedRecorded":
        return [Fact(at, "recorded"), Fact(at, "policy_area", data["policy_area"]),
                Fact(at, "observed_on", data["observed_on"]),
                Fact(at, "plan_goals", list(data.get("plan_goals") or [])),
                Fact(at, "school_district", data.get("school_district"))]
    if type_name == "NeedTriaged" and data.get("policy_area"):
        return [Fact(at, "policy_area", data["policy_area"])]
    if type_name in ("NeedProposed", "NeedMovedToProposal"):
        return [Fact(at, "proposal", str(data["proposal"]))]
    if type_name == "NeedReturnedToTriage":
        return [Fact(at, "proposal", None)]
    if type_name in ("NeedFeedbackRecorded", "NeedClosedWithProposal"):
        return [Fact(at, "closed")]
    return []

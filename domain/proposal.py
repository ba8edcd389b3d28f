"""The project proposal (事業提案): drafted by a ward, worked by head-office divisions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import event

from domain.base import TrackedAggregate
from domain.errors import InvalidCommand, MergeTargetInvalid
from domain.proposal_commands import PROPOSAL_AMENDABLE
from domain.states import (
    BUDGET_OUTCOMES,
    DECISIONS,
    FINAL,
    OPEN,
    PROPOSAL_TRANSITIONS,
    UNDECIDED,
    ProposalStatus,
)

P = ProposalStatus
#: fields a draft's `amend` may change
AMENDABLE = PROPOSAL_AMENDABLE


class Proposal(TrackedAggregate):
    """A ward's proposal to head office, from draft to feedback and evaluation.

    Besides its current state it keeps the instants its clocks need (submission,
    first stop of acknowledgement, first decision, information-request pauses,
    first feedback after a decision, cancellation), so that clocks and metrics are
    computed from facts rather than replays.
    """

    transitions: ClassVar = PROPOSAL_TRANSITIONS
    label_ja: ClassVar[str] = "事業提案"

    @event("Drafted")
    def __init__(
        self,
        id: UUID,  # the library takes the aggregate id by this name
        city: str,
        ward: str,
        title: str,
        summary: str,
        needs: list[UUID],
        lead_department: str,
        co_departments: list[str],
        policy_area: str,
        estimated_cost_jpy: int | None,
        plan_goals: list[str],
        effective_at: datetime,
        actor: str,
    ) -> None:
        self.city = city
        self.ward = ward
        self.title = title
        self.summary = summary
        self.needs = list(needs)
        self.lead_department = lead_department
        self.co_departments = list(co_departments)
        self.policy_area = policy_area
        self.estimated_cost_jpy = estimated_cost_jpy
        self.plan_goals = list(plan_goals)
        self.drafted_by = actor
        self.status = P.DRAFT.value
        self.submitted_at: datetime | None = None
        self.acknowledgement_stopped_at: datetime | None = None
        self.first_decided_at: datetime | None = None
        self.decided_at: datetime | None = None
        self.decision: str | None = None
        self.decision_reason: str | None = None
        self.deferred_to_fiscal_year: int | None = None
        self.budget: dict[str, Any] = {"requested_jpy": None, "budgeted_jpy": None,
                                       "fiscal_year": None}
        self.info_requests: list[dict[str, Any]] = []
        self.transfers: list[dict[str, Any]] = []
        self.feedback: list[dict[str, Any]] = []
        self.first_feedback_after_decision_at: datetime | None = None
        self.evaluations: list[dict[str, Any]] = []
        self.comments: list[dict[str, Any]] = []
        self.notices: list[dict[str, Any]] = []
        self.final_at: datetime | None = None
        self.cancelled_at: datetime | None = None
        self.closed_for_originators = False
        self.merged_into: UUID | None = None
        self.merged_from: list[UUID] = []
        self.implementation_note: str | None = None
        self.completion_summary: str | None = None
        self.withdrawal_reason: str | None = None
        self._moved(effective_at, None)

    # ── guards beyond the table ───────────────────────────────────────────

    def _guard(self, action: str) -> bool:
        if action == "feedback" and self.status in UNDECIDED:
            return self.first_decided_at is not None  # deferred, then taken up again
        if action == "evaluate":
            # completed may be evaluated at once; other final statuses after feedback
            return self.status == P.COMPLETED or self.closed_for_originators
        return True

    @property
    def is_open(self) -> bool:
        """Submitted and not yet final."""
        return self.status in OPEN

    # ── commands ──────────────────────────────────────────────────────────

    def amend(self, changes: dict[str, Any], effective_at: datetime, actor: str) -> None:
        """Change a draft (the application takes care of needs joining or leaving)."""
        self._require("amend")
        unknown = sorted(set(changes) - set(AMENDABLE))
        if unknown:
            raise InvalidCommand(unknown[0], "not_amendable", amendable=list(AMENDABLE))
        self._amended(changes=changes, effective_at=effective_at, actor=actor)

    def submit(self, effective_at: datetime, actor: str) -> None:
        """The ward mayor signs off and sends it to head office."""
        self._require("submit")
        self._submitted(effective_at=effective_at, actor=actor)

    def acknowledge(self, note: str | None, effective_at: datetime, actor: str) -> None:
        """The lead division confirms receipt."""
        self._require("acknowledge")
        self._acknowledged(note=note, effective_at=effective_at, actor=actor)

    def request_info(self, question: str, department: str | None, effective_at: datetime,
                     actor: str) -> None:
        """A division asks the ward a question; the decision clock pauses."""
        self._require("request-info")
        self._info_requested(question=question, department=department,
                             effective_at=effective_at, actor=actor)

    def provide_info(self, answer: str, effective_at: datetime, actor: str) -> None:
        """The ward answers; review resumes and so does the decision clock."""
        self._require("provide-info")
        self._info_provided(answer=answer, effective_at=effective_at, actor=actor)

    def start_review(self, effective_at: datetime, actor: str) -> None:
        """The lead division starts (or, after deferral, resumes) its review."""
        self._require("start-review")
        self._review_started(effective_at=effective_at, actor=actor)

    def decide(self, decision: str, reason: str, deferred_to_fiscal_year: int | None,
               effective_at: datetime, actor: str) -> None:
        """Accept, reject or defer, with a reason."""
        self._require("decide")
        if decision not in DECISIONS:
            raise InvalidCommand("decision", "choice", choices=list(DECISIONS))
        if decision == P.DEFERRED and deferred_to_fiscal_year is None:
            raise InvalidCommand("deferred_to_fiscal_year", "deferral_needs_year")
        if decision != P.DEFERRED:
            deferred_to_fiscal_year = None
        self._decided(decision=decision, reason=reason,
                      deferred_to_fiscal_year=deferred_to_fiscal_year,
                      effective_at=effective_at, actor=actor)

    def request_budget(self, fiscal_year: int, amount_jpy: int, effective_at: datetime,
                       actor: str) -> None:
        """The lead division asks finance for money."""
        self._require("request-budget")
        self._budget_requested(fiscal_year=fiscal_year, amount_jpy=amount_jpy,
                               effective_at=effective_at, actor=actor)

    def record_budget(self, outcome: str, fiscal_year: int, amount_jpy: int | None,
                      effective_at: datetime, actor: str) -> None:
        """Finance's answer: budgeted or not."""
        self._require("record-budget")
        if outcome not in BUDGET_OUTCOMES:
            raise InvalidCommand("outcome", "choice", choices=list(BUDGET_OUTCOMES))
        if outcome == P.BUDGETED and amount_jpy is None:
            raise InvalidCommand("amount_jpy", "budget_needs_amount")
        self._budget_recorded(outcome=outcome, fiscal_year=fiscal_year, amount_jpy=amount_jpy,
                              effective_at=effective_at, actor=actor)

    def start_implementation(self, note: str | None, effective_at: datetime,
                             actor: str) -> None:
        """Work begins."""
        self._require("start-implementation")
        self._implementation_started(note=note, effective_at=effective_at, actor=actor)

    def complete(self, summary: str, effective_at: datetime, actor: str) -> None:
        """Work is done."""
        self._require("complete")
        self._completed(summary=summary, effective_at=effective_at, actor=actor)

    def withdraw(self, reason: str, return_needs: bool, effective_at: datetime,
                 actor: str) -> None:
        """The ward takes it back before a decision; running clocks are cancelled."""
        self._require("withdraw")
        self._withdrawn(reason=reason, return_needs=return_needs, effective_at=effective_at,
                        actor=actor)

    def merge_into(self, into: Proposal, reason: str, effective_at: datetime,
                   actor: str) -> None:
        """Fold it into another open proposal, which takes its needs."""
        self._require("merge")
        if into.id == self.id:
            raise MergeTargetInvalid("proposal", "self")
        if into.status not in OPEN:
            raise MergeTargetInvalid("proposal", "target_closed", status=into.status)
        self._merged(into=into.id, reason=reason, effective_at=effective_at, actor=actor)

    def absorb(self, other_id: UUID, needs: list[UUID], effective_at: datetime,
               actor: str) -> None:
        """Take in the needs of a proposal merged into this one."""
        self._require("absorb")
        self._absorbed(proposal=other_id, needs=needs, effective_at=effective_at, actor=actor)

    def transfer(self, to_department: str, reason: str, effective_at: datetime,
                 actor: str) -> None:
        """Hand the lead to another division (たらい回し is counted)."""
        self._require("transfer")
        if to_department == self.lead_department:
            raise InvalidCommand("to_department", "already_lead")
        self._transferred(from_department=self.lead_department, to_department=to_department,
                          reason=reason, effective_at=effective_at, actor=actor)

    def record_feedback(self, message: str, channel: str, delivered_on: date,
                        effective_at: datetime, actor: str) -> None:
        """Tell the community what became of the proposal."""
        self._require("feedback")
        self._feedback_recorded(message=message, channel=channel, delivered_on=delivered_on,
                                effective_at=effective_at, actor=actor)

    def evaluate(self, satisfaction: int, indicators: dict[str, Any] | None,
                 note: str | None, effective_at: datetime, actor: str) -> None:
        """Record how the residents or council judged the outcome."""
        self._require("evaluate")
        self._evaluated(satisfaction=satisfaction, indicators=indicators, note=note,
                        effective_at=effective_at, actor=actor)

    def comment(self, body: str, author_role: str, effective_at: datetime, actor: str) -> None:
        """Add a view from any ward or division (意見反映)."""
        self._require("comment")
        self._commented(body=body, author_role=author_role, effective_at=effective_at,
                        actor=actor)

    def send_notice(self, body: str, wards: list[str], department: str | None,
                    effective_at: datetime, actor: str) -> None:
        """Head office tells wards in advance about a coming decision (事前の情報提供)."""
        self._require("notice")
        self._notice_sent(body=body, wards=wards, department=department,
                          effective_at=effective_at, actor=actor)

    # ── events ────────────────────────────────────────────────────────────

    @event("Amended")
    def _amended(self, changes: dict[str, Any], effective_at: datetime, actor: str) -> None:
        for name, value in changes.items():
            setattr(self, name, list(value) if isinstance(value, list) else value)
        self._advance("amend", effective_at)

    @event("Submitted")
    def _submitted(self, effective_at: datetime, actor: str) -> None:
        self.submitted_at = effective_at
        self._advance("submit", effective_at)

    def _stop_acknowledgement(self, at: datetime) -> None:
        if self.acknowledgement_stopped_at is None:
            self.acknowledgement_stopped_at = at

    @event("Acknowledged")
    def _acknowledged(self, note: str | None, effective_at: datetime, actor: str) -> None:
        self._stop_acknowledgement(effective_at)
        self._advance("acknowledge", effective_at)

    @event("InfoRequested")
    def _info_requested(self, question: str, department: str | None, effective_at: datetime,
                        actor: str) -> None:
        self._stop_acknowledgement(effective_at)
        self.info_requests.append({"question": question, "department": department,
                                   "asked_at": effective_at, "answer": None,
                                   "answered_at": None})
        self._advance("request-info", effective_at)

    @event("InfoProvided")
    def _info_provided(self, answer: str, effective_at: datetime, actor: str) -> None:
        self.info_requests[-1].update(answer=answer, answered_at=effective_at)
        self._advance("provide-info", effective_at)

    @event("ReviewStarted")
    def _review_started(self, effective_at: datetime, actor: str) -> None:
        self._stop_acknowledgement(effective_at)
        self._advance("start-review", effective_at)

    @event("Decided")
    def _decided(self, decision: str, reason: str, deferred_to_fiscal_year: int | None,
                 effective_at: datetime, actor: str) -> None:
        self._stop_acknowledgement(effective_at)
        if self.first_decided_at is None:
            self.first_decided_at = effective_at
        self.decided_at = effective_at
        self.decision = decision
        self.decision_reason = reason
        self.deferred_to_fiscal_year = deferred_to_fiscal_year
        self._advance("decide", effective_at, decision)
        self._note_final(effective_at)

    @event("BudgetRequested")
    def _budget_requested(self, fiscal_year: int, amount_jpy: int, effective_at: datetime,
                          actor: str) -> None:
        self.budget = {"requested_jpy": amount_jpy, "budgeted_jpy": None,
                       "fiscal_year": fiscal_year}
        self._advance("request-budget", effective_at)

    @event("BudgetRecorded")
    def _budget_recorded(self, outcome: str, fiscal_year: int, amount_jpy: int | None,
                         effective_at: datetime, actor: str) -> None:
        budgeted = amount_jpy if outcome == P.BUDGETED else 0
        self.budget = {**self.budget, "budgeted_jpy": budgeted, "fiscal_year": fiscal_year}
        self._advance("record-budget", effective_at, outcome)
        self._note_final(effective_at)

    @event("ImplementationStarted")
    def _implementation_started(self, note: str | None, effective_at: datetime,
                                actor: str) -> None:
        self.implementation_note = note
        self._advance("start-implementation", effective_at)

    @event("Completed")
    def _completed(self, summary: str, effective_at: datetime, actor: str) -> None:
        self.completion_summary = summary
        self._advance("complete", effective_at)
        self._note_final(effective_at)

    @event("Withdrawn")
    def _withdrawn(self, reason: str, return_needs: bool, effective_at: datetime,
                   actor: str) -> None:
        self.withdrawal_reason = reason
        if return_needs:
            self.needs = []
        self._cancel_clocks(effective_at)
        self._advance("withdraw", effective_at)
        self._note_final(effective_at)

    @event("Merged")
    def _merged(self, into: UUID, reason: str, effective_at: datetime, actor: str) -> None:
        self.merged_into = into
        self.needs = []  # they now travel with `into`
        self._cancel_clocks(effective_at)
        self._advance("merge", effective_at)
        self._note_final(effective_at)

    @event("Absorbed")
    def _absorbed(self, proposal: UUID, needs: list[UUID], effective_at: datetime,
                  actor: str) -> None:
        self.merged_from.append(proposal)
        self.needs.extend(n for n in needs if n not in self.needs)
        self._advance("absorb", effective_at)

    @event("Transferred")
    def _transferred(self, from_department: str, to_department: str, reason: str,
                     effective_at: datetime, actor: str) -> None:
        self.transfers.append({"from_department": from_department,
                               "to_department": to_department, "reason": reason,
                               "at": effective_at})
        self.lead_department = to_department
        self.co_departments = [d for d in self.co_departments if d != to_department]
        self._advance("transfer", effective_at)

    @event("FeedbackRecorded")
    def _feedback_recorded(self, message: str, channel: str, delivered_on: date,
                           effective_at: datetime, actor: str) -> None:
        follows_final = self.status in FINAL
        self.feedback.append({"message": message, "channel": channel,
                              "delivered_on": delivered_on, "effective_at": effective_at,
                              "status": self.status, "follows_final": follows_final})
        if self.first_decided_at is not None and self.first_feedback_after_decision_at is None:
            self.first_feedback_after_decision_at = effective_at
        if follows_final:
            self.closed_for_originators = True
        self._advance("feedback", effective_at)

    @event("Evaluated")
    def _evaluated(self, satisfaction: int, indicators: dict[str, Any] | None,
                   note: str | None, effective_at: datetime, actor: str) -> None:
        self.evaluations.append({"satisfaction": satisfaction, "indicators": indicators,
                                 "note": note, "effective_at": effective_at})
        self._advance("evaluate", effective_at)

    @event("Commented")
    def _commented(self, body: str, author_role: str, effective_at: datetime,
                   actor: str) -> None:
        self.comments.append({"body": body, "author_role": author_role, "actor": actor,
                              "effective_at": effective_at})
        self._advance("comment", max(effective_at, self.effective_at))

    @event("NoticeSent")
    def _notice_sent(self, body: str, wards: list[str], department: str | None,
                     effective_at: datetime, actor: str) -> None:
        self.notices.append({"body": body, "wards": list(wards), "department": department,
                             "effective_at": effective_at})
        self._advance("notice", max(effective_at, self.effective_at))

    def _note_final(self, at: datetime) -> None:
        if self.status in FINAL:
            self.final_at = at

    def _cancel_clocks(self, at: datetime) -> None:
        self.cancelled_at = at

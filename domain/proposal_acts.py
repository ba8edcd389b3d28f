"""How each act on a proposal is carried out, one handler per command class.

A handler calls the proposal's method and moves along whatever else the act
touches (needs joining or leaving, the proposal it is merged into); the
application saves them all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from domain.base import TrackedAggregate
from domain.commands import Command, Feedback
from domain.need import Need
from domain.permissions import Actor
from domain.proposal import Proposal
from domain.proposal_commands import (
    AmendProposal,
    Comment,
    Evaluate,
    MergeProposal,
    Notice,
    RequestInfo,
    Withdraw,
)
from domain.reference import CityData
from domain.states import NeedStatus


class ProposalActs:
    """The proposal half of the application's use cases (mixed into `Tsunagi`)."""

    if TYPE_CHECKING:  # provided by the application
        city: CityData
        def get_need(self, need_id: UUID) -> Need: ...
        def get_proposal(self, proposal_id: UUID) -> Proposal: ...
        def _proposable_needs(self, ward: str, need_ids: Any) -> list[Need]: ...
        @staticmethod
        def _check_lead(lead: str, co: Any) -> None: ...

    def _act_alone(self, proposal: Proposal, command: Command, when: datetime,
                   actor: Actor) -> list[TrackedAggregate]:
        """Acts that change the proposal alone: its method of the same name."""
        method = getattr(proposal, _PROPOSAL_METHODS[command.action])
        method(effective_at=when, actor=actor.id, **command.fields())
        return []

    def _amend(self, proposal: Proposal, command: Command, when: datetime,
               actor: Actor) -> list[TrackedAggregate]:
        assert isinstance(command, AmendProposal)
        return self._amend_draft(proposal, dict(command.changes), when, actor.id)

    def _merge(self, proposal: Proposal, command: Command, when: datetime,
               actor: Actor) -> list[TrackedAggregate]:
        assert isinstance(command, MergeProposal)
        into = self.get_proposal(command.into)
        needs = [self.get_need(n) for n in proposal.needs]
        proposal.merge_into(into, reason=command.reason, effective_at=when, actor=actor.id)
        into.absorb(proposal.id, [n.id for n in needs],
                    effective_at=max(when, into.effective_at), actor=actor.id)
        for need in needs:
            if need.status == NeedStatus.PROPOSED:
                need.follow_proposal(into.id, effective_at=max(when, need.effective_at),
                                     actor=actor.id)
        return [into, *needs]

    def _withdraw(self, proposal: Proposal, command: Command, when: datetime,
                  actor: Actor) -> list[TrackedAggregate]:
        assert isinstance(command, Withdraw)
        needs = [self.get_need(n) for n in proposal.needs]
        proposal.withdraw(effective_at=when, actor=actor.id, **command.fields())
        if not command.return_needs:
            return []
        for need in needs:
            need.return_to_triage(effective_at=max(when, need.effective_at), actor=actor.id)
        return list(needs)

    def _feedback(self, proposal: Proposal, command: Command, when: datetime,
                  actor: Actor) -> list[TrackedAggregate]:
        proposal.record_feedback(effective_at=when, actor=actor.id, **command.fields())
        if not proposal.closed_for_originators:
            return []
        return list(self._close_needs(proposal, when, actor.id))

    def _request_info(self, proposal: Proposal, command: Command, when: datetime,
                      actor: Actor) -> list[TrackedAggregate]:
        assert isinstance(command, RequestInfo)
        asking = (actor.department if actor.is_reviewer_of(*proposal.co_departments)
                  else proposal.lead_department)
        proposal.request_info(command.question, asking, effective_at=when, actor=actor.id)
        return []

    def _comment(self, proposal: Proposal, command: Command, when: datetime,
                 actor: Actor) -> list[TrackedAggregate]:
        assert isinstance(command, Comment)
        proposal.comment(command.body, actor.role.value, effective_at=when, actor=actor.id)
        return []

    def _notice(self, proposal: Proposal, command: Command, when: datetime,
                actor: Actor) -> list[TrackedAggregate]:
        assert isinstance(command, Notice)
        proposal.send_notice(command.body, list(command.wards), actor.department,
                             effective_at=when, actor=actor.id)
        return []

    def _evaluate(self, proposal: Proposal, command: Command, when: datetime,
                  actor: Actor) -> list[TrackedAggregate]:
        assert isinstance(command, Evaluate)
        values: dict[str, float] = {}
        for name, value in (command.indicators or {}).items():
            indicator = self.city.indicator(name)
            assert indicator is not None  # admitted: every name is a declared indicator
            values[name] = indicator.check_value(value, f"indicators.{name}")
        proposal.evaluate(command.satisfaction, values if command.indicators is not None
                          else None, command.note, effective_at=when, actor=actor.id)
        return []

    _PROPOSAL_ACTS: ClassVar[dict[type[Command], Callable[..., list[TrackedAggregate]]]] = {
        AmendProposal: _amend, MergeProposal: _merge, Withdraw: _withdraw,
        Feedback: _feedback, RequestInfo: _request_info, Comment: _comment, Notice: _notice,
        Evaluate: _evaluate,
    }

    def _amend_draft(self, proposal: Proposal, changes: dict[str, Any], when: datetime,
                     by: str) -> list[TrackedAggregate]:
        proposal.check_allowed("amend")  # before its needs are touched: the proposal's refusal
        self._check_lead(changes.get("lead_department", proposal.lead_department),
                         changes.get("co_departments", proposal.co_departments))
        touched: list[TrackedAggregate] = []
        if "needs" in changes:
            wanted = list(changes["needs"])
            joining = self._proposable_needs(proposal.ward,
                                             [n for n in wanted if n not in proposal.needs])
            leaving = [self.get_need(n) for n in proposal.needs if n not in wanted]
            for need in joining:
                need.check_effective_at(when)
                need.join_proposal(proposal.id, effective_at=when, actor=by)
            for need in leaving:
                need.return_to_triage(effective_at=max(when, need.effective_at), actor=by)
            changes = {**changes, "needs": wanted}
            touched = [*joining, *leaving]
        proposal.amend(changes, effective_at=when, actor=by)
        return touched

    def _close_needs(self, proposal: Proposal, when: datetime, by: str) -> list[Need]:
        needs = [self.get_need(n) for n in proposal.needs]
        closing = [n for n in needs if n.status == NeedStatus.PROPOSED]
        for need in closing:
            need.close_with_proposal(effective_at=max(when, need.effective_at), actor=by)
        return closing



_PROPOSAL_METHODS = {
    "submit": "submit", "acknowledge": "acknowledge", "provide-info": "provide_info",
    "start-review": "start_review", "decide": "decide", "request-budget": "request_budget",
    "record-budget": "record_budget", "start-implementation": "start_implementation",
    "complete": "complete", "evaluate": "evaluate", "transfer": "transfer",
}

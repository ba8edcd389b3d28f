"""The community need (地域ニーズ): heard in the field, triaged, then proposed or closed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import event

from domain.base import TrackedAggregate
from domain.commands import NEED_AMENDABLE, Channel, Source, Urgency
from domain.errors import InvalidCommand, MergeTargetInvalid
from domain.states import NEED_TRANSITIONS, NeedStatus

SOURCES = tuple(s.value for s in Source)
URGENCIES = tuple(u.value for u in Urgency)
FEEDBACK_CHANNELS = tuple(c.value for c in Channel)
#: fields a need's `amend` may change
AMENDABLE = NEED_AMENDABLE


class Need(TrackedAggregate):
    """A need or issue heard in the community, and what became of it."""

    transitions: ClassVar = NEED_TRANSITIONS
    label_ja: ClassVar[str] = "ニーズ"

    @event("Recorded")
    def __init__(
        self,
        id: UUID,  # the library takes the aggregate id by this name
        city: str,
        ward: str,
        office: str,
        school_district: str | None,
        source: str,
        policy_area: str,
        title: str,
        description: str,
        observed_on: date,
        residents_affected: int | None,
        urgency: str,
        location: dict[str, Any] | None,
        plan_goals: list[str],
        reporter_ref: str | None,
        effective_at: datetime,
        actor: str,
    ) -> None:
        self.city = city
        self.ward = ward
        self.office = office
        self.school_district = school_district
        self.source = source
        self.policy_area = policy_area
        self.title = title
        self.description = description
        self.observed_on = observed_on
        self.residents_affected = residents_affected
        self.urgency = urgency
        self.location = location
        self.plan_goals = list(plan_goals)
        self.reporter_ref = reporter_ref
        self.recorded_by = actor
        self.first_effective_at = effective_at
        self.status = NeedStatus.RECORDED.value
        self.proposal: UUID | None = None
        self.merged_into: UUID | None = None
        self.note: str | None = None
        self.feedback: list[dict[str, Any]] = []
        self.closed_at: datetime | None = None
        self._moved(effective_at, None)

    # ── commands: check the rules, then trigger the event ──────────────────

    def amend(self, changes: dict[str, Any], effective_at: datetime, actor: str) -> None:
        """Correct what was recorded, while the need is still with the ward."""
        self._require("amend")
        unknown = sorted(set(changes) - set(AMENDABLE))
        if unknown:
            raise InvalidCommand(unknown[0], "not_amendable", amendable=list(AMENDABLE))
        self._amended(changes=changes, effective_at=effective_at, actor=actor)

    def triage(self, policy_area: str | None, urgency: str | None, note: str | None,
               effective_at: datetime, actor: str) -> None:
        """Accept the need for handling, optionally re-classifying it."""
        self._require("triage")
        self._triaged(policy_area=policy_area, urgency=urgency, note=note,
                      effective_at=effective_at, actor=actor)

    def resolve_locally(self, note: str, effective_at: datetime, actor: str) -> None:
        """The ward dealt with it itself."""
        self._require("resolve-locally")
        self._resolved_locally(note=note, effective_at=effective_at, actor=actor)

    def decline(self, reason: str, effective_at: datetime, actor: str) -> None:
        """The ward will not take it further, for a stated reason."""
        self._require("decline")
        self._declined(reason=reason, effective_at=effective_at, actor=actor)

    def merge_into(self, into: Need, effective_at: datetime, actor: str) -> None:
        """The same need was heard twice: keep the other one."""
        self._require("merge")
        if into.id == self.id:
            raise MergeTargetInvalid("need", "self")
        if into.ward != self.ward:
            raise MergeTargetInvalid("need", "other_ward", ward=into.ward)
        if into.status in (NeedStatus.MERGED, NeedStatus.CLOSED):
            raise MergeTargetInvalid("need", "target_closed", status=into.status)
        self._merged(into=into.id, effective_at=effective_at, actor=actor)

    def record_feedback(self, message: str, channel: str, delivered_on: date,
                        effective_at: datetime, actor: str) -> None:
        """Tell the originators what became of their need; closes it."""
        self._require("feedback")
        self._feedback_recorded(message=message, channel=channel, delivered_on=delivered_on,
                                effective_at=effective_at, actor=actor)

    def join_proposal(self, proposal_id: UUID, effective_at: datetime, actor: str) -> None:
        """A proposal took this need in."""
        self._require("propose")
        self._proposed(proposal=proposal_id, effective_at=effective_at, actor=actor)

    def return_to_triage(self, effective_at: datetime, actor: str) -> None:
        """Its proposal let it go (amended, withdrawn or merged): back with the ward."""
        self._require("return-to-triage")
        self._returned_to_triage(effective_at=effective_at, actor=actor)

    def follow_proposal(self, proposal_id: UUID, effective_at: datetime, actor: str) -> None:
        """Its proposal was merged into another one, which now carries it."""
        self._require("follow-proposal")
        self._moved_to_proposal(proposal=proposal_id, effective_at=effective_at, actor=actor)

    def close_with_proposal(self, effective_at: datetime, actor: str) -> None:
        """Its proposal's outcome reached the originators."""
        self._require("close-with-proposal")
        self._closed_with_proposal(effective_at=effective_at, actor=actor)

    def erase_personal_data(self, effective_at: datetime, actor: str) -> None:
        """Forget the reporter: the reference goes, the need stays."""
        self._personal_data_erased(effective_at=effective_at, actor=actor)

    # ── events: apply only, never refuse (they also run on replay) ─────────

    @event("Amended")
    def _amended(self, changes: dict[str, Any], effective_at: datetime, actor: str) -> None:
        for name, value in changes.items():
            setattr(self, name, list(value) if name == "plan_goals" else value)
        self._advance("amend", effective_at)

    @event("Triaged")
    def _triaged(self, policy_area: str | None, urgency: str | None, note: str | None,
                 effective_at: datetime, actor: str) -> None:
        if policy_area is not None:
            self.policy_area = policy_area
        if urgency is not None:
            self.urgency = urgency
        self.note = note
        self._advance("triage", effective_at)

    @event("ResolvedLocally")
    def _resolved_locally(self, note: str, effective_at: datetime, actor: str) -> None:
        self.note = note
        self._advance("resolve-locally", effective_at)

    @event("Declined")
    def _declined(self, reason: str, effective_at: datetime, actor: str) -> None:
        self.note = reason
        self._advance("decline", effective_at)

    @event("Merged")
    def _merged(self, into: UUID, effective_at: datetime, actor: str) -> None:
        self.merged_into = into
        self._advance("merge", effective_at)

    @event("FeedbackRecorded")
    def _feedback_recorded(self, message: str, channel: str, delivered_on: date,
                           effective_at: datetime, actor: str) -> None:
        self.feedback.append({"message": message, "channel": channel,
                              "delivered_on": delivered_on, "effective_at": effective_at})
        self.closed_at = effective_at
        self._advance("feedback", effective_at)

    @event("Proposed")
    def _proposed(self, proposal: UUID, effective_at: datetime, actor: str) -> None:
        self.proposal = proposal
        self._advance("propose", effective_at)

    @event("ReturnedToTriage")
    def _returned_to_triage(self, effective_at: datetime, actor: str) -> None:
        self.proposal = None
        self._advance("return-to-triage", effective_at)

    @event("MovedToProposal")
    def _moved_to_proposal(self, proposal: UUID, effective_at: datetime, actor: str) -> None:
        self.proposal = proposal
        self._advance("follow-proposal", effective_at)

    @event("ClosedWithProposal")
    def _closed_with_proposal(self, effective_at: datetime, actor: str) -> None:
        self.closed_at = effective_at
        self._advance("close-with-proposal", effective_at)

    @event("PersonalDataErased")
    def _personal_data_erased(self, effective_at: datetime, actor: str) -> None:
        self.reporter_ref = None
        # Erasure is an administrative act: it does not move the business timeline.

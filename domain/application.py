"""The Tsunagi application: one event-sourced log for needs and proposals.

Each command method loads, checks permission, acts and saves; several aggregates
touched by one act (a proposal and its needs) are saved in one transaction, so
the log never shows half an act. Persistence is chosen by configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding

from domain.base import Outcome, TrackedAggregate
from domain.calendar import BusinessCalendar, date_jst
from domain.commands import (
    NEED_COMMANDS,
    AmendNeed,
    Command,
    MergeNeed,
    RecordNeed,
    Reporter,
    command_for,
)
from domain.errors import (
    ConcurrentChange,
    EffectiveAtInFuture,
    InvalidCommand,
    NeedNotFound,
    NeedNotProposable,
    NotFound,
    OfficeNotInWard,
    ProposalNotFound,
    UnknownReference,
    VersionMismatch,
)
from domain.need import Need
from domain.observation_acts import ObservationActs
from domain.permissions import NEED_RULES, PROPOSAL_RULES, Actor, Scope, permits, require
from domain.ports import Clock, PersonalDataVault
from domain.proposal import Proposal
from domain.proposal_acts import ProposalActs
from domain.proposal_commands import (
    PROPOSAL_COMMANDS,
    Comment,
    DraftProposal,
    Notice,
)
from domain.reference import CityData
from domain.states import NeedStatus

A = TypeVar("A", bound=TrackedAggregate)
T = TypeVar("T")
C = TypeVar("C", bound=Command)


class DateAsISO(Transcoding):
    """Stores `datetime.date` as an ISO string (the library's JSON lacks it)."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


@dataclass(frozen=True)
class HistoryEntry:
    """One event of an aggregate's history, for people to read."""

    type: str
    version: int
    effective_at: datetime | None
    recorded_at: datetime
    actor: str | None
    data: dict[str, Any]


def utc_now() -> datetime:
    """The current instant in UTC."""
    return datetime.now(UTC)


def event_type_name(event: object) -> str:
    """`Need.Recorded` → `NeedRecorded`: the catalogue's PascalCase name."""
    return type(event).__qualname__.replace(".", "")


class Tsunagi(ProposalActs, ObservationActs, Application[UUID]):
    """Needs and proposals of one city, with their use cases."""

    name = "Tsunagi"
    _RACE_RETRIES = 5

    def __init__(self, city: CityData, vault: PersonalDataVault,
                 calendar: BusinessCalendar, clock: Clock = utc_now,
                 env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self.city = city
        self.vault = vault
        self.calendar = calendar
        self.clock = clock

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """Add `date` to the library's transcodings."""
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # ── reading ───────────────────────────────────────────────────────────

    def get_need(self, need_id: UUID) -> Need:
        """The need as it stands, or `NeedNotFound`."""
        return self._load(Need, need_id)

    def get_proposal(self, proposal_id: UUID) -> Proposal:
        """The proposal as it stands, or `ProposalNotFound`."""
        return self._load(Proposal, proposal_id)

    def history(self, aggregate_id: UUID) -> list[HistoryEntry]:
        """Every event of one aggregate, oldest first."""
        hidden = {"originator_id", "originator_version", "timestamp", "originator_topic",
                  "effective_at", "actor", "id"}
        return [
            HistoryEntry(
                type=event_type_name(e), version=e.originator_version,
                effective_at=getattr(e, "effective_at", None),
                recorded_at=e.timestamp,  # type: ignore[attr-defined]
                actor=getattr(e, "actor", None),
                data={k: v for k, v in e.__dict__.items() if k not in hidden},
            )
            for e in self.events.get(aggregate_id)
        ]

    def read_personal_data(self, actor: Actor, need: Need) -> dict[str, str] | None:
        """The reporter's data if the actor may see it (the read is recorded), else None."""
        if need.reporter_ref is None:
            return None
        if not permits(actor, NEED_RULES["read-personal-data"], self._need_scope(need)):
            return None
        return self.vault.get(need.reporter_ref, reader=actor.id)

    def permitted_actions(self, actor: Actor, aggregate: Need | Proposal) -> list[str]:
        """The actions allowed now that this actor may take (not only what the status allows)."""
        if isinstance(aggregate, Need):
            scope, rules = self._need_scope(aggregate), NEED_RULES
        else:
            scope = Scope(ward=aggregate.ward, lead=aggregate.lead_department,
                          co=tuple(aggregate.co_departments))
            rules = PROPOSAL_RULES
        return [a for a in aggregate.allowed_actions() if permits(actor, rules[a], scope)]

    def position(self) -> int:
        """The position of the newest event in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    # ── needs ─────────────────────────────────────────────────────────────

    def record_need(self, actor: Actor, command: RecordNeed | Mapping[str, Any],
                    reporter: Mapping[str, Any] | None = None, need_id: UUID | None = None,
                    effective_at: datetime | None = None) -> Outcome[Need]:
        """Record a need heard at an office (its reporter's data goes to the vault).

        `command` may also be the need's fields by their API names (with `reporter`
        and `effective_at` beside them), as the demo and the tests write them.
        """
        if not isinstance(command, RecordNeed):
            command = _record_need(command, reporter, effective_at)
        need_id = need_id or Need.create_id()
        if need_id in self.repository:  # a retry after a crash: the need is already there
            return Outcome(self.get_need(need_id), self.position())
        require(actor, NEED_RULES, "record", Scope(ward=command.ward, office=command.office))
        self._admit(command)
        office_ref = self.city.office(command.office)
        if office_ref is not None and office_ref.ward != command.ward:
            raise OfficeNotInWard(command.office, command.ward)
        self._check_district(command.school_district, command.ward)
        when = self._when(command.effective_at)
        reporter_ref = None
        personal = command.reporter.as_dict() if command.reporter else {}
        if personal:
            # Personal data is stored first, under a reference derived from the need id,
            # so a retried request overwrites it instead of leaving an orphan.
            reporter_ref = str(uuid5(need_id, "reporter"))
            self.vault.put(reporter_ref, personal)
        need = Need(id=need_id, city=self.city.id, reporter_ref=reporter_ref,
                    effective_at=when, actor=actor.id, **command.fields())
        try:
            return self._save(need)
        except ConcurrentChange:
            if need_id in self.repository:  # an identical twin (same key) won the race
                return Outcome(self.get_need(need_id), self.position())
            raise

    def act_on_need(self, actor: Actor, need_id: UUID, action: str,
                    expected_version: int | None = None, effective_at: datetime | None = None,
                    **body: Any) -> Outcome[Need]:
        """Carry out one of a need's actions by name (`triage`, `decline`, …) with its body."""
        command = command_for(NEED_COMMANDS, action, effective_at=effective_at, **body)
        return self.execute_on_need(actor, need_id, command, expected_version)

    def execute_on_need(self, actor: Actor, need_id: UUID, command: Command,
                        expected_version: int | None = None) -> Outcome[Need]:
        """Load the need, check who may act and what the command names, act, save."""
        need = self._load(Need, need_id, expected_version)
        require(actor, NEED_RULES, command.action, self._need_scope(need))
        self._admit(command)
        when = self._when(command.effective_at, need)
        if isinstance(command, MergeNeed):
            need.merge_into(self.get_need(command.into), effective_at=when, actor=actor.id)
            return self._save(need)
        if isinstance(command, AmendNeed):
            self._check_district(command.changes.get("school_district"), need.ward)
        method: Callable[..., None] = getattr(need, _NEED_METHODS[command.action])
        method(**command.fields(), effective_at=when, actor=actor.id)
        return self._save(need)

    def erase_personal_data(self, actor: Actor, need_id: UUID) -> Outcome[Need]:
        """Delete the reporter's data for good; the need and its history stay."""
        need = self.get_need(need_id)
        require(actor, NEED_RULES, "erase-personal-data", self._need_scope(need))
        if need.reporter_ref is None:
            return Outcome(need, self.position())  # nothing left to erase: no new event
        self.vault.erase(need.reporter_ref)
        need.erase_personal_data(effective_at=need.effective_at, actor=actor.id)
        return self._save(need)

    # ── proposals ─────────────────────────────────────────────────────────

    def create_proposal(self, actor: Actor, command: DraftProposal | Mapping[str, Any],
                        proposal_id: UUID | None = None,
                        effective_at: datetime | None = None) -> Outcome[Proposal]:
        """Draft a proposal from triaged needs of the ward (or from its fields by name)."""
        if not isinstance(command, DraftProposal):
            command = _from_fields(DraftProposal, command, effective_at)
        proposal_id = proposal_id or Proposal.create_id()
        if proposal_id in self.repository:
            return Outcome(self.get_proposal(proposal_id), self.position())
        require(actor, PROPOSAL_RULES, "create", Scope(ward=command.ward))
        self._admit(command)
        self._check_lead(command.lead_department, command.co_departments)
        when = self._when(command.effective_at)
        try:
            return self._draft(actor, command, proposal_id, when)
        except (ConcurrentChange, NeedNotProposable):
            if proposal_id in self.repository:  # an identical twin (same key) won the race
                return Outcome(self.get_proposal(proposal_id), self.position())
            raise

    def _draft(self, actor: Actor, command: DraftProposal, proposal_id: UUID,
               when: datetime) -> Outcome[Proposal]:
        needs = self._proposable_needs(command.ward, command.needs)
        fields = {**command.fields(), "needs": [n.id for n in needs]}
        proposal = Proposal(id=proposal_id, city=self.city.id, effective_at=when,
                            actor=actor.id, **fields)
        for need in needs:
            need.check_effective_at(when)
            need.join_proposal(proposal.id, effective_at=when, actor=actor.id)
        return self._save(proposal, *needs)

    def act_on_proposal(self, actor: Actor, proposal_id: UUID, action: str,
                        expected_version: int | None = None,
                        effective_at: datetime | None = None,
                        **body: Any) -> Outcome[Proposal]:
        """Carry out one of a proposal's actions by name with its body."""
        command = command_for(PROPOSAL_COMMANDS, action, effective_at=effective_at, **body)
        return self.execute_on_proposal(actor, proposal_id, command, expected_version)

    def execute_on_proposal(self, actor: Actor, proposal_id: UUID, command: Command,
                            expected_version: int | None = None) -> Outcome[Proposal]:
        """Load the proposal, check, act, save.

        `comment` and `notice` do not depend on the state, so a lost race is retried.
        """
        retries = self._RACE_RETRIES if isinstance(command, Comment | Notice) else 1
        for attempt in range(retries):
            try:
                return self._act_on_proposal(actor, proposal_id, command, expected_version)
            except ConcurrentChange:
                if attempt == retries - 1:
                    raise
        raise AssertionError("unreachable")

    def _act_on_proposal(self, actor: Actor, proposal_id: UUID, command: Command,
                         expected_version: int | None) -> Outcome[Proposal]:
        proposal = self._load(Proposal, proposal_id, expected_version)
        scope = Scope(ward=proposal.ward, lead=proposal.lead_department,
                      co=tuple(proposal.co_departments))
        require(actor, PROPOSAL_RULES, command.action, scope)
        self._admit(command)
        when = self._when(command.effective_at, proposal)
        act = self._PROPOSAL_ACTS.get(type(command), ProposalActs._act_alone)
        touched = act(self, proposal, command, when, actor)
        return self._save(proposal, *touched)

    # ── helpers ───────────────────────────────────────────────────────────

    def _load(self, cls: type[A], aggregate_id: UUID, expected_version: int | None = None) -> A:
        aggregate: object
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            aggregate = None
        if not isinstance(aggregate, cls):
            error = {Need: NeedNotFound, Proposal: ProposalNotFound}.get(cls)
            raise error(str(aggregate_id)) if error else NotFound(cls.__name__.lower(),
                                                                  str(aggregate_id))
        if expected_version is not None and aggregate.version != expected_version:
            raise VersionMismatch(cls.__name__.lower(), expected_version, aggregate.version)
        return aggregate

    def _save(self, primary: A, *others: TrackedAggregate) -> Outcome[A]:
        try:
            recordings = self.save(primary, *others)
        except IntegrityError as exc:
            raise ConcurrentChange() from exc
        position = max((r.notification.id for r in recordings), default=self.position())
        return Outcome(primary, position)

    def _when(self, effective_at: datetime | None,
              aggregate: TrackedAggregate | None = None) -> datetime:
        now = self.clock()
        when = effective_at if effective_at is not None else now
        if when > now:
            raise EffectiveAtInFuture(when.isoformat())
        if aggregate is not None:
            if effective_at is None and when < aggregate.effective_at:
                when = aggregate.effective_at  # a later back-dated act must not reorder now
            aggregate.check_effective_at(when)
        return when

    def _admit(self, command: Command) -> None:
        """What a command names exists in the city's data; what it dates has happened."""
        for kind, ref, field in command.references():
            self._ref(kind, ref, field)
        today = date_jst(self.clock())
        for field, day in command.past_days():
            if day > today:
                raise InvalidCommand(field, "future_date", value=day.isoformat(),
                                     today=today.isoformat())

    def _proposable_needs(self, ward: str, need_ids: Iterable[UUID]) -> list[Need]:
        needs = []
        for need_id in dict.fromkeys(need_ids):
            need = self.get_need(need_id)
            if need.ward != ward:
                raise NeedNotProposable(str(need_id), "other_ward", ward=need.ward)
            if need.status != NeedStatus.TRIAGED:
                raise NeedNotProposable(str(need_id), "not_triaged", status=need.status)
            needs.append(need)
        return needs

    def _need_scope(self, need: Need) -> Scope:
        return Scope(ward=need.ward, office=need.office)

    def _check_district(self, district_id: str | None, ward: str) -> None:
        """The school district lies in the need's ward."""
        district = self.city.school_district(district_id or "")
        if district is not None and district.ward != ward:
            raise InvalidCommand("school_district", "district_not_in_ward",
                                 district=district.id, ward=ward)

    @staticmethod
    def _check_lead(lead: str, co: Iterable[str]) -> None:
        """The lead division is not also a co-division."""
        if lead in co:
            raise InvalidCommand("co_departments", "lead_is_co", department=lead)

    def _ref(self, kind: str, ref: str, field: str) -> None:
        if getattr(self.city, kind)(ref) is None:
            raise UnknownReference(kind, ref, field)


def _from_fields(cls: type[C], fields: Mapping[str, Any],
                 effective_at: datetime | None) -> C:
    """A creation command from fields named as in the API (unknown names are refused)."""
    command = command_for({"create": cls}, "create", effective_at=effective_at, **fields)
    assert isinstance(command, cls)
    return command


def _record_need(fields: Mapping[str, Any], reporter: Mapping[str, Any] | None,
                 effective_at: datetime | None) -> RecordNeed:
    body = dict(fields)
    given = reporter if reporter is not None else body.pop("reporter", None)
    if given is not None:
        body["reporter"] = given if isinstance(given, Reporter) else Reporter(**given)
    return _from_fields(RecordNeed, body, effective_at)


_NEED_METHODS = {
    "amend": "amend", "triage": "triage", "resolve-locally": "resolve_locally",
    "decline": "decline", "feedback": "record_feedback",
}

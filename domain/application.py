"""The Tsunagi application: one event-sourced log for needs and proposals.

Each command method loads, checks permission, acts and saves; several aggregates
touched by one act (a proposal and its needs) are saved in one transaction, so
the log never shows half an act. Persistence is chosen by configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding

from domain.base import TrackedAggregate
from domain.calendar import BusinessCalendar
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
from domain.permissions import NEED_RULES, PROPOSAL_RULES, Actor, Scope, permits, require
from domain.ports import Clock, PersonalDataVault
from domain.proposal import Proposal
from domain.reference import CityData
from domain.states import NeedStatus

#: acts before this year are refused (the holiday calendar and the city's records start later)
EARLIEST_YEAR = 2000
A = TypeVar("A", bound=TrackedAggregate)
T = TypeVar("T")


class DateAsISO(Transcoding):
    """Stores `datetime.date` as an ISO string (the library's JSON lacks it)."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a command returns: the aggregate as it now stands, and the log position."""

    aggregate: T
    position: int


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


class Tsunagi(Application[UUID]):
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

    def position(self) -> int:
        """The position of the newest event in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    # ── needs ─────────────────────────────────────────────────────────────

    def record_need(self, actor: Actor, fields: dict[str, Any],
                    reporter: dict[str, str] | None = None, need_id: UUID | None = None,
                    effective_at: datetime | None = None) -> Outcome[Need]:
        """Record a need heard at an office (its reporter's data goes to the vault)."""
        need_id = need_id or Need.create_id()
        if need_id in self.repository:  # a retry after a crash: the need is already there
            return Outcome(self.get_need(need_id), self.position())
        ward, office = fields["ward"], fields["office"]
        self._check_refs(fields, ward=ward)
        office_ref = self.city.office(office)
        if office_ref is not None and office_ref.ward != ward:
            raise OfficeNotInWard(f"窓口 '{office}' は {ward} 区に属していません"
                                  f" (office {office} is not in ward {ward})")
        require(actor, NEED_RULES, "record", Scope(ward=ward, office=office))
        when = self._when(effective_at)
        reporter_ref = None
        if reporter:
            # Personal data is stored first, under a reference derived from the need id,
            # so a retried request overwrites it instead of leaving an orphan.
            reporter_ref = str(uuid5(need_id, "reporter"))
            self.vault.put(reporter_ref, reporter)
        need = Need(id=need_id, city=self.city.id, reporter_ref=reporter_ref,
                    effective_at=when, actor=actor.id,
                    **{"school_district": None, "residents_affected": None,
                       "urgency": "normal", "location": None, "plan_goals": [], **fields})
        try:
            return self._save(need)
        except ConcurrentChange:
            if need_id in self.repository:  # an identical twin (same key) won the race
                return Outcome(self.get_need(need_id), self.position())
            raise

    def act_on_need(self, actor: Actor, need_id: UUID, action: str,
                    expected_version: int | None = None, effective_at: datetime | None = None,
                    **body: Any) -> Outcome[Need]:
        """Carry out one of a need's actions (`triage`, `decline`, …) with its body."""
        need = self._load(Need, need_id, expected_version)
        require(actor, NEED_RULES, action, self._need_scope(need))
        when = self._when(effective_at, need)
        if action == "merge":
            into = self.get_need(body["into"])
            need.merge_into(into, effective_at=when, actor=actor.id)
            return self._save(need)
        if action in ("amend", "triage"):
            self._check_refs(body.get("changes", body), ward=need.ward)
        method: Callable[..., None] = getattr(need, _NEED_METHODS[action])
        method(**body, effective_at=when, actor=actor.id)
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

    def create_proposal(self, actor: Actor, fields: dict[str, Any],
                        proposal_id: UUID | None = None,
                        effective_at: datetime | None = None) -> Outcome[Proposal]:
        """Draft a proposal from triaged needs of the ward."""
        proposal_id = proposal_id or Proposal.create_id()
        if proposal_id in self.repository:
            return Outcome(self.get_proposal(proposal_id), self.position())
        self._check_refs(fields, lead=fields["lead_department"],
                         co=fields.get("co_departments", []))
        require(actor, PROPOSAL_RULES, "create", Scope(ward=fields["ward"]))
        when = self._when(effective_at)
        try:
            return self._draft(actor, fields, proposal_id, when)
        except (ConcurrentChange, NeedNotProposable):
            if proposal_id in self.repository:  # an identical twin (same key) won the race
                return Outcome(self.get_proposal(proposal_id), self.position())
            raise

    def _draft(self, actor: Actor, fields: dict[str, Any], proposal_id: UUID,
               when: datetime) -> Outcome[Proposal]:
        needs = self._proposable_needs(fields["ward"], fields.get("needs", []))
        proposal = Proposal(id=proposal_id, city=self.city.id, effective_at=when,
                            actor=actor.id,
                            **{"co_departments": [], "estimated_cost_jpy": None,
                               "plan_goals": [], "summary": "", **fields,
                               "needs": [n.id for n in needs]})
        for need in needs:
            need.check_effective_at(when)
            need.join_proposal(proposal.id, effective_at=when, actor=actor.id)
        return self._save(proposal, *needs)

    def act_on_proposal(self, actor: Actor, proposal_id: UUID, action: str,
                        expected_version: int | None = None,
                        effective_at: datetime | None = None,
                        **body: Any) -> Outcome[Proposal]:
        """Carry out one of a proposal's actions with its body.

        `comment` and `notice` do not depend on the state, so a lost race is retried.
        """
        retries = self._RACE_RETRIES if action in ("comment", "notice") else 1
        for attempt in range(retries):
            try:
                return self._act_on_proposal(actor, proposal_id, action, expected_version,
                                             effective_at, body)
            except ConcurrentChange:
                if attempt == retries - 1:
                    raise
        raise AssertionError("unreachable")

    def _act_on_proposal(self, actor: Actor, proposal_id: UUID, action: str,
                         expected_version: int | None, effective_at: datetime | None,
                         body: dict[str, Any]) -> Outcome[Proposal]:
        proposal = self._load(Proposal, proposal_id, expected_version)
        scope = Scope(ward=proposal.ward, lead=proposal.lead_department,
                      co=tuple(proposal.co_departments))
        require(actor, PROPOSAL_RULES, action, scope)
        when = self._when(effective_at, proposal)
        by = actor.id
        touched: list[TrackedAggregate] = []
        if action == "amend":
            touched = self._amend_draft(proposal, body["changes"], when, by)
        elif action == "merge":
            into = self.get_proposal(body["into"])
            needs = [self.get_need(n) for n in proposal.needs]
            proposal.merge_into(into, reason=body["reason"], effective_at=when, actor=by)
            into.absorb(proposal.id, [n.id for n in needs],
                        effective_at=max(when, into.effective_at), actor=by)
            for need in needs:
                if need.status == NeedStatus.PROPOSED:
                    need.follow_proposal(into.id, effective_at=max(when, need.effective_at),
                                         actor=by)
            touched = [into, *needs]
        elif action == "withdraw":
            needs = [self.get_need(n) for n in proposal.needs]
            proposal.withdraw(effective_at=when, actor=by, **body)
            if body.get("return_needs"):
                for need in needs:
                    need.return_to_triage(effective_at=max(when, need.effective_at), actor=by)
                touched = list(needs)
        elif action == "feedback":
            proposal.record_feedback(effective_at=when, actor=by, **body)
            if proposal.closed_for_originators:
                touched = list(self._close_needs(proposal, when, by))
        elif action == "transfer":
            self._ref("department", body["to_department"], "to_department")
            proposal.transfer(effective_at=when, actor=by, **body)
        elif action == "request-info":
            dept = actor.department if actor.is_reviewer_of(*scope.co) else scope.lead
            proposal.request_info(body["question"], dept, effective_at=when, actor=by)
        elif action == "comment":
            proposal.comment(body["body"], actor.role.value, effective_at=when, actor=by)
        elif action == "notice":
            for ward in body["wards"]:
                self._ref("ward", ward, "wards")
            proposal.send_notice(body["body"], list(body["wards"]), actor.department,
                                 effective_at=when, actor=by)
        else:
            getattr(proposal, _PROPOSAL_METHODS[action])(effective_at=when, actor=by, **body)
        return self._save(proposal, *touched)

    def _amend_draft(self, proposal: Proposal, changes: dict[str, Any], when: datetime,
                     by: str) -> list[TrackedAggregate]:
        self._check_refs(changes, lead=changes.get("lead_department", proposal.lead_department),
                         co=changes.get("co_departments", proposal.co_departments))
        touched: list[TrackedAggregate] = []
        if "needs" in changes:
            wanted = list(dict.fromkeys(changes["needs"]))
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

    # ── helpers ───────────────────────────────────────────────────────────

    def _load(self, cls: type[A], aggregate_id: UUID, expected_version: int | None = None) -> A:
        aggregate: object
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            aggregate = None
        if not isinstance(aggregate, cls):
            error = {Need: NeedNotFound, Proposal: ProposalNotFound}.get(cls, NotFound)
            raise error(f"{cls.label_ja} {aggregate_id} は見つかりません"
                        f" ({cls.__name__.lower()} {aggregate_id} not found)")
        if expected_version is not None and aggregate.version != expected_version:
            raise VersionMismatch(
                f"この{cls.label_ja}は版 {expected_version} から {aggregate.version} に"
                f"更新されています (it changed from version {expected_version}"
                f" to {aggregate.version})")
        return aggregate

    def _save(self, primary: A, *others: TrackedAggregate) -> Outcome[A]:
        try:
            recordings = self.save(primary, *others)
        except IntegrityError as exc:
            raise ConcurrentChange(
                "他の人が同時に更新しました。最新の内容を読み直してください"
                " (someone changed this record at the same moment; reload and retry)"
            ) from exc
        position = max((r.notification.id for r in recordings), default=self.position())
        return Outcome(primary, position)

    def _when(self, effective_at: datetime | None,
              aggregate: TrackedAggregate | None = None) -> datetime:
        now = self.clock()
        when = effective_at if effective_at is not None else now
        if when.year < EARLIEST_YEAR:
            raise InvalidCommand(f"effective_at は {EARLIEST_YEAR} 年以降の日時です"
                                 f" (effective_at must be in {EARLIEST_YEAR} or later)",
                                 "effective_at")
        if when > now:
            raise EffectiveAtInFuture(f"effective_at {when.isoformat()} は未来の日時です"
                                      " (effective_at is in the future)")
        if aggregate is not None:
            if effective_at is None and when < aggregate.effective_at:
                when = aggregate.effective_at  # a later back-dated act must not reorder now
            aggregate.check_effective_at(when)
        return when

    def _proposable_needs(self, ward: str, need_ids: Iterable[UUID]) -> list[Need]:
        needs = []
        for need_id in dict.fromkeys(need_ids):
            need = self.get_need(need_id)
            if need.ward != ward:
                raise NeedNotProposable(f"ニーズ {need_id} は {need.ward} 区のものです"
                                        f" (need {need_id} belongs to ward {need.ward})")
            if need.status != NeedStatus.TRIAGED:
                raise NeedNotProposable(f"ニーズ {need_id} は「{need.status}」です。"
                                        "提案に含められるのはトリアージ済みのニーズだけです"
                                        f" (need {need_id} is {need.status}, not triaged)")
            needs.append(need)
        return needs

    def _need_scope(self, need: Need) -> Scope:
        return Scope(ward=need.ward, office=need.office)

    _REF_FIELDS: ClassVar[dict[str, str]] = {
        "ward": "ward", "office": "office", "school_district": "school_district",
        "policy_area": "policy_area", "lead_department": "department",
        "co_departments": "department", "plan_goals": "plan_goal",
    }

    def _check_refs(self, fields: dict[str, Any], *, ward: str | None = None,
                    lead: str | None = None, co: list[str] | None = None) -> None:
        """Every id is in the city's data, and combinations fit: the school district lies
        in the need's ward, and the lead division is not also a co-division."""
        for name, kind in self._REF_FIELDS.items():
            value = fields.get(name)
            for ref in value if isinstance(value, list) else [value]:
                if ref is not None:
                    self._ref(kind, ref, name)
        district = self.city.school_district(fields.get("school_district") or "")
        if ward is not None and district is not None and district.ward != ward:
            raise InvalidCommand(f"校区 '{district.id}' は {ward} 区にありません"
                                 f" (school district {district.id} is not in ward {ward})",
                                 "school_district")
        if lead is not None and lead in (co or []):
            raise InvalidCommand(f"主務課 '{lead}' は関係課にできません"
                                 f" (the lead division {lead} cannot also be a co-division)",
                                 "co_departments")

    def _ref(self, kind: str, ref: str, field: str) -> None:
        if getattr(self.city, kind)(ref) is None:
            raise UnknownReference(kind, ref, field)


_NEED_METHODS = {
    "amend": "amend", "triage": "triage", "resolve-locally": "resolve_locally",
    "decline": "decline", "feedback": "record_feedback",
}
_PROPOSAL_METHODS = {
    "submit": "submit", "acknowledge": "acknowledge", "provide-info": "provide_info",
    "start-review": "start_review", "decide": "decide", "request-budget": "request_budget",
    "record-budget": "record_budget", "start-implementation": "start_implementation",
    "complete": "complete", "evaluate": "evaluate",
}

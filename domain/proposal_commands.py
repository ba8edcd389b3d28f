"""The commands on a proposal (事業提案), each checked when it is made."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar
from uuid import UUID

from domain import values as v
from domain.commands import BudgetOutcome, Command, Decision, Feedback, Ref, _changes
from domain.errors import InvalidCommand

PROPOSAL_AMENDABLE = ("title", "summary", "needs", "lead_department", "co_departments",
                      "policy_area", "estimated_cost_jpy", "plan_goals")


def _proposal_field(name: str, value: Any) -> Any:
    """One field of a proposal, as drafting and amending both check it."""
    checks: dict[str, Any] = {
        "title": lambda x: v.text(x, "title", v.TITLE_MAX),
        "summary": lambda x: v.optional_text(x, "summary") or "",
        "needs": lambda x: v.uuids(x, "needs", v.NEEDS_PER_PROPOSAL_MAX),
        "lead_department": lambda x: v.ref(x, "lead_department"),
        "co_departments": lambda x: v.refs(x, "co_departments"),
        "policy_area": lambda x: v.ref(x, "policy_area"),
        "estimated_cost_jpy": lambda x: v.optional_whole(x, "estimated_cost_jpy", 0,
                                                         v.YEN_MAX),
        "plan_goals": lambda x: v.refs(x, "plan_goals"),
    }
    return checks[name](value)


def _proposal_refs(fields: Mapping[str, Any]) -> Iterable[Ref]:
    if fields.get("lead_department") is not None:
        yield "department", fields["lead_department"], "lead_department"
    for dept in fields.get("co_departments") or ():
        yield "department", dept, "co_departments"
    if fields.get("policy_area") is not None:
        yield "policy_area", fields["policy_area"], "policy_area"
    for goal in fields.get("plan_goals") or ():
        yield "plan_goal", goal, "plan_goals"


@dataclasses.dataclass(frozen=True, kw_only=True)
class DraftProposal(Command):
    """A draft proposal from the ward's triaged needs."""

    action: ClassVar[str] = "create"
    ward: str
    title: str
    lead_department: str
    policy_area: str
    summary: str = ""
    needs: tuple[UUID, ...] = ()
    co_departments: tuple[str, ...] = ()
    estimated_cost_jpy: int | None = None
    plan_goals: tuple[str, ...] = ()

    def check(self) -> None:
        self._set("ward", v.ref(self.ward, "ward"))
        for name in PROPOSAL_AMENDABLE:
            self._set(name, _proposal_field(name, getattr(self, name)))

    def references(self) -> Iterable[Ref]:
        yield "ward", self.ward, "ward"
        yield from _proposal_refs(self.fields())


@dataclasses.dataclass(frozen=True, kw_only=True)
class AmendProposal(Command):
    """Changes to a draft; only the fields given change."""

    action: ClassVar[str] = "amend"
    changes: Mapping[str, Any]

    def check(self) -> None:
        self._set("changes", _changes(self.changes, PROPOSAL_AMENDABLE, _proposal_field))

    def references(self) -> Iterable[Ref]:
        return _proposal_refs(self.changes)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Submit(Command):
    """The ward mayor signs off and sends it to head office."""

    action: ClassVar[str] = "submit"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Acknowledge(Command):
    """The lead division confirms receipt."""

    action: ClassVar[str] = "acknowledge"
    note: str | None = None

    def check(self) -> None:
        self._set("note", v.optional_text(self.note, "note"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class RequestInfo(Command):
    """A division asks the ward a question; the decision clock pauses."""

    action: ClassVar[str] = "request-info"
    question: str

    def check(self) -> None:
        self._set("question", v.text(self.question, "question"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProvideInfo(Command):
    """The ward answers; review resumes."""

    action: ClassVar[str] = "provide-info"
    answer: str

    def check(self) -> None:
        self._set("answer", v.text(self.answer, "answer"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class StartReview(Command):
    """The lead division starts (or, after deferral, resumes) its review."""

    action: ClassVar[str] = "start-review"


def _fiscal_year(value: Any, field: str) -> int:
    return v.whole(value, field, v.FIRST_YEAR, v.LAST_YEAR)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Decide(Command):
    """Accept, reject or defer (to a named fiscal year), with a reason."""

    action: ClassVar[str] = "decide"
    decision: Decision
    reason: str
    deferred_to_fiscal_year: int | None = None

    def check(self) -> None:
        self._set("decision", v.choice(self.decision, "decision", Decision))
        self._set("reason", v.text(self.reason, "reason"))
        if self.decision == Decision.DEFERRED:
            if self.deferred_to_fiscal_year is None:
                raise InvalidCommand("deferred_to_fiscal_year", "deferral_needs_year")
            self._set("deferred_to_fiscal_year",
                      _fiscal_year(self.deferred_to_fiscal_year, "deferred_to_fiscal_year"))
        else:
            self._set("deferred_to_fiscal_year", None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RequestBudget(Command):
    """The lead division asks finance for money."""

    action: ClassVar[str] = "request-budget"
    fiscal_year: int
    amount_jpy: int

    def check(self) -> None:
        self._set("fiscal_year", _fiscal_year(self.fiscal_year, "fiscal_year"))
        self._set("amount_jpy", v.whole(self.amount_jpy, "amount_jpy", 0, v.YEN_MAX))


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordBudget(Command):
    """Finance's answer: budgeted (with the amount) or not."""

    action: ClassVar[str] = "record-budget"
    outcome: BudgetOutcome
    fiscal_year: int
    amount_jpy: int | None = None

    def check(self) -> None:
        self._set("outcome", v.choice(self.outcome, "outcome", BudgetOutcome))
        self._set("fiscal_year", _fiscal_year(self.fiscal_year, "fiscal_year"))
        if self.outcome == BudgetOutcome.BUDGETED and self.amount_jpy is None:
            raise InvalidCommand("amount_jpy", "budget_needs_amount")
        self._set("amount_jpy", v.optional_whole(self.amount_jpy, "amount_jpy", 0, v.YEN_MAX))


@dataclasses.dataclass(frozen=True, kw_only=True)
class StartImplementation(Command):
    """Work begins."""

    action: ClassVar[str] = "start-implementation"
    note: str | None = None

    def check(self) -> None:
        self._set("note", v.optional_text(self.note, "note"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Complete(Command):
    """Work is done."""

    action: ClassVar[str] = "complete"
    summary: str

    def check(self) -> None:
        self._set("summary", v.text(self.summary, "summary"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Withdraw(Command):
    """The ward takes it back before a decision; its needs may return to triage."""

    action: ClassVar[str] = "withdraw"
    reason: str
    return_needs: bool = False

    def check(self) -> None:
        self._set("reason", v.text(self.reason, "reason"))
        self._set("return_needs", v.flag(self.return_needs, "return_needs"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class MergeProposal(Command):
    """Fold it into another open proposal, which takes its needs."""

    action: ClassVar[str] = "merge"
    into: UUID
    reason: str

    def check(self) -> None:
        self._set("into", v.uuid(self.into, "into"))
        self._set("reason", v.text(self.reason, "reason"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Transfer(Command):
    """Hand the lead to another division."""

    action: ClassVar[str] = "transfer"
    to_department: str
    reason: str

    def check(self) -> None:
        self._set("to_department", v.ref(self.to_department, "to_department"))
        self._set("reason", v.text(self.reason, "reason"))

    def references(self) -> Iterable[Ref]:
        yield "department", self.to_department, "to_department"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Evaluate(Command):
    """How residents or the council judged the outcome (satisfaction 1–5)."""

    action: ClassVar[str] = "evaluate"
    satisfaction: int
    indicators: dict[str, Any] | None = None
    note: str | None = None

    def check(self) -> None:
        self._set("satisfaction", v.whole(self.satisfaction, "satisfaction", 1, 5))
        self._set("indicators", v.indicators(self.indicators))
        self._set("note", v.optional_text(self.note, "note"))

    def references(self) -> Iterable[Ref]:
        # Only declared indicators; the application then checks each value's unit.
        return (("indicator", name, f"indicators.{name}") for name in self.indicators or {})


@dataclasses.dataclass(frozen=True, kw_only=True)
class Comment(Command):
    """A view from any ward or division (意見反映)."""

    action: ClassVar[str] = "comment"
    body: str

    def check(self) -> None:
        self._set("body", v.text(self.body, "body"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Notice(Command):
    """Head office tells wards in advance about a coming decision."""

    action: ClassVar[str] = "notice"
    body: str
    wards: tuple[str, ...]

    def check(self) -> None:
        self._set("body", v.text(self.body, "body"))
        wards = v.refs(self.wards, "wards")
        if not wards:
            raise InvalidCommand("wards", "required")
        self._set("wards", wards)

    def references(self) -> Iterable[Ref]:
        return (("ward", w, "wards") for w in self.wards)


PROPOSAL_COMMANDS: dict[str, type[Command]] = {
    c.action: c for c in (AmendProposal, Submit, Acknowledge, RequestInfo, ProvideInfo,
                          StartReview, Decide, RequestBudget, RecordBudget,
                          StartImplementation, Complete, Withdraw, MergeProposal, Transfer,
                          Feedback, Evaluate, Comment, Notice)
}


"""The state machines of needs and proposals, as data.

One table per aggregate maps each action to the statuses it may start from and
the status it leads to (`None`: the status is unchanged). The aggregates, the
API's `allowed_actions` and the docs all read these tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class NeedStatus(StrEnum):
    """Where a community need stands."""

    RECORDED = "recorded"
    TRIAGED = "triaged"
    PROPOSED = "proposed"
    RESOLVED_LOCALLY = "resolved_locally"
    DECLINED = "declined"
    MERGED = "merged"
    CLOSED = "closed"


class ProposalStatus(StrEnum):
    """Where a project proposal (事業提案) stands."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    INFO_REQUESTED = "info_requested"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DEFERRED = "deferred"
    BUDGET_REQUESTED = "budget_requested"
    BUDGETED = "budgeted"
    NOT_BUDGETED = "not_budgeted"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"


@dataclass(frozen=True)
class Transition:
    """An action, the statuses it may start from, and where it leads."""

    action: str
    sources: frozenset[str]
    target: str | None  # None: unchanged; "*": decided by the command (decide, budget)
    #: actions the system takes on a user's behalf (e.g. a need joining a proposal)
    internal: bool = False


def _t(action: str, sources: Iterable[str], target: str | None,
       *, internal: bool = False) -> Transition:
    return Transition(action, frozenset(sources), target, internal)


N = NeedStatus
P = ProposalStatus

_NEED_EDITABLE = {N.RECORDED, N.TRIAGED}

NEED_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t("amend", _NEED_EDITABLE, None),
        _t("triage", {N.RECORDED}, N.TRIAGED),
        _t("resolve-locally", _NEED_EDITABLE, N.RESOLVED_LOCALLY),
        _t("decline", _NEED_EDITABLE, N.DECLINED),
        _t("merge", _NEED_EDITABLE, N.MERGED),
        _t("feedback", {N.RESOLVED_LOCALLY, N.DECLINED, N.MERGED}, N.CLOSED),
        # Driven by proposals, never called directly over HTTP.
        _t("propose", {N.TRIAGED}, N.PROPOSED, internal=True),
        _t("return-to-triage", {N.PROPOSED}, N.TRIAGED, internal=True),
        _t("follow-proposal", {N.PROPOSED}, None, internal=True),
        _t("close-with-proposal", {N.PROPOSED}, N.CLOSED, internal=True),
    )
}

#: statuses after which the proposal's outcome is settled
FINAL = frozenset({P.REJECTED, P.NOT_BUDGETED, P.COMPLETED, P.WITHDRAWN, P.MERGED})
#: submitted but not yet decided
UNDECIDED = frozenset({P.SUBMITTED, P.ACKNOWLEDGED, P.INFO_REQUESTED, P.UNDER_REVIEW})
#: every status that is neither draft nor final
OPEN = frozenset(set(P) - FINAL - {P.DRAFT})
#: statuses reached only after a decision (feedback may follow them)
AFTER_DECISION = frozenset(
    {P.ACCEPTED, P.REJECTED, P.DEFERRED, P.BUDGET_REQUESTED, P.BUDGETED, P.NOT_BUDGETED,
     P.IN_PROGRESS, P.COMPLETED}
)
DECISIONS = (P.ACCEPTED, P.REJECTED, P.DEFERRED)
BUDGET_OUTCOMES = (P.BUDGETED, P.NOT_BUDGETED)
ANY = frozenset(P)

PROPOSAL_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t("amend", {P.DRAFT}, None),
        _t("submit", {P.DRAFT}, P.SUBMITTED),
        _t("acknowledge", {P.SUBMITTED}, P.ACKNOWLEDGED),
        _t("request-info", {P.SUBMITTED, P.ACKNOWLEDGED, P.UNDER_REVIEW}, P.INFO_REQUESTED),
        _t("provide-info", {P.INFO_REQUESTED}, P.UNDER_REVIEW),
        _t("start-review", {P.SUBMITTED, P.ACKNOWLEDGED, P.DEFERRED}, P.UNDER_REVIEW),
        _t("decide", {P.SUBMITTED, P.ACKNOWLEDGED, P.UNDER_REVIEW}, "*"),
        _t("request-budget", {P.ACCEPTED}, P.BUDGET_REQUESTED),
        _t("record-budget", {P.BUDGET_REQUESTED}, "*"),
        _t("start-implementation", {P.ACCEPTED, P.BUDGETED}, P.IN_PROGRESS),
        _t("complete", {P.IN_PROGRESS}, P.COMPLETED),
        _t("withdraw", {P.DRAFT} | UNDECIDED, P.WITHDRAWN),
        _t("merge", OPEN, P.MERGED),
        _t("transfer", UNDECIDED, None),
        # Also guarded: from an undecided status only once it was decided before
        # (deferred, then taken up again).
        _t("feedback", AFTER_DECISION | UNDECIDED | {P.WITHDRAWN, P.MERGED}, None),
        # Also guarded: a final status other than `completed` needs feedback first.
        _t("evaluate", FINAL, None),
        _t("comment", ANY, None),
        _t("notice", ANY, None),
        # The proposal that another is merged into takes in its needs.
        _t("absorb", OPEN, None, internal=True),
    )
}


def allowed_actions(table: dict[str, Transition], status: str) -> list[str]:
    """The public actions the table allows from `status`, in table order."""
    return [t.action for t in table.values() if status in t.sources and not t.internal]

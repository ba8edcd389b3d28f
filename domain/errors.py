"""Domain errors, each named for the business rule it enforces.

An error carries a stable `code` and the parameters of the case, never a sentence:
the edge renders the message in the reader's language (`api/messages.py`), so a
Japanese page shows Japanese alone and an English client English alone. The domain
knows nothing of HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    """A command refused by a business rule; nothing was changed."""

    #: a stable slug: the message key and the last part of the problem `type` URI
    code = "domain-error"

    def __init__(self, **params: Any) -> None:
        super().__init__(self.code, params)
        self.params = params

    def __str__(self) -> str:
        inside = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.code}({inside})"

    @property
    def slug(self) -> str:
        """The problem type's slug (the code)."""
        return self.code


class InvalidCommand(DomainError):
    """The command's content breaks a rule: `field` is where, `reason` says which rule.

    Reasons (each with its parameters) are listed in `api/messages.py`: `required`,
    `blank`, `too_long`, `too_many`, `out_of_range`, `wrong_type`, `future_date`, …
    """

    code = "invalid-command"

    def __init__(self, field: str | None, reason: str, **params: Any) -> None:
        super().__init__(field=field, reason=reason, **params)
        self.field = field
        self.reason = reason
        if type(self) is InvalidCommand and reason in BUSINESS_RULES:
            self.code = BUSINESS_RULES[reason]  # a rule no schema states: its own type


#: reasons that are rules beyond any schema, each answered with a problem type of its own
#: (so a client, or a schema-driven tester, can tell them from malformed input)
BUSINESS_RULES: dict[str, str] = {
    "future_date": "date-in-future",
    "future_instant": "instant-in-future",
    "date_out_of_range": "date-outside-calendar",
    "district_not_in_ward": "school-district-not-in-ward",
    "lead_is_co": "lead-is-co-division",
    "deferral_needs_year": "deferral-needs-fiscal-year",
    "budget_needs_amount": "budget-needs-amount",
    "already_lead": "already-lead-division",
    "nothing_to_amend": "nothing-to-amend",
    "range_reversed": "period-reversed",
    "period_too_long": "period-too-long",
    "blank": "blank-text",
    "control_character": "control-character",
    "wrong_unit": "indicator-unit-mismatch",
    "districts_need_ward": "school-districts-need-ward",
    "ward_only_for_districts": "ward-only-for-school-districts",
}


class UnknownReference(InvalidCommand):
    """A ward, office, department, … id not in the city's reference data."""

    code = "unknown-reference"

    def __init__(self, kind: str, ref_id: str, field: str | None = None) -> None:
        super().__init__(field or kind, "unknown_reference", kind=kind, ref=ref_id)
        self.kind = kind
        self.ref_id = ref_id


class OfficeNotInWard(InvalidCommand):
    """The office named does not belong to the ward named."""

    code = "office-not-in-ward"

    def __init__(self, office: str, ward: str) -> None:
        super().__init__("office", "office_not_in_ward", office=office, ward=ward)


class EffectiveAtInFuture(InvalidCommand):
    """`effective_at` lies after now: work cannot be recorded before it happens."""

    code = "effective-at-in-future"

    def __init__(self, value: str) -> None:
        super().__init__("effective_at", "future_instant", value=value)


class EffectiveAtBeforePrevious(InvalidCommand):
    """`effective_at` lies before the aggregate's previous act."""

    code = "effective-at-before-previous"

    def __init__(self, value: str, previous: str) -> None:
        super().__init__("effective_at", "before_previous", value=value, previous=previous)


class NotPermitted(DomainError):
    """The actor's role or scope does not allow the action."""

    code = "not-permitted"

    def __init__(self, action: str, allowed: Sequence[str], role: str,
                 ward: str | None = None, office: str | None = None,
                 lead: str | None = None, co: Sequence[str] = ()) -> None:
        super().__init__(action=action, allowed=list(allowed), role=role, ward=ward,
                         office=office, lead=lead, co=list(co))


class NotFound(DomainError):
    """The need or proposal does not exist."""

    code = "not-found"

    def __init__(self, kind: str, id: str) -> None:
        super().__init__(kind=kind, id=id)


class NeedNotFound(NotFound):
    """No need has this id."""

    code = "need-not-found"

    def __init__(self, id: str) -> None:
        super().__init__("need", id)


class ProposalNotFound(NotFound):
    """No proposal has this id."""

    code = "proposal-not-found"

    def __init__(self, id: str) -> None:
        super().__init__("proposal", id)


class ActionNotAllowed(DomainError):
    """The action is not allowed in the aggregate's current status."""

    code = "action-not-allowed"

    def __init__(self, kind: str, action: str, current_status: str,
                 allowed_actions: Sequence[str]) -> None:
        super().__init__(kind=kind, action=action, status=current_status,
                         allowed=list(allowed_actions))
        self.current_status = current_status
        self.allowed_actions = list(allowed_actions)


class NeedNotProposable(DomainError):
    """A need named in a proposal is not `triaged`, or belongs to another ward."""

    code = "need-not-proposable"

    def __init__(self, need: str, reason: str, **params: Any) -> None:
        super().__init__(need=need, reason=reason, **params)
        self.reason = reason


class MergeTargetInvalid(DomainError):
    """The need or proposal to merge into cannot take the merge."""

    code = "merge-target-invalid"

    def __init__(self, kind: str, reason: str, **params: Any) -> None:
        super().__init__(kind=kind, reason=reason, **params)
        self.reason = reason


class ConcurrentChange(DomainError):
    """Someone else changed the record between our read and our write."""

    code = "concurrent-change"


class VersionMismatch(DomainError):
    """The client's `If-Match` version is not the current one."""

    code = "version-mismatch"

    def __init__(self, kind: str, expected: int, current: int) -> None:
        super().__init__(kind=kind, expected=expected, current=current)

"""The backlog (滞留): undecided proposals by lead division and business days since submission.

Computed from dated facts as of an instant, as the response metrics are
(docs/metrics.md §5, "Backlog").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from domain.calendar import BusinessCalendar
from domain.facts import ProposalFacts
from domain.states import UNDECIDED

#: backlog buckets: (label, fewest, most) business days since submission
BACKLOG_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-5", 0, 5), ("6-10", 6, 10), ("11-30", 11, 30), ("31+", 31, None))


@dataclass(frozen=True)
class DepartmentBacklog:
    """A division's undecided proposals, by business days since submission."""

    department: str
    buckets: dict[str, int]


def backlog_bucket(business_days: int) -> str:
    """The bucket label for a number of business days since submission."""
    for label, fewest, most in BACKLOG_BUCKETS:
        if business_days >= fewest and (most is None or business_days <= most):
            return label
    raise ValueError(f"business days cannot be negative: {business_days}")


def backlog(proposals: Iterable[ProposalFacts], calendar: BusinessCalendar,
            as_of: datetime) -> list[DepartmentBacklog]:
    """Undecided proposals (submitted, acknowledged, info_requested, under_review) at `as_of`,
    by current lead division (sorted by id) and business days since submission."""
    by_department: dict[str, dict[str, int]] = {}
    for p in proposals:
        p = p.as_of(as_of)
        submitted_at = p.submitted_at
        if p.status not in UNDECIDED or submitted_at is None:
            continue
        buckets = by_department.setdefault(
            p.lead_department, {label: 0 for label, _, _ in BACKLOG_BUCKETS})
        buckets[backlog_bucket(calendar.elapsed(submitted_at, as_of))] += 1
    return [DepartmentBacklog(d, by_department[d]) for d in sorted(by_department)]

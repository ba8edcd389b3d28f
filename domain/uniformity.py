"""Uniformity (均一性): how evenly places fare on one response metric.

Between the wards of the city, or between the school districts of one ward
(domain.md, "Clocks and metrics"; docs/metrics.md §5). A place with too few items
behind its value is shown but flagged, and left out of both figures.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.metrics import UNIFORMITY_METRICS, GroupMetrics, UnknownMetric

#: a place with fewer items than this behind its value is flagged, not ranked
MIN_ITEMS = 5


@dataclass(frozen=True)
class PlaceFigure:
    """One place's (a ward's or a school district's) value of a metric and the items behind it."""

    place: str
    value: float | None
    n: int
    flagged: bool  # fewer than MIN_ITEMS items: shown, but left out of the figures

    def as_dict(self, label: str = "ward") -> dict[str, Any]:
        """The API's shape, the place under `label` (ward or school_district)."""
        return {label: self.place, "value": self.value, "n": self.n, "flagged": self.flagged}


@dataclass(frozen=True)
class Uniformity:
    """How evenly the places fare on one metric."""

    metric: str
    places: list[PlaceFigure]
    coefficient_of_variation: float | None
    max_min_ratio: float | None


def figures(groups: Sequence[GroupMetrics], metric: str) -> list[PlaceFigure]:
    """Each group's value of the metric, the items behind it, and whether it is flagged."""
    if metric not in UNIFORMITY_METRICS:
        raise UnknownMetric(f"metric must be one of {', '.join(UNIFORMITY_METRICS)};"
                            f" got {metric!r}")
    out = []
    for group in groups:
        value, n = group.figure(metric)
        out.append(PlaceFigure(group.key, value, n, n < MIN_ITEMS))
    return out


def uniformity(groups: Sequence[GroupMetrics], metric: str) -> Uniformity:
    """Coefficient of variation and max/min ratio of a metric over the unflagged places
    (each group one place: a ward, or a school district).

    The coefficient of variation is the population standard deviation over the mean;
    both figures are None with no unflagged place, and when the mean (resp. the
    minimum) is 0.
    """
    places = figures(groups, metric)
    values = [p.value for p in places if not p.flagged and p.value is not None]
    cv = ratio = None
    if values:
        mean = statistics.fmean(values)
        cv = statistics.pstdev(values) / mean if mean else None
        ratio = max(values) / min(values) if min(values) else None
    return Uniformity(metric, places, cv, ratio)

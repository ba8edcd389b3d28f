"""Aggregates as the API shows them: instants in Asia/Tokyo, ids as strings."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi.responses import JSONResponse

from domain.calendar import JST, BusinessCalendar
from domain.clocks import proposal_clocks
from domain.need import Need
from domain.proposal import Proposal
from domain.reference import CityData


def shown(value: Any) -> Any:
    """Instants to JST, UUIDs to strings, recursively."""
    if isinstance(value, datetime):
        return value.astimezone(JST)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: shown(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shown(v) for v in value]
    return value


def need_out(need: Need, reporter: dict[str, str] | None = None,
             position: int | None = None,
             allowed_actions: list[str] | None = None) -> dict[str, Any]:
    """`NeedOut` of a need; `allowed_actions`: what the caller may do now."""
    fields = ("status", "ward", "office", "school_district", "source", "policy_area", "title",
              "description", "observed_on", "residents_affected", "urgency", "location",
              "plan_goals", "effective_at", "proposal", "merged_into", "note")
    out = {name: shown(getattr(need, name)) for name in fields}
    out.update(
        id=str(need.id), version=need.version, recorded_at=shown(need.recorded_at),
        reporter=reporter,
        feedback=[shown(f) for f in need.feedback],
        allowed_actions=need.allowed_actions() if allowed_actions is None else allowed_actions,
        position=position,
    )
    return out


def proposal_out(proposal: Proposal, city: CityData, calendar: BusinessCalendar,
                 now: datetime, position: int | None = None,
                 allowed_actions: list[str] | None = None) -> dict[str, Any]:
    """`ProposalOut` of a proposal, its clocks read at `now`; `allowed_actions`: the caller's."""
    fields = ("status", "ward", "title", "summary", "needs", "lead_department",
              "co_departments", "policy_area", "estimated_cost_jpy", "plan_goals",
              "effective_at", "submitted_at", "decided_at", "decision", "decision_reason",
              "deferred_to_fiscal_year", "budget", "transfers", "info_requests", "feedback",
              "evaluations", "comments", "notices", "closed_for_originators", "merged_into",
              "merged_from")
    out = {name: shown(getattr(proposal, name)) for name in fields}
    clocks = proposal_clocks(proposal, city.targets_for(proposal.lead_department), calendar,
                             now)
    out.update(
        id=str(proposal.id), version=proposal.version,
        recorded_at=shown(proposal.recorded_at),
        clocks={name: {"state": c.state, "started_at": shown(c.started_at),
                       "stopped_at": shown(c.stopped_at), "business_days": c.business_days,
                       "target": c.target, "due_on": c.due_on, "late": c.late}
                for name, c in clocks.items()},
        allowed_actions=(proposal.allowed_actions() if allowed_actions is None
                         else allowed_actions),
        position=position,
    )
    return out


#: figures in JSON carry at most this many decimals (no 7.099999999999999)
DECIMALS = 6


def rounded(value: Any) -> Any:
    """Floats rounded to `DECIMALS` places, recursively; everything else as it is."""
    if isinstance(value, float):
        return round(value, DECIMALS)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v) for v in value]
    return value


class RoundedJSONResponse(JSONResponse):
    """JSON whose figures are free of float noise."""

    def render(self, content: Any) -> bytes:
        return super().render(rounded(content))

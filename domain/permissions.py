"""Who may do what: roles, their scopes, and one table per aggregate.

Reading is open to every signed-in role (sharing what is heard is the point);
writing is scoped to the ward, office or division that owns the act.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.errors import NotPermitted


class Role(StrEnum):
    """The roles of the people who use Tsunagi."""

    EXCHANGE_ROOM_STAFF = "exchange_room_staff"
    WARD_STAFF = "ward_staff"
    WARD_MAYOR = "ward_mayor"
    DEPARTMENT_REVIEWER = "department_reviewer"
    MONITOR = "monitor"
    ADMIN = "admin"


#: the scope each role must carry: an office, a ward, a division, or none
ROLE_SCOPE: dict[Role, str | None] = {
    Role.EXCHANGE_ROOM_STAFF: "office",
    Role.WARD_STAFF: "ward",
    Role.WARD_MAYOR: "ward",
    Role.DEPARTMENT_REVIEWER: "department",
    Role.MONITOR: None,
    Role.ADMIN: None,
}


@dataclass(frozen=True)
class Actor:
    """A signed-in user: id, role and scope."""

    id: str
    name: str
    role: Role
    ward: str | None = None
    office: str | None = None
    department: str | None = None

    def is_ward(self, ward: str) -> bool:
        """Ward staff or mayor of `ward`."""
        return self.role in (Role.WARD_STAFF, Role.WARD_MAYOR) and self.ward == ward

    def is_office(self, office: str) -> bool:
        """Staff scoped to `office`."""
        return self.role == Role.EXCHANGE_ROOM_STAFF and self.office == office

    def is_reviewer_of(self, *departments: str) -> bool:
        """A reviewer of one of `departments`."""
        return self.role == Role.DEPARTMENT_REVIEWER and self.department in departments


# Each rule names a kind of actor allowed; an admin may always act.
WARD = "ward staff or mayor of the ward"
MAYOR = "mayor of the ward"
OFFICE = "staff of the office"
LEAD = "reviewer of the lead division"
CO = "reviewer of a co-division"
ANY_REVIEWER = "any division reviewer"
NOT_MONITOR = "any role but monitor"
MONITORING = "monitor"

NEED_RULES: dict[str, tuple[str, ...]] = {
    "record": (OFFICE, WARD),
    "amend": (OFFICE, WARD),
    "triage": (WARD,),
    "resolve-locally": (WARD,),
    "decline": (WARD,),
    "merge": (WARD,),
    "feedback": (WARD,),
    "erase-personal-data": (WARD,),
    "read-personal-data": (OFFICE, WARD),
}

PROPOSAL_RULES: dict[str, tuple[str, ...]] = {
    "create": (WARD,),
    "amend": (WARD,),
    "withdraw": (WARD,),
    "provide-info": (WARD,),
    "submit": (MAYOR,),
    "acknowledge": (LEAD,),
    "start-review": (LEAD,),
    "decide": (LEAD,),
    "request-budget": (LEAD,),
    "record-budget": (LEAD,),
    "start-implementation": (LEAD,),
    "complete": (LEAD,),
    "transfer": (LEAD,),
    "merge": (LEAD,),
    "request-info": (LEAD, CO),
    "feedback": (LEAD, WARD),
    "evaluate": (LEAD, WARD),
    "comment": (NOT_MONITOR,),
    "notice": (ANY_REVIEWER,),
}


#: indicator observations are the monitors' (and admins') to record
OBSERVATION_RULES: dict[str, tuple[str, ...]] = {"record": (MONITORING,)}


@dataclass(frozen=True)
class Scope:
    """What an act touches: the ward, office and divisions it belongs to."""

    ward: str
    office: str | None = None
    lead: str | None = None
    co: tuple[str, ...] = ()


def _satisfies(actor: Actor, rule: str, scope: Scope) -> bool:
    if rule == WARD:
        return actor.is_ward(scope.ward)
    if rule == MAYOR:
        return actor.role == Role.WARD_MAYOR and actor.ward == scope.ward
    if rule == OFFICE:
        return scope.office is not None and actor.is_office(scope.office)
    if rule == LEAD:
        return scope.lead is not None and actor.is_reviewer_of(scope.lead)
    if rule == CO:
        return actor.is_reviewer_of(*scope.co)
    if rule == ANY_REVIEWER:
        return actor.role == Role.DEPARTMENT_REVIEWER
    if rule == NOT_MONITOR:
        return actor.role != Role.MONITOR
    if rule == MONITORING:
        return actor.role == Role.MONITOR
    raise AssertionError(rule)


def permits(actor: Actor, rules: tuple[str, ...], scope: Scope) -> bool:
    """True when the actor is an admin or satisfies one of the rules."""
    return actor.role == Role.ADMIN or any(_satisfies(actor, r, scope) for r in rules)


def require(actor: Actor, table: dict[str, tuple[str, ...]], action: str, scope: Scope) -> None:
    """Refuse with `NotPermitted` unless the actor may take `action` in `scope`."""
    rules = table[action]
    if not permits(actor, rules, scope):
        raise NotPermitted(action, rules, actor.role.value, ward=scope.ward,
                           office=scope.office, lead=scope.lead, co=scope.co)

"""What needs and proposals share: status rules read from a table, and `effective_at`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from eventsourcing.domain import Aggregate

from domain.errors import ActionNotAllowed, EffectiveAtBeforePrevious
from domain.states import Transition, allowed_actions

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a command returns: the aggregate as it now stands, and the log position."""

    aggregate: T
    position: int


class TrackedAggregate(Aggregate):
    """An aggregate whose actions are governed by a transition table.

    Every event carries `effective_at` (when the act really happened) and
    `actor` (the user id); the library's `timestamp` is the `recorded_at`.
    """

    transitions: ClassVar[dict[str, Transition]]
    #: Japanese name used in messages ("ニーズ", "事業提案")
    label_ja: ClassVar[str]

    if TYPE_CHECKING:  # set by the events; annotated at class level only for type checkers,
        # because the library turns runtime class annotations into constructor fields
        status: str
        effective_at: datetime

    def allowed_actions(self) -> list[str]:
        """The public actions allowed now, guards included."""
        return [a for a in allowed_actions(self.transitions, self.status) if self._guard(a)]

    def _guard(self, action: str) -> bool:
        """Extra conditions beyond the status table (overridden where there are any)."""
        return True

    def check_allowed(self, action: str) -> None:
        """Refuse `action` now (`ActionNotAllowed`) unless its status and guards allow it:
        for acts that change other aggregates before this one's own method runs."""
        self._require(action)

    def _require(self, action: str) -> Transition:
        transition = self.transitions[action]
        if self.status not in transition.sources or not self._guard(action):
            raise ActionNotAllowed(type(self).__name__.lower(), action, self.status,
                                   self.allowed_actions())
        return transition

    def check_effective_at(self, effective_at: datetime) -> None:
        """Refuse an act dated before this aggregate's previous one."""
        if effective_at < self.effective_at:
            raise EffectiveAtBeforePrevious(effective_at.isoformat(),
                                            self.effective_at.isoformat())

    def _moved(self, effective_at: datetime, target: str | None) -> None:
        """Bookkeeping of the creation event (and of what `_advance` decided)."""
        self.effective_at = effective_at
        if target is not None:
            self.status = target

    def _advance(self, action: str, effective_at: datetime, decided: str | None = None) -> None:
        """Bookkeeping of every later event: its instant, and the status the transition
        table says the act leads to (`decided` where the command chooses it)."""
        target = self.transitions[action].target
        self._moved(effective_at, decided if target == "*" else target)

    @property
    def recorded_at(self) -> datetime:
        """When the aggregate was first stored (the server's clock)."""
        return self.created_on

    def state(self) -> dict[str, Any]:
        """A plain copy of the aggregate's attributes, for views that keep its state."""
        data = dict(self.__dict__)
        data.pop("_pending_events", None)
        return data

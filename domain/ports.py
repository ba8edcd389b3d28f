"""What the application needs from the outside world, as interfaces."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

#: gives the current instant (timezone-aware); injected so tests control time
Clock = Callable[[], datetime]


class PersonalDataVault(Protocol):
    """Keeps reporters' personal data apart from the event log, erasable for good."""

    def put(self, ref: str, data: dict[str, str]) -> None:
        """Store (or replace) the personal data under an opaque reference."""

    def get(self, ref: str, reader: str) -> dict[str, str] | None:
        """Return the data (None once erased) and record that `reader` read it."""

    def erase(self, ref: str) -> bool:
        """Delete the data for good; True if there was any."""

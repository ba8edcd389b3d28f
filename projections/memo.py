"""Figures kept while what they were computed from stays the same (a view's snapshot)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class SnapshotMemo:
    """The last `size` figures, each under its key and the snapshot it was computed at."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, snapshot: Callable[[], Hashable | None],
            compute: Callable[[], T]) -> T:
        """`compute()`, or the figure kept under `key` and the snapshot now.

        Kept only if the snapshot is not None and did not move during the computation
        (the follower applied nothing meanwhile), so that the figures kept under a
        snapshot are exactly those of that snapshot.
        """
        taken = (key, snapshot())
        with self._lock:
            if taken in self._kept:
                self._kept.move_to_end(taken)
                return self._kept[taken]
        value = compute()
        if taken[1] is not None and (key, snapshot()) == taken:
            with self._lock:
                self._kept[taken] = value
                while len(self._kept) > self.size:
                    self._kept.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every figure."""
        with self._lock:
            self._kept.clear()

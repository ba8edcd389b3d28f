"""Clock facts: every dated fact of every proposal and need, so "as of T" is a query.

Each event is turned into facts by the domain's pure handler (`facts_of`) and
each fact stored as a row, dated by the event's `effective_at` (normalised to
UTC in a fixed-width format, so that text comparison orders instants) and
numbered by its log position. Reading as of an instant keeps the rows dated up
to it; a subject (proposal or need) with no fact yet at that instant is left out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import Transcoder

from domain.application import event_type_name
from domain.calendar import date_jst
from domain.facts import Fact, NeedFacts, ProposalFacts, facts_of
from domain.need import Need
from domain.proposal import Proposal
from infra.sql import Database, Tx
from projections.base import Event, View
from projections.memo import SnapshotMemo

#: event attributes that are not the event's data (as `Tsunagi.history` hides them)
_NOT_DATA = frozenset({"originator_id", "originator_version", "timestamp",
                       "originator_topic", "effective_at", "actor"})
_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"
#: fact rows read at a time when loading them (the rows are not all held at once)
_LOAD_CHUNK = 5000
#: figures kept by `memo` (a few groupings, as of now and a few past instants)
MEMO_SIZE = 64
T = TypeVar("T")


def event_data(event: Event) -> dict[str, Any]:
    """An event's own data: its attributes less the envelope (`_NOT_DATA`)."""
    return {k: v for k, v in event.__dict__.items() if k not in _NOT_DATA}


def at_text(instant: datetime) -> str:
    """An instant as fixed-width UTC text, so that text order is time order."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant {instant.isoformat()} has no timezone")
    return instant.astimezone(UTC).strftime(_AT_FORMAT)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _encode_value(value: Any) -> str:
    """A fact's value as JSON text; dates, instants and UUIDs tagged so they come back typed."""
    def tagged(obj: Any) -> Any:
        if isinstance(obj, datetime):
            return {"$datetime": obj.isoformat()}
        if isinstance(obj, date):
            return {"$date": obj.isoformat()}
        if isinstance(obj, UUID):
            return str(obj)
        raise TypeError(f"cannot store a fact value of type {type(obj).__name__}")
    return json.dumps(value, default=tagged, ensure_ascii=False)


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$date" in obj:
            return date.fromisoformat(obj["$date"])
        if "$datetime" in obj:
            return datetime.fromisoformat(obj["$datetime"])
    return obj


def _decode_value(text: str) -> Any:
    return json.loads(text, object_hook=_untag)


class ClockFactsView(View):
    """The facts of every proposal and need, one row each, with its date and log position."""

    name = "clock_facts"
    #: 2: plan goals and school districts kept as facts (a store of version 1 is rebuilt)
    version = 2
    tables = ("clock_facts_facts", "clock_facts_subjects")
    schema = (
        "CREATE TABLE IF NOT EXISTS clock_facts_subjects ("
        " id TEXT PRIMARY KEY, kind TEXT NOT NULL, ward TEXT NOT NULL, seq BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS clock_facts_subjects_ward"
        " ON clock_facts_subjects (ward, kind)",
        "CREATE TABLE IF NOT EXISTS clock_facts_facts ("
        " aggregate_id TEXT NOT NULL, aggregate_kind TEXT NOT NULL, seq BIGINT NOT NULL,"
        " idx INTEGER NOT NULL, at TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,"
        " PRIMARY KEY (aggregate_id, seq, idx))",
        "CREATE INDEX IF NOT EXISTS clock_facts_facts_at ON clock_facts_facts (at)",
    )

    def __init__(self, db: Database, transcoder: Transcoder) -> None:
        super().__init__(db, transcoder)
        self._memo = SnapshotMemo(MEMO_SIZE)

    # ── keeping the facts ─────────────────────────────────────────────────

    def handle(self, tx: Tx, event: Event) -> None:
        if isinstance(event, Proposal.Event):
            kind = "proposal"
        elif isinstance(event, Need.Event):
            kind = "need"
        else:
            return
        seq = self.handling_position  # the event's log position, from either feed
        aggregate_id = str(event.originator_id)
        type_name = event_type_name(event)
        data = event_data(event)
        if type_name in ("ProposalDrafted", "NeedRecorded"):
            tx.execute("INSERT INTO clock_facts_subjects (id, kind, ward, seq) VALUES (?, ?, ?, ?)"
                       " ON CONFLICT (id) DO NOTHING", (aggregate_id, kind, data["ward"], seq))
        at = event.effective_at  # type: ignore[attr-defined]
        for idx, fact in enumerate(facts_of(type_name, data, at)):
            tx.execute(
                "INSERT INTO clock_facts_facts (aggregate_id, aggregate_kind, seq, idx, at, kind,"
                " value) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (aggregate_id, seq, idx)"
                " DO NOTHING",
                (aggregate_id, kind, seq, idx, at_text(fact.at), fact.kind,
                 _encode_value(fact.value)))

    # ── reading ───────────────────────────────────────────────────────────

    def load(self, as_of: datetime | None = None, *, ward: str | None = None,
             ids: Sequence[str] | None = None,
             ) -> tuple[list[ProposalFacts], list[NeedFacts]]:
        """The facts of every proposal and need dated up to `as_of` (all when None).

        Facts come in log order per subject; subjects in the order they were
        created, those without any fact by `as_of` left out. `ward` and `ids`
        narrow the subjects read.
        """
        where: list[str] = []
        params: list[Any] = []
        if as_of is not None:
            where.append("f.at <= ?")
            params.append(at_text(as_of))
        if ward is not None:
            where.append("s.ward = ?")
            params.append(ward)
        if ids is not None:
            if not ids:
                return [], []
            where.append(f"s.id IN ({', '.join('?' for _ in ids)})")
            params.extend(ids)
        sql = ("SELECT s.id, s.kind, s.ward, f.at, f.kind, f.value FROM clock_facts_facts f"
               " JOIN clock_facts_subjects s ON s.id = f.aggregate_id"
               + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY s.seq, s.id, f.seq, f.idx")
        grouped: dict[str, tuple[str, str, list[Fact]]] = {}
        kinds: dict[str, str] = {}  # one string per fact kind, not one per row
        with self.db.transaction() as tx:
            for rows in tx.stream(sql, params, _LOAD_CHUNK):
                # one JSON document per chunk: a single parse instead of one per row
                values = _decode_value("[" + ",".join(row[5] for row in rows) + "]")
                for (subject, kind, subject_ward, at, fact_kind, _), value in zip(
                        rows, values, strict=True):
                    entry = grouped.get(subject)
                    if entry is None:
                        entry = grouped[subject] = (kind, subject_ward, [])
                    entry[2].append(Fact(_at(at), kinds.setdefault(fact_kind, fact_kind),
                                         value))
        proposals: list[ProposalFacts] = []
        needs: list[NeedFacts] = []
        for subject, (kind, subject_ward, facts) in grouped.items():
            if kind == "proposal":
                proposals.append(ProposalFacts(subject, subject_ward, tuple(facts)))
            else:
                needs.append(NeedFacts(subject, subject_ward, tuple(facts)))
        return proposals, needs

    @contextmanager
    def streamed(self, as_of: datetime) -> Iterator[tuple[Iterator[ProposalFacts],
                                                           Iterator[NeedFacts]]]:
        """The facts of every proposal, then of every need, dated up to `as_of`, read one
        subject at a time from one snapshot (for `domain.metrics.response_metrics`).

        Facts come in log order per subject; subjects in no particular order, those
        without any fact by `as_of` left out. Nothing but the subject being read is held.
        """
        with self.db.snapshot() as tx:
            yield self._subjects(tx, as_of, "proposal"), self._subjects(tx, as_of, "need")

    def _subjects(self, tx: Tx, as_of: datetime, kind: str) -> Iterator[Any]:
        make = ProposalFacts if kind == "proposal" else NeedFacts
        sql = ("SELECT f.aggregate_id, s.ward, f.at, f.kind, f.value FROM clock_facts_facts f"
               " JOIN clock_facts_subjects s ON s.id = f.aggregate_id"
               " WHERE f.aggregate_kind = ? AND f.at <= ?"
               " ORDER BY f.aggregate_id, f.seq, f.idx")  # the facts' primary key: no sort
        kinds: dict[str, str] = {}
        subject, ward, facts = None, "", list[Fact]()
        for rows in tx.stream(sql, (kind, at_text(as_of)), _LOAD_CHUNK):
            values = _decode_value("[" + ",".join(row[4] for row in rows) + "]")
            for (aggregate_id, subject_ward, at, fact_kind, _), value in zip(rows, values,
                                                                             strict=True):
                if aggregate_id != subject:
                    if subject is not None:
                        yield make(subject, ward, tuple(facts))
                    subject, ward, facts = aggregate_id, subject_ward, []
                facts.append(Fact(_at(at), kinds.setdefault(fact_kind, fact_kind), value))
        if subject is not None:
            yield make(subject, ward, tuple(facts))

    def snapshot(self, as_of: datetime) -> tuple[int, str]:
        """What a figure computed from the facts as of `as_of` depends on.

        The view's position, and the instant; but once `as_of` is past every fact,
        the facts read are all of them and clocks count whole JST days, so any
        instant of the same day gives the same figures.
        """
        with self.db.transaction() as tx:
            # Fed from the log the position moves; fed from Kafka the offsets do.
            tx.execute("SELECT COALESCE((SELECT position FROM view_tracking WHERE view = ?), 0),"
                       " COALESCE((SELECT SUM(next_offset) FROM view_offsets WHERE view = ?), 0)",
                       (self.name, self.name))
            tracked = tx.fetchone()
            position = int(tracked[0]) + int(tracked[1]) if tracked else 0
            tx.execute("SELECT MAX(at) FROM clock_facts_facts")
            row = tx.fetchone()
        newest = row[0] if row else None
        at = at_text(as_of)
        return position, (f"day {date_jst(as_of)}" if newest is None or at >= newest
                          else f"at {at}")

    def drop(self) -> None:
        super().drop()
        self.forget()

    def forget(self) -> None:
        """Drop every figure kept by `memo`."""
        self._memo.clear()

    def memo(self, key: Hashable, as_of: datetime, compute: Callable[[], T]) -> T:
        """`compute()`, kept until the view moves on: figures over every fact, computed
        once per log position (and JST day), not once per request."""
        return self._memo.get(key, lambda: self.snapshot(as_of), compute)

    def proposal_facts(self, proposal_id: str, as_of: datetime | None = None,
                       ) -> ProposalFacts | None:
        """One proposal's facts dated up to `as_of`; None if unknown or not yet drafted then."""
        proposals, _ = self.load(as_of, ids=[str(proposal_id)])
        return proposals[0] if proposals else None

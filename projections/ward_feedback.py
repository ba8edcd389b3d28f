"""Ward and office feedback: every need heard there, with what became of it.

One row per need (its state, its latest own feedback) carrying the status and
latest feedback of its proposal; when a proposal's status or feedback changes,
every need row of that proposal is updated. Proposal states are kept in a
second table so that a need joining a proposal picks up its current facts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from domain.need import Need
from domain.proposal import Proposal
from infra.sql import Tx
from projections.base import Event, View


@dataclass(frozen=True)
class FeedbackItem:
    """One need of a ward or office, with its proposal's status and the latest feedback."""

    need: Need
    proposal_status: str | None
    latest_feedback: dict[str, Any] | None  # {message, delivered_on}


def _latest(feedback: list[dict[str, Any]]) -> str | None:
    """The most recent feedback (by delivery date, then when recorded) as JSON text."""
    if not feedback:
        return None
    last = max(feedback, key=lambda f: (f["delivered_on"], f["effective_at"]))
    return json.dumps({"message": last["message"],
                       "delivered_on": last["delivered_on"].isoformat(),
                       "effective_at": last["effective_at"].astimezone(UTC).isoformat()})


def _more_recent(*texts: str | None) -> dict[str, Any] | None:
    found = [json.loads(t) for t in texts if t]
    if not found:
        return None
    last = max(found, key=lambda f: (f["delivered_on"], f["effective_at"]))
    return {"message": last["message"], "delivered_on": last["delivered_on"]}


class WardFeedback(View):
    """A row per need with its proposal's status and latest feedback."""

    name = "ward_feedback"
    tables = ("ward_feedback_needs", "ward_feedback_proposals")
    schema = (
        "CREATE TABLE IF NOT EXISTS ward_feedback_needs ("
        " id TEXT PRIMARY KEY, ward TEXT NOT NULL, office TEXT NOT NULL,"
        " recorded_at TEXT NOT NULL, proposal TEXT, need_feedback TEXT,"
        " proposal_status TEXT, proposal_feedback TEXT, state TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS ward_feedback_needs_ward"
        " ON ward_feedback_needs (ward, recorded_at, id)",
        "CREATE INDEX IF NOT EXISTS ward_feedback_needs_office"
        " ON ward_feedback_needs (office, recorded_at, id)",
        "CREATE INDEX IF NOT EXISTS ward_feedback_needs_proposal"
        " ON ward_feedback_needs (proposal)",
        "CREATE TABLE IF NOT EXISTS ward_feedback_proposals ("
        " id TEXT PRIMARY KEY, status TEXT NOT NULL, feedback TEXT, state TEXT NOT NULL)",
    )

    # ── keeping the facts ─────────────────────────────────────────────────

    def handle(self, tx: Tx, event: Event) -> None:
        if isinstance(event, Proposal.Event):
            self._proposal(tx, event)
        elif isinstance(event, Need.Event):
            self._need(tx, event)

    # Rows are written when the batch ends (`upsert`), from the states as the batch left
    # them: a need row takes its proposal's facts then, and every need row of a changed
    # proposal is updated then, so the order the statements run in does not matter.

    def _proposal(self, tx: Tx, event: Proposal.Event) -> None:
        proposal = self.evolve(tx, "ward_feedback_proposals", Proposal, event)
        if proposal is None:
            return
        pid = str(proposal.id)
        self.upsert(tx,
            "INSERT INTO ward_feedback_proposals (id, status, feedback, state)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status,"
            " feedback = excluded.feedback, state = excluded.state", pid,
            lambda: (pid, proposal.status, _latest(proposal.feedback),
                     self.encode_state(proposal)),
        )
        self.upsert(tx,
            "UPDATE ward_feedback_needs SET proposal_status = ?, proposal_feedback = ?"
            " WHERE proposal = ?", pid,
            lambda: (proposal.status, _latest(proposal.feedback), pid))

    def _proposal_facts(self, tx: Tx, proposal: str) -> tuple[str | None, str | None]:
        """The status and latest feedback of a proposal, as the batch has them now."""
        found, kept = self.load_kept(tx, "ward_feedback_proposals", Proposal, proposal)
        if found:
            return (kept.status, _latest(kept.feedback)) if kept is not None else (None, None)
        row = self.read_unkept(tx, "ward_feedback_proposals",
                               "SELECT status, feedback FROM ward_feedback_proposals"
                               " WHERE id = ?", (proposal,))
        return (row[0], row[1]) if row is not None else (None, None)

    def _need(self, tx: Tx, event: Need.Event) -> None:
        need = self.evolve(tx, "ward_feedback_needs", Need, event)
        if need is None:
            return
        proposal = str(need.proposal) if need.proposal is not None else None
        # as stored now; replaced when the row is written if the batch changes the proposal
        stored = self._proposal_facts(tx, proposal) if proposal is not None else (None, None)

        def row() -> tuple[Any, ...]:
            proposal_status, proposal_feedback = stored
            if proposal is not None:
                found, _ = self.kept(tx, "ward_feedback_proposals", proposal)
                if found:
                    proposal_status, proposal_feedback = self._proposal_facts(tx, proposal)
            return (str(need.id), need.ward, need.office, need.recorded_at.isoformat(),
                    proposal, _latest(need.feedback), proposal_status, proposal_feedback,
                    self.encode_state(need))

        self.upsert(tx,
            "INSERT INTO ward_feedback_needs (id, ward, office, recorded_at, proposal,"
            " need_feedback, proposal_status, proposal_feedback, state)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET ward = excluded.ward, office = excluded.office,"
            " proposal = excluded.proposal, need_feedback = excluded.need_feedback,"
            " proposal_status = excluded.proposal_status,"
            " proposal_feedback = excluded.proposal_feedback, state = excluded.state",
            str(need.id), row)

    # ── reading ───────────────────────────────────────────────────────────

    def list(self, column: str, value: str, limit: int,
             cursor: str | None) -> tuple[list[FeedbackItem], str | None]:
        """A page of the needs of a ward or office (`column`), newest first."""
        if column not in ("ward", "office"):
            raise ValueError(f"cannot list by {column}")
        rows, next_cursor = self.newest_first(
            "state, need_feedback, proposal_status, proposal_feedback", "ward_feedback_needs",
            "recorded_at", [f"{column} = ?"], [value], limit, cursor)
        items = [
            FeedbackItem(need=self.decode_state(Need, r[2]),
                         proposal_status=r[4], latest_feedback=_more_recent(r[3], r[5]))
            for r in rows
        ]
        return items, next_cursor

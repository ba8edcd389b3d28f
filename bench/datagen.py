"""A realistic city history of any size, in the demo's shape, written fast.

Cases (a proposal with its needs, a pair of proposals one merged into the other,
a need merged into its twin, a need left alone, resolved or declined) start at a
steady pace over `years` before now and follow the demo's paths
(`infra/demo_texts.py`), cut off at now, so old cases are closed and recent ones
open. Acts go through the application's commands (`bench/acts.py`) and are saved
in batches. Usage: `python -m bench.datagen --events 100000 [--data-dir D | --database-url U]`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time as timer
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from uuid import UUID, uuid4

from bench import acts
from domain.calendar import JST, BusinessCalendar, date_jst, default_calendar
from domain.errors import DomainError
from domain.need import FEEDBACK_CHANNELS, URGENCIES
from domain.permissions import Actor
from domain.reference import CityData
from domain.states import FINAL
from infra import demo_texts as tx
from infra.city import load_city
from infra.demo import WARDS, demo_actors
from infra.eventstore import event_store_env
from infra.personal_data import SqlPersonalDataVault
from infra.settings import Settings
from infra.sql import open_database

#: cases between two saves: a few thousand events per transaction
BATCH_CASES = 300
#: how the final statuses of proposals are spread (as in the demo)
STATUS_WEIGHTS = {s: n for s, n in tx.COUNTS.items() if s != "merged"}
#: cases started longer ago than this have been settled: a final status (or a draft never
#: submitted), in the demo's proportions; a city does not leave a proposal of 2017 waiting
#: for a decision in 2026, and a queue or agenda that grew with every year of history
#: would measure the generator, not the view
SETTLED_AFTER_DAYS = 730
SETTLED_WEIGHTS = {s: n for s, n in STATUS_WEIGHTS.items() if s in FINAL or s == "draft"}

Step = Callable[[datetime], None]


@dataclass
class Summary:
    """What was written: events, needs, proposals, acts refused by the domain, seconds."""

    events: int = 0
    needs: int = 0
    proposals: int = 0
    refused: int = 0
    seconds: float = 0.0
    refusals: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready figures."""
        return {"events": self.events, "needs": self.needs, "proposals": self.proposals,
                "refused_acts": self.refused, "seconds": round(self.seconds, 2),
                "events_per_second": round(self.events / self.seconds) if self.seconds else None,
                "refusals": dict(self.refusals.most_common(5))}


class Generator:
    """Lays out one case at a time on business days and runs its acts in time order."""

    def __init__(self, app: acts.BatchingTsunagi, now: datetime, years: float, seed: int,
                 target: int) -> None:
        self.app, self.city, self.cal = app, app.city, app.calendar
        self.now, self.target = now, target
        self.rng = random.Random(seed)
        self.first = date_jst(now - timedelta(days=365.25 * years))
        self.span = (date_jst(now) - self.first).days
        self.actors = {a.id: a for a in demo_actors(self.city)}
        self.ward_ja = {w.id: w.name_ja for w in self.city.wards}
        self.summary = Summary()

    # ── running ───────────────────────────────────────────────────────────

    def run(self) -> Summary:
        """Write cases until about `target` events are stored."""
        started = timer.perf_counter()
        cases = 0
        while self.summary.events + self.app.pending_events() < self.target:
            self._case()
            cases += 1
            if cases % BATCH_CASES == 0:
                self.summary.events += self.app.flush()
        self.summary.events += self.app.flush()
        self.summary.seconds = timer.perf_counter() - started
        return self.summary

    def _case(self) -> None:
        progress = (self.summary.events + self.app.pending_events()) / self.target
        start = self._snap(self.first + timedelta(days=int(self.span * progress)))
        steps: list[tuple[datetime, int, Step]] = []
        ward = self.rng.choice(WARDS)
        topic = self.rng.choice(tx.topics_for(ward))
        r = self.rng.random()
        if r < 0.50:
            self._proposal_case(steps, start, ward, topic)
        elif r < 0.55:
            self._merged_pair(steps, start, ward, topic)
        else:
            self._standalone(steps, start, ward, topic)
        previous: datetime | None = None
        for when, _, step in sorted(steps, key=lambda s: (s[0], s[1])):
            if previous is not None and when <= previous:
                when = previous + timedelta(seconds=1)
            if when >= self.now:
                break  # the rest of the case lies in the future
            try:
                step(when)
            except DomainError as exc:  # a rule the layout did not foresee: the act is skipped
                self.summary.refused += 1
                self.summary.refusals[type(exc).__name__] += 1
            previous = when

    # ── dates ─────────────────────────────────────────────────────────────

    def _snap(self, d: date) -> date:
        while not self.cal.is_business_day(d):
            d += timedelta(days=1)
        return d

    def _fwd(self, d: date, n: int) -> date:
        return self.cal.add_business_days(self._snap(d), n)

    def _at(self, d: date) -> datetime:
        at = time(9 + self.rng.randrange(8), self.rng.randrange(60), self.rng.randrange(60))
        return datetime.combine(d, at, tzinfo=JST).astimezone(UTC)

    def _on(self, steps: list[tuple[datetime, int, Step]], d: date, step: Step) -> None:
        steps.append((self._at(d), len(steps), step))

    # ── actors ────────────────────────────────────────────────────────────

    def _staff(self, ward: str) -> Actor:
        return self.actors[f"demo-{ward}-staff"]

    def _reviewer(self, department: str) -> Actor:
        return self.actors[f"demo-{department}-reviewer"]

    # ── needs ─────────────────────────────────────────────────────────────

    def _need(self, steps: list[tuple[datetime, int, Step]], ward: str, topic: tx.Topic,
              recorded: date, triaged: date | None, variant: int | None = None) -> UUID:
        rng, need_id = self.rng, uuid4()
        self.summary.needs += 1
        place = rng.choice(tx.PLACES[ward])
        variant = rng.randrange(len(topic.issues)) if variant is None else variant
        office = rng.choice(self.city.offices_in(ward))
        district = rng.choice(self.city.school_districts_in(ward)) if rng.random() < 0.85 else None
        source = rng.choice(list(tx.SOURCE_WEIGHTS["field"]))
        fmt = {"place": place, "office": office.name_ja,
               "district": district.name_ja if district else f"{place}地区"}
        lat, lon = tx.CENTRES[ward]
        fields = {
            "ward": ward, "office": office.id, "source": source,
            "school_district": district.id if district else None,
            "policy_area": topic.policy_area,
            "title": topic.issues[variant][0].format(**fmt),
            "description": (topic.issues[variant][1] + rng.choice(topic.extras)
                            + tx.SOURCE_NOTES[source]).format(**fmt),
            "observed_on": recorded - timedelta(days=rng.randint(0, 6)),
            "residents_affected": rng.randint(5, 800) if rng.random() < 0.6 else None,
            "urgency": rng.choices(URGENCIES, weights=(4, 11, 4, 1))[0],
            "location": {"lat": round(lat + rng.uniform(-0.02, 0.02), 5),
                         "lon": round(lon + rng.uniform(-0.02, 0.02), 5),
                         "address": f"熊本市{self.ward_ja[ward]}{place}付近"}
            if rng.random() < 0.5 else None,
            "plan_goals": list(topic.goals),
        }
        reporter = None
        if rng.random() < 0.1:
            reporter = {"name": f"{rng.choice(tx.SURNAMES)} {rng.choice(tx.GIVEN_NAMES)}",
                        "contact": f"bench-{need_id.hex[:8]}@example.invalid"}
        recorder = self.actors.get(f"demo-{office.id}-staff") or self._staff(ward)
        self._on(steps, recorded, lambda when: acts.record_need(
            self.app, recorder, need_id, fields, reporter, when))
        if triaged is not None:
            staff = self._staff(ward)
            self._on(steps, triaged, lambda when: acts.act_on_need(
                self.app, staff, need_id, "triage", when, policy_area=None,
                urgency=rng.choice(("high", None, None, None)), note=rng.choice(tx.TRIAGE_NOTES)))
        return need_id

    def _need_feedback(self, steps: list[tuple[datetime, int, Step]], d: date, ward: str,
                       need_id: UUID) -> None:
        if self.rng.random() < 0.6:
            message, channel = self.rng.choice(tx.NEED_FEEDBACK), self.rng.choice(
                FEEDBACK_CHANNELS)
            self._on(steps, d, lambda when: acts.act_on_need(
                self.app, self._staff(ward), need_id, "feedback", when, message=message,
                channel=channel))

    def _standalone(self, steps: list[tuple[datetime, int, Step]], start: date, ward: str,
                    topic: tx.Topic) -> None:
        """A need no proposal takes: left waiting, resolved, declined, or merged into a twin."""
        rng, staff = self.rng, self._staff(ward)
        fate = rng.choices(("recorded", "triaged", "resolved", "declined", "merged"),
                           weights=(8, 30, 25, 15, 12))[0]
        triaged = self._fwd(start, rng.randint(1, 10)) if fate != "recorded" else None
        need_id = self._need(steps, ward, topic, start, triaged)
        if fate == "merged":
            assert triaged is not None
            twin = self._need(steps, ward, topic, self._fwd(triaged, rng.randint(2, 15)), None)
            merged = self._fwd(triaged, rng.randint(17, 25))
            self._on(steps, merged, lambda when: acts.act_on_need(
                self.app, staff, twin, "merge", when, into=need_id))
            self._need_feedback(steps, self._fwd(merged, rng.randint(2, 10)), ward, twin)
        elif fate in ("resolved", "declined"):
            acted = self._fwd(start, rng.randint(13, 35))
            if fate == "resolved":
                note = rng.choice(tx.RESOLVE_NOTES)
                self._on(steps, acted, lambda when: acts.act_on_need(
                    self.app, staff, need_id, "resolve-locally", when, note=note))
            else:
                reason = rng.choice(tx.DECLINE_REASONS)
                self._on(steps, acted, lambda when: acts.act_on_need(
                    self.app, staff, need_id, "decline", when, reason=reason))
            self._need_feedback(steps, self._fwd(acted, rng.randint(2, 15)), ward, need_id)

    # ── proposals ─────────────────────────────────────────────────────────

    def _proposal_case(self, steps: list[tuple[datetime, int, Step]], start: date, ward: str,
                       topic: tx.Topic) -> None:
        weights = SETTLED_WEIGHTS if (date_jst(self.now) - start).days > SETTLED_AFTER_DAYS \
            else STATUS_WEIGHTS
        status = self.rng.choices(list(weights), weights=list(weights.values()))[0]
        self._proposal(steps, start, ward, topic, self.rng.choice(tx.PATHS[status]))

    def _merged_pair(self, steps: list[tuple[datetime, int, Step]], start: date, ward: str,
                     topic: tx.Topic) -> None:
        """Two wards propose the same thing; the second is merged into the first."""
        into, info = self._proposal(steps, start, ward, topic,
                                    self.rng.choice(tx.PATHS["completed"]))
        other = self.rng.choice([w for w in WARDS if w != ward])
        self._proposal(steps, self._fwd(start, 2), other, topic,
                       self.rng.choice(tx.PATHS["merged"]), into=(into, info))

    def _proposal(self, steps: list[tuple[datetime, int, Step]], start: date, ward: str,
                  topic: tx.Topic, path: tuple[str, ...],
                  into: tuple[UUID, str] | None = None) -> tuple[UUID, str]:
        rng = self.rng
        lead = topic.alt if "transfer" in path else topic.lead
        co = [d for d in topic.co if d != lead] if "ask_co" in path or rng.random() < 0.6 else []
        needs = []
        for _ in range(rng.choice((1, 1, 1, 2))):
            triaged = self._fwd(start, rng.randint(1, 10))
            needs.append(self._need(steps, ward, topic, start, triaged))
        drafted = self._fwd(start, 12)
        ctx = {"theme": topic.theme, "ward": self.ward_ja[ward], "n": len(needs),
               "places": "・".join(rng.sample(tx.PLACES[ward], len(needs))),
               "fy": _fiscal_year(drafted) + 1, "lead": topic.lead,
               "other": f"「{into[1]}」" if into else ""}
        cost = rng.randint(*topic.cost) * 10_000
        proposal_id = uuid4()
        self.summary.proposals += 1
        title = topic.proposal.format(**ctx)
        fields = {"ward": ward, "title": title, "summary": topic.summary.format(**ctx),
                  "needs": needs, "lead_department": lead, "co_departments": co,
                  "policy_area": topic.policy_area, "estimated_cost_jpy": cost,
                  "plan_goals": [*topic.goals, "6-8-2"]}
        staff = self._staff(ward)
        self._on(steps, drafted, lambda when: acts.create_proposal(
            self.app, staff, proposal_id, fields, when))
        d, state = drafted, "draft"
        for kind in path:
            # a merge comes soon after the target's submission, while it is still open
            gap = rng.randint(*tx.GAPS[kind]) if kind != "ack" else rng.randint(1, 12)
            d = self._fwd(d, gap)
            if kind in ("defer", "budget_request"):
                ctx["fy"] = _fiscal_year(d) + 1
            actor, action, body = self._action(kind, ward, lead, co, ctx, state, cost, into)
            self._on(steps, d, _proposal_step(self.app, actor, proposal_id, action, body))
            lead = topic.lead if kind == "transfer" else lead
            state = tx.AFTER.get(kind, state)
        if rng.random() < 0.5:
            comment = rng.choice(tx.COMMENTS).format(**ctx)
            self._on(steps, self._fwd(drafted, rng.randint(1, 20)), _proposal_step(
                self.app, self.actors[f"demo-{ward}-mayor"], proposal_id, "comment",
                {"body": comment}))
        return proposal_id, title

    def _action(self, kind: str, ward: str, lead: str, co: list[str], ctx: dict[str, object],
                state: str, cost: int,
                into: tuple[UUID, str] | None) -> tuple[Actor, str, dict[str, object]]:
        """Who does an act of the demo's paths, under which action name, with which body."""
        rng, staff, reviewer = self.rng, self._staff(ward), self._reviewer(lead)

        def pick(texts: tuple[str, ...]) -> str:
            return rng.choice(texts).format(**ctx)

        if kind == "amend":
            return staff, "amend", {"changes": {"estimated_cost_jpy": cost * 9 // 10}}
        if kind == "submit":
            return self.actors[f"demo-{ward}-mayor"], "submit", {}
        if kind in ("ask", "ask_co"):
            asker = self._reviewer(co[0]) if co and kind == "ask_co" else reviewer
            return asker, "request-info", {"question": rng.choice(tx.QUESTIONS)}
        if kind in ("accept", "reject", "defer"):
            return reviewer, "decide", {
                "decision": tx.AFTER[kind], "reason": pick(tx.DECISION_REASONS[kind]),
                "deferred_to_fiscal_year": ctx["fy"] if kind == "defer" else None}
        if kind in ("budgeted", "not_budgeted"):
            amount = cost * rng.randint(80, 100) // 100 // 10_000 * 10_000
            return reviewer, "record-budget", {
                "outcome": kind, "fiscal_year": ctx["fy"],
                "amount_jpy": amount if kind == "budgeted" else None}
        if kind == "feedback":
            return rng.choice((reviewer, staff)), "feedback", {
                "message": tx.FEEDBACK.get(state, tx.FEEDBACK["accepted"]).format(**ctx),
                "channel": rng.choice(FEEDBACK_CHANNELS)}
        if kind == "evaluate":
            scores = (3, 4, 4, 5, 5) if state == "completed" else (1, 2, 2, 3)
            # declared indicators only (infra/cities/kumamoto.yaml), as the demo records them
            return staff, "evaluate", {
                "satisfaction": rng.choice(scores), "note": rng.choice(tx.EVALUATION_NOTES),
                "indicators": {"answered-within-target": float(rng.randint(12, 90)),
                               "resident-satisfaction": round(1 + 4 * rng.uniform(0.3, 0.9), 1)}}
        if kind in ("withdraw", "withdraw_return"):
            return staff, "withdraw", {"reason": rng.choice(tx.WITHDRAW_REASONS),
                                       "return_needs": kind == "withdraw_return"}
        simple: dict[str, tuple[str, dict[str, object]]] = {
            "ack": ("acknowledge", {"note": rng.choice(tx.ACK_NOTES)}),
            "transfer": ("transfer", {"to_department": ctx["lead"],
                                      "reason": pick(tx.TRANSFER_REASONS)}),
            "answer": ("provide-info", {"answer": pick(tx.ANSWERS)}),
            "review": ("start-review", {}),
            "budget_request": ("request-budget", {"fiscal_year": ctx["fy"], "amount_jpy": cost}),
            "start": ("start-implementation", {"note": rng.choice(tx.IMPLEMENTATION_NOTES)}),
            "complete": ("complete", {"summary": pick(tx.COMPLETION_SUMMARIES)}),
            "merge": ("merge", {"into": into[0] if into else None,
                                "reason": pick(tx.MERGE_REASONS)}),
        }
        action, body = simple[kind]
        return (staff if kind == "answer" else reviewer), action, body


def _proposal_step(app: acts.BatchingTsunagi, actor: Actor, proposal_id: UUID, action: str,
                   body: dict[str, object]) -> Step:
    return lambda when: acts.act_on_proposal(app, actor, proposal_id, action, when, **body)


def _fiscal_year(d: date) -> int:
    return d.year if d.month >= 4 else d.year - 1


def open_app(settings: Settings, city: CityData | None = None,
             calendar: BusinessCalendar | None = None) -> acts.BatchingTsunagi:
    """A batching application on the store the settings name (its vault beside it)."""
    city = city or load_city(settings.city)
    if settings.uses_postgres:
        vault_db = open_database(settings.database_url)
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        vault_db = open_database(settings.data_dir / "personal-data.sqlite")
    return acts.BatchingTsunagi(city, SqlPersonalDataVault(vault_db),
                                calendar or default_calendar(), env=event_store_env(settings))


def generate(settings: Settings, events: int, years: float = 10.0, seed: int = 2014,
             now: datetime | None = None) -> Summary:
    """Append about `events` events of city history to the store the settings name."""
    app = open_app(settings)
    try:
        return Generator(app, now or datetime.now(UTC), years, seed, events).run()
    finally:
        app.close()


def main(argv: list[str] | None = None) -> int:
    """Command line: prints the summary as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.datagen", description=__doc__)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--years", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)
    settings = Settings(data_dir=args.data_dir or Path("./var"), database_url=args.database_url)
    print(json.dumps(generate(settings, args.events, args.years, args.seed).as_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

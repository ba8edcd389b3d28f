"""A deterministic demo history for Kumamoto, written through Tsunagi's public commands.

`load_demo(app, now)` records about 230 community needs over the five wards and about
50 proposals that between them reach every proposal status, with `effective_at` spread
over the 18 months before `now` (every act on a JST business day in office hours, each
command strictly later than the one before). The same seed and `now` give the same
history; the text and the shape of the histories come from `infra/demo_texts.py`.

Every aggregate id is derived with uuid5 from `DEMO_NAMESPACE` and the item's index, and
need 0 is the first thing written, so its presence marks the demo as loaded: a second
call writes nothing and says so.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid5

from domain.application import Tsunagi
from domain.calendar import JST, date_jst
from domain.errors import NotFound
from domain.need import FEEDBACK_CHANNELS, URGENCIES
from domain.observation import RecordObservation
from domain.permissions import Actor, Role
from domain.reference import CityData, Office
from infra import demo_texts as tx
from infra.city import load_city

DEMO_NAMESPACE = UUID("5c1e2a60-2014-5d5a-8a6b-6b756d616d6f")
#: the demo history lies within this span before `now` (a little under 18 months)
WINDOW = timedelta(days=540)
WARDS = ("chuo", "higashi", "nishi", "minami", "kita")
NEEDS_TOTAL = 230


@dataclass(frozen=True)
class DemoSummary:
    """What the demo holds: counts of needs and proposals, by status."""

    needs: int
    proposals: int
    proposal_statuses: dict[str, int]
    need_statuses: dict[str, int]
    already_loaded: bool


def demo_need_id(index: int) -> UUID:
    """The id of the demo's need number `index`."""
    return uuid5(DEMO_NAMESPACE, f"need/{index}")


def demo_proposal_id(index: int) -> UUID:
    """The id of the demo's proposal number `index`."""
    return uuid5(DEMO_NAMESPACE, f"proposal/{index}")


def demo_actors(city: CityData | None = None) -> list[Actor]:
    """One demo user per role and scope: rooms, ward staff and mayors, divisions, others."""
    city = city or load_city("kumamoto")
    actors: list[Actor] = []
    for ward in city.wards:
        for office in city.offices_in(ward.id, "exchange_room"):
            actors.append(Actor(f"demo-{office.id}-staff", f"{office.name_ja} 職員（デモ）",
                                Role.EXCHANGE_ROOM_STAFF, ward=ward.id, office=office.id))
        actors.append(Actor(f"demo-{ward.id}-staff", f"{ward.name_ja}役所 職員（デモ）",
                            Role.WARD_STAFF, ward=ward.id))
        actors.append(Actor(f"demo-{ward.id}-mayor", f"{ward.name_ja}長（デモ）",
                            Role.WARD_MAYOR, ward=ward.id))
    for dept in city.departments:
        actors.append(Actor(f"demo-{dept.id}-reviewer", f"{dept.name_ja} 担当（デモ）",
                            Role.DEPARTMENT_REVIEWER, department=dept.id))
    actors.append(Actor("demo-monitor", "政策企画・行政改革担当（デモ）", Role.MONITOR))
    actors.append(Actor("demo-admin", "システム管理者（デモ）", Role.ADMIN))
    return actors


def load_demo(app: Tsunagi, now: datetime, seed: int = 2014) -> DemoSummary:
    """Write the demo history unless it is already there; `now` must not be after app.clock()."""
    if demo_need_id(0) in app.repository:
        return demo_summary(app, already_loaded=True)
    if now > app.clock():
        raise ValueError(f"now ({now.isoformat()}) is after the application's clock")
    plan = _Plan(app, now, seed)
    plan.build()
    plan.run()
    return demo_summary(app, already_loaded=False)


def demo_summary(app: Tsunagi, already_loaded: bool = False) -> DemoSummary:
    """Count the demo's needs and proposals as they stand now."""
    needs = _statuses(app.get_need, demo_need_id)
    proposals = _statuses(app.get_proposal, demo_proposal_id)
    return DemoSummary(sum(needs.values()), sum(proposals.values()), dict(proposals),
                       dict(needs), already_loaded)


def _statuses(get: Callable[[UUID], Any], make_id: Callable[[int], UUID]) -> Counter[str]:
    counts: Counter[str] = Counter()
    index = 0
    while True:
        try:
            counts[str(get(make_id(index)).status)] += 1
        except NotFound:
            return counts
        index += 1


def _demo_value(unit: str, rng: random.Random) -> float:
    """A plausible value in the unit (demo figures)."""
    if unit == "percent":
        return round(rng.uniform(35, 90), 1)
    if unit == "score_1_5":
        return round(rng.uniform(2.8, 4.4), 2)
    if unit == "per_1000_residents":
        return round(rng.uniform(0, 3.5), 2)
    return float(rng.randint(0, 40))


def _fiscal_year(d: date) -> int:
    return d.year if d.month >= 4 else d.year - 1


@dataclass
class _NeedInfo:
    id: UUID
    topic: tx.Topic
    place: str
    variant: int
    recorded: date


@dataclass
class _ProposalInfo:
    id: UUID
    ward: str
    topic: tx.Topic
    title: str
    transferred: bool
    submitted: date | None = None
    final: date | None = None


Step = Callable[[datetime], object]


class _Plan:
    """Lays out every act on a date, then runs them in time order."""

    def __init__(self, app: Tsunagi, now: datetime, seed: int) -> None:
        self.app, self.city, self.cal = app, app.city, app.calendar
        self.rng = random.Random(seed)
        self.first = self._snap(date_jst(now - WINDOW) + timedelta(days=1))
        self.last = self._back(date_jst(now), 1)  # never today, so never after `now`
        self.earliest = self._fwd(self.first, 30)  # proposals start after their needs
        self.actors = {a.id: a for a in demo_actors(self.city)}
        self.ward_ja = {w.id: w.name_ja for w in self.city.wards}
        self.steps: list[tuple[datetime, int, Step]] = []
        self.needs = 0
        self.proposals: list[_ProposalInfo] = []
        self.pool: dict[str, list[_NeedInfo]] = {w: [] for w in WARDS}  # triaged, waiting

    # ── dates and steps ───────────────────────────────────────────────────

    def _snap(self, d: date) -> date:
        while not self.cal.is_business_day(d):
            d += timedelta(days=1)
        return d

    def _fwd(self, d: date, n: int) -> date:
        return self.cal.add_business_days(self._snap(d), n)

    def _back(self, d: date, n: int) -> date:
        while n > 0:
            d -= timedelta(days=1)
            n -= self.cal.is_business_day(d)
        return d

    def _pick(self, lo: date, hi: date) -> date:
        if hi <= lo:
            return lo
        return min(self._snap(lo + timedelta(days=self.rng.randint(0, (hi - lo).days))), hi)

    def _on(self, d: date, step: Step, at: time | None = None) -> None:
        at = at or time(9 + self.rng.randrange(8), self.rng.randrange(60))
        self.steps.append((datetime.combine(d, at, tzinfo=JST).astimezone(UTC),
                           len(self.steps), step))

    def _act(self, d: date, actor: Actor, target: UUID, action: str, need: bool = False,
             **body: Any) -> None:
        command = self.app.act_on_need if need else self.app.act_on_proposal

        def step(when: datetime) -> object:
            dated: dict[str, Any] = {"delivered_on": date_jst(when)} if action == "feedback" else {}
            return command(actor, target, action, effective_at=when, **body, **dated)

        self._on(d, step)

    def run(self) -> None:
        """Carry out the acts in time order, each strictly after the one before."""
        previous: datetime | None = None
        for when, _, step in sorted(self.steps, key=lambda s: (s[0], s[1])):
            if previous is not None and when <= previous:
                when = previous + timedelta(seconds=1)
            step(when)
            previous = when

    # ── actors and reference data ─────────────────────────────────────────

    def _staff(self, ward: str) -> Actor:
        return self.actors[f"demo-{ward}-staff"]

    def _reviewer(self, department: str) -> Actor:
        return self.actors[f"demo-{department}-reviewer"]

    def _office(self, ward: str) -> Office:
        r = self.rng.random()
        kinds = ("exchange_room",) if r < 0.7 else ("ward_office",) if r < 0.88 else (
            "branch", "general_branch", "community_centre")
        return self.rng.choice([o for o in self.city.offices_in(ward) if o.kind in kinds])

    def _source(self, office: Office) -> str:
        desk = office.kind in ("ward_office", "branch", "general_branch")
        weights = tx.SOURCE_WEIGHTS["desk" if desk else "field"]
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    # ── the plan ──────────────────────────────────────────────────────────

    def build(self) -> None:
        """Need 0 first (the marker), then proposals with their needs, then the rest."""
        rng = self.rng
        marker = self._need("chuo", tx.TOPICS[0], self.first, self._fwd(self.first, 3),
                            at=time(8, 30))
        self.pool["chuo"].append(marker)
        statuses = [s for s, n in tx.COUNTS.items() for _ in range(n) if s != "merged"]
        rng.shuffle(statuses)
        used: Counter[str] = Counter()
        for i, status in enumerate(statuses):
            ward = WARDS[i % len(WARDS)]
            path = tx.PATHS[status][used[status] % len(tx.PATHS[status])]
            used[status] += 1
            self._proposal(ward, rng.choice(tx.topics_for(ward)), status, path)
        for i in range(tx.COUNTS["merged"]):
            self._merged(tx.PATHS["merged"][i % len(tx.PATHS["merged"])])
        for i in range(NEEDS_TOTAL - self.needs):
            ward = WARDS[i % len(WARDS)]
            self._standalone(ward, rng.choice(tx.topics_for(ward)))
        self._observations()

    def _observations(self) -> None:
        """A monitor's yearly values of every declared indicator (own random stream)."""
        rng = random.Random(11)  # apart from the main stream, so the rest stays as it was
        monitor = self.actors["demo-monitor"]
        this_year = _fiscal_year(self.last)
        for fy in (this_year - 1, this_year):
            day = min(self.last, self._snap(date(fy + 1, 4, 20)))
            for indicator in self.city.indicators:
                places: list[tuple[str | None, str | None]] = (
                    [(w.id, None) for w in self.city.wards] if indicator.scope == "ward"
                    else [(None, d.id) for d in self.city.school_districts]
                    if indicator.scope == "school_district" else [(None, None)])
                for ward, district in places:
                    value = _demo_value(indicator.unit, rng)
                    command = RecordObservation(
                        indicator=indicator.id, fiscal_year=fy, ward=ward,
                        school_district=district, value=value,
                        source=f"{fy}年度 市民アンケート・活動記録（デモ）")
                    key = f"observation/{indicator.id}/{fy}/{ward or district or 'city'}"
                    self._on(day, self._observe(monitor, command, uuid5(DEMO_NAMESPACE, key)))

    def _observe(self, monitor: Actor, command: RecordObservation, ident: UUID) -> Step:
        # A fixed id per observation, so the same seed gives the same history.
        def step(when: datetime) -> object:
            dated = dataclasses.replace(command, effective_at=when)
            return self.app.record_observation(monitor, dated, ident)
        return step

    def _need(self, ward: str, topic: tx.Topic, recorded: date, triaged: date | None,
              place: str | None = None, variant: int | None = None,
              at: time | None = None) -> _NeedInfo:
        rng, index = self.rng, self.needs
        self.needs += 1
        need_id = demo_need_id(index)
        place = place or rng.choice(tx.PLACES[ward])
        variant = rng.randrange(len(topic.issues)) if variant is None else variant
        office = self._office(ward)
        district = rng.choice(self.city.school_districts_in(ward)) if rng.random() < 0.85 else None
        source = self._source(office)
        fmt = {"place": place, "office": office.name_ja,
               "district": district.name_ja if district else f"{place}地区"}
        reclassify = rng.random() < 0.1  # heard as "other", classified at triage
        lat, lon = tx.CENTRES[ward]
        fields = {
            "ward": ward, "office": office.id, "source": source,
            "school_district": district.id if district else None,
            "policy_area": "other" if reclassify else topic.policy_area,
            "title": topic.issues[variant][0].format(**fmt),
            "description": (topic.issues[variant][1] + rng.choice(topic.extras)
                            + tx.SOURCE_NOTES[source]).format(**fmt),
            "observed_on": max(self.first, recorded - timedelta(days=rng.randint(0, 6))),
            "residents_affected": rng.randint(5, 800) if rng.random() < 0.6 else None,
            "urgency": rng.choices(URGENCIES, weights=(4, 11, 4, 1))[0],
            "location": {"lat": round(lat + rng.uniform(-0.02, 0.02), 5),
                         "lon": round(lon + rng.uniform(-0.02, 0.02), 5),
                         "address": f"熊本市{self.ward_ja[ward]}{place}付近"}
            if rng.random() < 0.5 else None,
            "plan_goals": [*topic.goals, *(["6-8-2"] if rng.random() < 0.2 else [])],
        }
        reporter = None
        if rng.random() < 0.25:
            reporter = {"name": f"{rng.choice(tx.SURNAMES)} {rng.choice(tx.GIVEN_NAMES)}",
                        "contact": f"demo-{index:04d}@example.invalid"}
        recorder = self.actors.get(f"demo-{office.id}-staff") or self._staff(ward)
        self._on(recorded, lambda when: self.app.record_need(
            recorder, fields, reporter=reporter, need_id=need_id, effective_at=when), at)
        staff, amend = self._staff(ward), self._fwd(recorded, 1)
        if rng.random() < 0.15 and (triaged is None or amend < triaged) and amend <= self.last:
            self._act(amend, staff, need_id, "amend", need=True,
                      changes={"residents_affected": rng.randint(10, 400)})
        if triaged is not None:
            self._act(triaged, staff, need_id, "triage", need=True,
                      policy_area=topic.policy_area if reclassify else None,
                      urgency=rng.choice(("high", None, None, None, None)),
                      note=rng.choice(tx.TRIAGE_NOTES))
        return _NeedInfo(need_id, topic, place, variant, recorded)

    def _need_feedback(self, d: date, ward: str, need_id: UUID) -> None:
        if self.rng.random() < 0.6:
            self._act(d, self._staff(ward), need_id, "feedback", need=True,
                      message=self.rng.choice(tx.NEED_FEEDBACK),
                      channel=self.rng.choice(FEEDBACK_CHANNELS))

    def _standalone(self, ward: str, topic: tx.Topic) -> None:
        """A need that no proposal takes: left waiting, resolved, declined or merged."""
        rng, staff = self.rng, self._staff(ward)
        fate = rng.choices(("recorded", "triaged", "resolved", "declined", "merged"),
                           weights=(8, 30, 25, 15, 12))[0]
        targets = [n for n in self.pool[ward] if n.recorded <= self._back(self.last, 40)]
        if fate == "recorded":
            self._need(ward, topic, self._pick(self._back(self.last, 15), self.last), None)
        elif fate == "merged" and targets:  # the same need heard again elsewhere
            into = rng.choice(targets)
            recorded = self._fwd(into.recorded, rng.randint(2, 15))
            triaged = self._fwd(recorded, rng.randint(1, 5)) if rng.random() < 0.3 else None
            need = self._need(ward, into.topic, recorded, triaged, into.place, into.variant)
            merged = self._fwd(triaged or recorded, rng.randint(1, 8))
            self._act(merged, staff, need.id, "merge", need=True, into=into.id)
            self._need_feedback(self._fwd(merged, rng.randint(2, 10)), ward, need.id)
        elif fate in ("resolved", "declined"):
            recorded = self._pick(self.first, self._back(self.last, 50))
            triage = rng.random() < (0.7 if fate == "resolved" else 0.5)
            need = self._need(ward, topic, recorded,
                              self._fwd(recorded, rng.randint(1, 10)) if triage else None)
            acted = self._fwd(recorded, rng.randint(13, 35))
            if fate == "resolved":
                self._act(acted, staff, need.id, "resolve-locally", need=True,
                          note=rng.choice(tx.RESOLVE_NOTES))
            else:
                self._act(acted, staff, need.id, "decline", need=True,
                          reason=rng.choice(tx.DECLINE_REASONS))
            self._need_feedback(self._fwd(acted, rng.randint(2, 15)), ward, need.id)
        else:
            recorded = self._pick(self.first, self._back(self.last, 12))
            need = self._need(ward, topic, recorded, self._fwd(recorded, rng.randint(1, 10)))
            self.pool[ward].append(need)

    def _merged(self, path: tuple[str, ...]) -> None:
        """A proposal from another ward on the same theme, merged into an open one."""
        candidates = [p for p in self.proposals if p.submitted and not p.transferred]
        self.rng.shuffle(candidates)
        for into in candidates:
            assert into.submitted is not None
            lo = max(self._fwd(into.submitted, 2), self._fwd(self.earliest, 40))
            hi = min(self._back(into.final or self._fwd(self.last, 1), 1),
                     self._fwd(into.submitted, 25))
            if lo <= hi:
                wards = [w for w in WARDS
                         if w != into.ward and (not into.topic.wards or w in into.topic.wards)]
                self._proposal(self.rng.choice(wards), into.topic, "merged", path,
                               merge_on=self._pick(lo, hi), into=into)
                return
        raise AssertionError("no open proposal to merge a demo proposal into")

    def _proposal(self, ward: str, topic: tx.Topic, status: str, path: Sequence[str],
                  merge_on: date | None = None, into: _ProposalInfo | None = None) -> None:
        rng = self.rng
        lead = topic.alt if "transfer" in path else topic.lead  # a transfer puts it right
        co = [d for d in topic.co if d != lead] if "ask_co" in path or rng.random() < 0.6 else []
        gaps = [self._gap(kind, topic.lead) for kind in path]  # acks come after any transfer
        if merge_on is not None:  # laid out back from the merge
            start = self._back(merge_on, sum(gaps[: path.index("merge") + 1]))
        else:
            end = self._back(self.last, rng.randint(0, tx.RECENT[status])) \
                if status in tx.RECENT else self.last
            latest = self._back(end, sum(gaps))
            start = max(self.earliest, latest if status in tx.RECENT
                        else self._pick(self.earliest, latest))
            room = self.cal.business_days_between(start, self.last)
            if sum(gaps) > room:
                gaps = [max(1, g * room // sum(gaps)) for g in gaps]
        dates = [start]
        for gap in gaps:
            dates.append(self._fwd(dates[-1], gap))
        needs = []
        for _ in range(rng.choice((1, 1, 2, 2, 2, 3))):
            triaged = self._back(start, rng.randint(1, 15))
            needs.append(self._need(ward, topic, self._back(triaged, rng.randint(1, 10)), triaged))
        ctx = {"theme": topic.theme, "ward": self.ward_ja[ward], "n": len(needs),
               "places": "・".join(dict.fromkeys(n.place for n in needs)),
               "fy": _fiscal_year(start) + 1, "lead": topic.lead,
               "other": f"{self.ward_ja[into.ward]}の「{into.title}」" if into else ""}
        cost = rng.randint(*topic.cost) * 10_000
        pid = demo_proposal_id(len(self.proposals))
        title = topic.proposal.format(**ctx)
        fields = {"ward": ward, "title": title,
                  "summary": topic.summary.format(**ctx), "needs": [n.id for n in needs],
                  "lead_department": lead, "co_departments": co,
                  "policy_area": topic.policy_area, "estimated_cost_jpy": cost,
                  "plan_goals": [*topic.goals, "6-8-2"]}
        staff = self._staff(ward)
        self._on(start, lambda when: self.app.create_proposal(
            staff, fields, proposal_id=pid, effective_at=when))
        info = _ProposalInfo(pid, ward, topic, title, "transfer" in path)
        state = "draft"
        for kind, d in zip(path, dates[1:], strict=True):
            if d > self.last:  # only what follows a merge can fall after the last day
                break
            if kind in ("defer", "budget_request"):  # for the coming fiscal year
                ctx["fy"] = _fiscal_year(d) + 1
            actor, action, body = self._action(kind, ward, lead, co, ctx, state, cost, into)
            self._act(d, actor, pid, action, **body)
            lead = topic.lead if kind == "transfer" else lead
            state = tx.AFTER.get(kind, state)
            info.submitted = d if kind == "submit" else info.submitted
            if kind in tx.FINAL_ACTIONS and info.final is None:
                info.final = d
        self._extras(pid, ward, lead, co, ctx, start, min(dates[-1], self.last))
        self.proposals.append(info)

    def _gap(self, kind: str, lead: str) -> int:
        if kind != "ack":
            return self.rng.randint(*tx.GAPS[kind])
        target = self.city.targets_for(lead).acknowledgement  # about a third are late
        late = self.rng.random() < 0.3
        return self.rng.randint(target + 1, target + 8) if late else self.rng.randint(1, target)

    def _action(self, kind: str, ward: str, lead: str, co: list[str], ctx: dict[str, Any],
                state: str, cost: int,
                into: _ProposalInfo | None) -> tuple[Actor, str, dict[str, Any]]:
        rng, staff, reviewer = self.rng, self._staff(ward), self._reviewer(lead)
        pick = lambda texts: rng.choice(texts).format(**ctx)  # noqa: E731
        if kind == "amend":
            return staff, "amend", {"changes": {"estimated_cost_jpy": cost * 9 // 10}}
        if kind == "submit":
            return self.actors[f"demo-{ward}-mayor"], "submit", {}
        if kind in ("ask", "ask_co"):  # a co-division may ask too
            asker = reviewer
            if co and (kind == "ask_co" or rng.random() < 0.4):
                asker = self._reviewer(co[0])
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
            return staff, "evaluate", {
                "satisfaction": rng.choice(scores), "note": rng.choice(tx.EVALUATION_NOTES),
                # declared indicators only (infra/cities/kumamoto.yaml); same draws as before
                "indicators": {"answered-within-target": float(rng.randint(12, 90)),
                               "resident-satisfaction":
                                   round(1 + 4 * rng.uniform(0.3, 0.9), 1)}}
        if kind in ("withdraw", "withdraw_return"):
            return staff, "withdraw", {"reason": rng.choice(tx.WITHDRAW_REASONS),
                                       "return_needs": kind == "withdraw_return"}
        simple: dict[str, tuple[str, dict[str, Any]]] = {
            "ack": ("acknowledge", {"note": rng.choice(tx.ACK_NOTES)}),
            "transfer": ("transfer", {"to_department": ctx["lead"],
                                      "reason": pick(tx.TRANSFER_REASONS)}),
            "answer": ("provide-info", {"answer": pick(tx.ANSWERS)}),
            "review": ("start-review", {}),
            "budget_request": ("request-budget", {"fiscal_year": ctx["fy"], "amount_jpy": cost}),
            "start": ("start-implementation", {"note": rng.choice(tx.IMPLEMENTATION_NOTES)}),
            "complete": ("complete", {"summary": pick(tx.COMPLETION_SUMMARIES)}),
            "merge": ("merge", {"into": into.id if into else None,
                                "reason": pick(tx.MERGE_REASONS)}),
        }
        action, body = simple[kind]
        return (staff if kind == "answer" else reviewer), action, body

    def _extras(self, pid: UUID, ward: str, lead: str, co: list[str], ctx: dict[str, Any],
                start: date, end: date) -> None:
        """Comments from other wards and divisions, and advance notices from head office."""
        rng, lo = self.rng, self._fwd(start, 1)
        if lo > self.last:
            return
        if rng.random() < 0.5:
            other = rng.choice([w for w in WARDS if w != ward])
            author = rng.choice([self._staff(other), self.actors[f"demo-{ward}-mayor"],
                                 *(self._reviewer(d) for d in co)])
            self._act(self._pick(lo, max(lo, end)), author, pid, "comment",
                      body=rng.choice(tx.COMMENTS).format(**ctx))
        if rng.random() < 0.35:
            self._act(self._pick(lo, max(lo, end)), self._reviewer(lead), pid, "notice",
                      body=rng.choice(tx.NOTICES).format(**ctx),
                      wards=sorted({ward, *rng.sample(WARDS, rng.randint(0, 2))}))

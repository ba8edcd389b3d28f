"""Whatever the domain accepts, every view can hold.

Hypothesis throws commands at the application with any value their types allow
(nulls, odd text, extreme numbers and dates, unknown ids, wrong types); what the
domain refuses writes nothing, and what it accepts every view must apply without
error, every read of the views must answer, and a rebuild from the log must equal
the views built live. Store-independent rules, so one real SQLite store per example.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import values
from domain.backlog import backlog
from domain.commands import NEED_COMMANDS, Channel, Source, Urgency
from domain.errors import DomainError
from domain.groupings import GROUP_BYS
from domain.metrics import UNIFORMITY_METRICS, response_metrics
from domain.permissions import Actor, Role
from domain.proposal_commands import PROPOSAL_COMMANDS
from domain.uniformity import uniformity
from infra.settings import Settings
from projections.needs_index import NeedFilter
from projections.proposals_index import ProposalFilter
from tests.integration.test_projection_recovery import dump, rebuild
from wiring.bootstrap import Container, build

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
ADMIN = Actor("admin", "管理者", Role.ADMIN)

WARDS = ["higashi", "chuo"]
OFFICES = ["higashi-exchange-room-1", "chuo-ward-office"]
DEPARTMENTS = ["transport-planning", "road-maintenance", "parks"]


def anything() -> st.SearchStrategy[Any]:
    """Values of the wrong kind, for any field."""
    return st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
                     st.dates(), st.lists(st.text(max_size=5), max_size=3))


def texts() -> st.SearchStrategy[Any]:
    odd = st.sampled_from(["", " ", "\u200b", "\x00", "あ" * 10_001, "\u3000要望\u3000",
                           "<script>", "😀" * 50, "a\nb"])
    return st.one_of(st.text(min_size=1, max_size=40), odd, anything())


def days() -> st.SearchStrategy[Any]:
    return st.one_of(st.dates(date(2024, 1, 1), date(2026, 11, 26)),
                     st.sampled_from([date(2000, 1, 1), date(1999, 12, 31), date(2099, 12, 31),
                                      date(9999, 12, 31), date(2026, 11, 27)]),
                     anything())


def refs(known: list[str]) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(known), st.sampled_from(known), texts())


def numbers(lo: int, hi: int) -> st.SearchStrategy[Any]:
    return st.one_of(st.integers(lo, hi), st.sampled_from([lo - 1, hi + 1, 10**30]),
                     anything())


#: strategies by field name: mostly plausible, often not
FIELD: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
    "ward": lambda: refs(WARDS), "office": lambda: refs(OFFICES),
    "source": lambda: refs([s.value for s in Source]),
    "policy_area": lambda: refs(["transport", "roads-parks", "welfare"]),
    "title": texts, "description": texts, "observed_on": days, "delivered_on": days,
    "school_district": lambda: st.one_of(st.none(), refs(["higashi-sakuragi"])),
    "residents_affected": lambda: numbers(0, values.RESIDENTS_MAX),
    "urgency": lambda: refs([u.value for u in Urgency]),
    "location": lambda: st.one_of(st.none(), st.fixed_dictionaries(
        {"lat": st.floats(-100, 100), "lon": st.floats(allow_nan=True)}), anything()),
    "plan_goals": lambda: st.one_of(st.lists(refs(["6-2-1", "1-1-1"]), max_size=3),
                                    anything()),
    "note": texts, "reason": texts, "message": texts, "summary": texts, "question": texts,
    "answer": texts, "body": texts,
    "channel": lambda: refs([c.value for c in Channel]),
    "lead_department": lambda: refs(DEPARTMENTS), "to_department": lambda: refs(DEPARTMENTS),
    "co_departments": lambda: st.one_of(st.lists(refs(DEPARTMENTS), max_size=2), anything()),
    "estimated_cost_jpy": lambda: numbers(0, values.YEN_MAX),
    "amount_jpy": lambda: numbers(0, values.YEN_MAX),
    "fiscal_year": lambda: numbers(2000, 2099),
    "deferred_to_fiscal_year": lambda: numbers(2000, 2099),
    "decision": lambda: refs(["accepted", "rejected", "deferred"]),
    "outcome": lambda: refs(["budgeted", "not_budgeted"]),
    "return_needs": lambda: st.one_of(st.booleans(), anything()),
    "satisfaction": lambda: numbers(1, 5),
    "indicators": lambda: st.one_of(st.none(), st.dictionaries(
        st.text(max_size=5), st.one_of(st.floats(allow_nan=True), st.text(max_size=5)),
        max_size=3), anything()),
    "wards": lambda: st.one_of(st.lists(refs(WARDS), max_size=3), anything()),
}

#: a plausible value per field: a command starts from these, then some fields are drawn
PLAUSIBLE: dict[str, Any] = {
    "note": "メモ", "reason": "理由", "message": "結果をお伝えしました", "channel": "letter",
    "delivered_on": date(2026, 11, 1), "summary": "概要", "question": "費用は？",
    "answer": "480万円", "decision": "accepted", "deferred_to_fiscal_year": 2027,
    "fiscal_year": 2027, "amount_jpy": 1_000_000, "outcome": "budgeted",
    "return_needs": True, "to_department": "parks", "satisfaction": 4, "body": "本文",
    "wards": ["higashi"], "title": "件名", "policy_area": "transport",
}
NEED_FIELDS = ["ward", "office", "source", "policy_area", "title", "description",
               "observed_on", "school_district", "residents_affected", "urgency", "location",
               "plan_goals"]
PROPOSAL_FIELDS = ["ward", "title", "summary", "lead_department", "co_departments",
                   "policy_area", "estimated_cost_jpy", "plan_goals"]


def drawn(data: st.DataObject, base: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """`base` with up to two of `names` drawn from their strategies."""
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=2)) \
        if names else []
    return {**base, **{n: data.draw(FIELD[n](), label=n) for n in chosen}}


def play(c: Container, data: st.DataObject, length: int) -> int:
    """Carry out a drawn history; returns how many commands the domain accepted."""
    needs: list[UUID] = []
    proposals: list[UUID] = []
    accepted = 0
    when = NOW - timedelta(days=400)
    for _ in range(length):
        when = min(NOW, when + timedelta(hours=data.draw(st.integers(0, 24 * 40))))
        kind = data.draw(st.sampled_from(["record", "need", "create", "proposal", "proposal"]))
        position = c.app.position()
        try:
            if kind == "record":
                base = {"ward": "higashi", "office": OFFICES[0], "source": "counter",
                        "policy_area": "transport", "title": "要望", "description": "内容",
                        "observed_on": min(when.date(), date(2026, 11, 25))}
                body = drawn(data, base, NEED_FIELDS)
                needs.append(c.app.record_need(ADMIN, body, effective_at=when).aggregate.id)
            elif kind == "create":
                base = {"ward": "higashi", "title": "提案", "lead_department": DEPARTMENTS[0],
                        "policy_area": "transport",
                        "needs": data.draw(st.lists(st.sampled_from(needs), max_size=2,
                                                    unique=True)) if needs else []}
                body = drawn(data, base, PROPOSAL_FIELDS)
                proposals.append(c.app.create_proposal(ADMIN, body,
                                                       effective_at=when).aggregate.id)
            else:
                accepted += act(c, data, kind, needs if kind == "need" else proposals, when)
                continue
            accepted += 1
        except DomainError:
            assert c.app.position() == position, f"a refused {kind} wrote an event"
    return accepted


def act(c: Container, data: st.DataObject, kind: str, targets: list[UUID],
        when: datetime) -> int:
    """One action on a drawn target, usually one its status allows now."""
    if not targets:
        return 0
    target = data.draw(st.sampled_from(targets))
    table = NEED_COMMANDS if kind == "need" else PROPOSAL_COMMANDS
    record = c.app.get_need(target) if kind == "need" else c.app.get_proposal(target)
    allowed = [a for a in record.allowed_actions() if a in table] or sorted(table)
    action = data.draw(st.one_of(st.sampled_from(allowed), st.sampled_from(sorted(table))))
    fields = list(getattr(table[action], "__dataclass_fields__", {}))
    base = {n: PLAUSIBLE[n] for n in fields if n in PLAUSIBLE}
    body = drawn(data, base, [n for n in fields if n in FIELD])
    if action == "amend":
        body = {"changes": drawn(data, {"title": "修正後"},
                                 NEED_FIELDS if kind == "need" else PROPOSAL_FIELDS)}
    if "into" in fields:
        body["into"] = data.draw(st.sampled_from(targets))
    position = c.app.position()
    run = c.app.act_on_need if kind == "need" else c.app.act_on_proposal
    try:
        run(ADMIN, target, action, None, when, **body)
    except DomainError:
        assert c.app.position() == position, f"a refused {action} wrote an event"
        return 0
    return 1


def read_everything(c: Container) -> None:
    """Every query the views answer, over everything they hold."""
    c.needs_index.list(NeedFilter(), 200, None)
    c.needs_index.list(NeedFilter(q="要望"), 200, None)
    c.proposals_index.list(ProposalFilter(), 200, None)
    for department in DEPARTMENTS:
        cursor = None
        while True:  # every page, each cursor as handed out
            _, cursor = c.department_queue.queue(department, c.calendar, NOW, 3, cursor)
            if cursor is None:
                break
    for ward in WARDS:
        c.ward_feedback.list("ward", ward, 200, None)
    c.ward_agenda.agenda(date(2000, 1, 1), date(2099, 12, 31), None, c.city, c.calendar, NOW)
    for as_of in (NOW, NOW - timedelta(days=365)):
        proposals, needs = c.clock_facts.load(as_of)
        for group_by in GROUP_BYS:
            groups = response_metrics(proposals, needs, group_by, c.city, c.calendar, as_of)
            if group_by == "ward":
                for metric in UNIFORMITY_METRICS:
                    uniformity(groups, metric)
        backlog(proposals, c.calendar, as_of)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.data_too_large])
@given(data=st.data(), length=st.integers(5, 40))
def test_whatever_the_domain_accepts_every_view_applies_reads_and_rebuilds(
        tmp_path_factory: Any, data: st.DataObject, length: int) -> None:
    store: Path = tmp_path_factory.mktemp("invariant")
    with build(Settings(data_dir=store, database_url=""), clock=lambda: NOW) as c:
        play(c, data, length)
        c.follower.catch_up()  # raises if any view cannot apply an accepted event
        assert c.follower.position() == c.app.position()
        read_everything(c)
        live = dump(c.views)
        rebuild(c.follower)
        assert dump(c.views) == live

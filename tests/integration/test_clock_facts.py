"""The clock-facts view over the demo history, on SQLite and PostgreSQL.

Clocks read from the stored facts must equal the clocks the aggregates compute,
and reading "as of T" must equal the facts of the log filtered by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.application import event_type_name
from domain.calendar import JST
from domain.clocks import CLOCKS, proposal_clocks, read_clock
from domain.facts import Fact, NeedFacts, ProposalFacts, facts_of
from domain.need import Need
from domain.permissions import Actor, Role
from domain.proposal import Proposal
from infra.demo import load_demo
from infra.settings import Settings
from wiring.bootstrap import Container, build

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
#: a moment in the middle of the demo's history
MIDDLE = datetime(2026, 6, 15, 2, 30, tzinfo=UTC)
HIDDEN = {"originator_id", "originator_version", "timestamp", "originator_topic",
          "effective_at", "actor"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def container(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Container]:
    """A container holding the demo history, its views caught up."""
    if request.param == "postgres":
        settings = Settings(data_dir=tmp_path, database_url=request.getfixturevalue("postgres_url"))
    else:
        settings = Settings(data_dir=tmp_path)
    c = build(settings, clock=lambda: NOW)
    try:
        load_demo(c.app, NOW)
        c.follower.catch_up()
        yield c
    finally:
        c.close()


def by_hand(c: Container, as_of: datetime | None) -> tuple[list[ProposalFacts],
                                                            list[NeedFacts]]:
    """The facts of every aggregate, straight from the log, kept up to `as_of`."""
    notifications = c.app.recorder.select_notifications(start=1, limit=1_000_000)
    kinds: dict[str, str] = {}
    wards: dict[str, str] = {}
    facts: dict[str, list[Fact]] = {}
    for n in notifications:
        event: Any = c.app.mapper.to_domain_event(n)
        if not isinstance(event, Proposal.Event | Need.Event):
            continue
        subject = str(event.originator_id)
        data = {k: v for k, v in event.__dict__.items() if k not in HIDDEN}
        name = event_type_name(event)
        if name in ("ProposalDrafted", "NeedRecorded"):
            kinds[subject] = "proposal" if name == "ProposalDrafted" else "need"
            wards[subject] = data["ward"]
        kept = [f for f in facts_of(name, data, event.effective_at)
                if as_of is None or f.at <= as_of]
        facts.setdefault(subject, []).extend(kept)
    proposals = [ProposalFacts(s, wards[s], tuple(f)) for s, f in facts.items()
                 if f and kinds[s] == "proposal"]
    needs = [NeedFacts(s, wards[s], tuple(f)) for s, f in facts.items()
             if f and kinds[s] == "need"]
    return proposals, needs


def test_clocks_from_stored_facts_equal_the_aggregates(container: Container) -> None:
    c = container
    proposals, needs = c.clock_facts.load()
    assert len(proposals) > 20 and len(needs) > 50
    submitted = 0
    for facts in proposals:
        proposal = c.app.get_proposal(UUID(facts.id))
        targets = c.city.targets_for(proposal.lead_department)
        expected = proposal_clocks(proposal, targets, c.calendar, NOW)
        stored = facts.clock_facts()
        for name in CLOCKS:
            got = read_clock(stored[name], getattr(targets, name), c.calendar, NOW)
            assert got == expected[name], (facts.id, name)
        assert facts.status == proposal.status
        assert facts.lead_department == proposal.lead_department
        assert facts.ward == proposal.ward
        assert facts.submitted_at == proposal.submitted_at
        submitted += proposal.submitted_at is not None
    assert submitted > 10
    for need_facts in needs:
        need = c.app.get_need(UUID(need_facts.id))
        assert need_facts.ward == need.ward
        assert need_facts.policy_area == need.policy_area
        assert need_facts.observed_on == need.observed_on
        assert isinstance(need_facts.observed_on, date)


def test_as_of_equals_the_log_filtered_by_hand(container: Container) -> None:
    c = container
    assert c.clock_facts.load() == by_hand(c, None)
    middle = c.clock_facts.load(as_of=MIDDLE)
    assert middle == by_hand(c, MIDDLE)
    # the middle really is the middle: some subjects and facts are not there yet
    everything = c.clock_facts.load()
    assert 0 < len(middle[0]) < len(everything[0])
    assert 0 < len(middle[1]) < len(everything[1])
    assert sum(len(p.facts) for p in middle[0]) < sum(len(p.facts) for p in everything[0])
    # the same instant in JST reads the same
    jst = MIDDLE.astimezone(JST)
    assert c.clock_facts.load(as_of=jst) == middle
    # a fact dated exactly at the instant is kept; a microsecond earlier it is not
    first = everything[0][0]
    at = first.facts[0].at
    assert c.clock_facts.proposal_facts(first.id, as_of=at) == first.as_of(at)
    assert c.clock_facts.proposal_facts(first.id, as_of=at - timedelta(microseconds=1)) is None


def test_proposal_facts_reads_one_proposal(container: Container) -> None:
    c = container
    proposals, _ = c.clock_facts.load()
    for facts in proposals[:10]:
        assert c.clock_facts.proposal_facts(facts.id) == facts
        assert c.clock_facts.proposal_facts(facts.id, as_of=MIDDLE) == (
            facts.as_of(MIDDLE) if facts.as_of(MIDDLE).facts else None)
    assert c.clock_facts.proposal_facts("00000000-0000-0000-0000-000000000000") is None


def test_kept_figures_are_computed_again_once_the_view_moves_on(container: Container) -> None:
    c = container
    computed: list[int] = []

    def figure() -> int:
        computed.append(c.clock_facts.position())
        return len(computed)

    assert c.clock_facts.memo("figure", NOW, figure) == 1
    later_same_day = NOW + timedelta(hours=1)  # past every fact: the same JST day's figure
    assert c.clock_facts.memo("figure", later_same_day, figure) == 1
    assert c.clock_facts.memo("figure", MIDDLE, figure) == 2  # a past instant: its own figure
    need = c.app.get_need(UUID(c.clock_facts.load()[1][0].id))
    staff = Actor(f"test-{need.ward}-staff", "区職員", Role.WARD_STAFF, ward=need.ward)
    c.app.act_on_need(staff, need.id, "amend", effective_at=NOW,
                      changes={"residents_affected": 7})
    c.follower.catch_up()
    assert c.clock_facts.memo("figure", NOW, figure) == 3
    assert computed[-1] > computed[0]

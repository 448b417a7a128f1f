"""The shared roll-up: period selection, counts against a plain-Python oracle, scope by role."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from domain.access import EVERYTHING, Scope
from models.db import session_scope
from models.members import active_member
from models.registry import current_plan
from models.rollup import (
    agency_lines,
    compute_rollup,
    item_lines,
    parse_period,
    scope_agency_ids,
    scope_for,
)
from models.tables import Agency
from sandbox.status_data import (
    ADMIN,
    COMMUNE_FOCAL,
    COORDINATOR,
    DISTRICT_LEADER,
    FOCAL_POINT,
    PROVINCE_LEADER,
    TODAY,
    Seeded,
    oracle,
    seed_status,
)


@pytest.fixture
def seeded(engine: Engine) -> Seeded:
    return seed_status(engine)


def test_parse_period() -> None:
    q4 = parse_period("2026-Q4")
    assert (q4.kind, q4.start, q4.end) == ("quarter", date(2026, 10, 1), date(2026, 12, 31))
    h1 = parse_period("2026-H1")
    assert (h1.kind, h1.start, h1.end) == ("half", date(2026, 1, 1), date(2026, 6, 30))
    year = parse_period("2027")
    assert (year.key, year.start, year.end) == ("2027", date(2027, 1, 1), date(2027, 12, 31))
    for bad in ("2026-Q5", "2026-H3", "26-Q1", "2026Q1", "", "2026-Q0"):
        with pytest.raises(ValueError):
            parse_period(bad)


@pytest.mark.parametrize("key", ["2026-Q3", "2026-Q4", "2026-H2", "2026"])
def test_totals_match_the_oracle(engine: Engine, seeded: Seeded, key: str) -> None:
    period = parse_period(key)
    expected = oracle(engine, period.start, period.end, TODAY)
    with session_scope(engine) as session:
        plan = current_plan(session)
        assert plan is not None
        rollup = compute_rollup(session, plan, period, TODAY, EVERYTHING)
    assert rollup.totals.as_dict() == expected
    assert rollup.totals.owed > 0
    # Axes and levels partition the totals.
    assert sum(a.counts.owed for a in rollup.axes) == expected["owed"]
    assert sum(c.owed for c in rollup.levels.values()) == expected["owed"]
    assert [a.number for a in rollup.axes] == [1, 2, 3, 4, 5, 6]


def test_quarter_counts_items_of_every_cadence_due_in_it(engine: Engine, seeded: Seeded) -> None:
    """Q4 2026 holds the quarterly, half-yearly and yearly items due 31 December."""
    with session_scope(engine) as session:
        plan = current_plan(session)
        assert plan is not None
        q3 = compute_rollup(session, plan, parse_period("2026-Q3"), TODAY, EVERYTHING)
        q4 = compute_rollup(session, plan, parse_period("2026-Q4"), TODAY, EVERYTHING)
        h2 = compute_rollup(session, plan, parse_period("2026-H2"), TODAY, EVERYTHING)
    assert q3.totals.owed + q4.totals.owed == h2.totals.owed
    # Nothing in Q4 is overdue on 16 November (all due 31 December); Q3's open items are.
    assert q4.totals.overdue == 0
    open_q3 = q3.totals.not_started + q3.totals.in_progress + q3.totals.blocked + q3.totals.returned
    assert q3.totals.overdue == open_q3 > 0
    assert q3.most_overdue and q3.most_overdue[0].counts.overdue >= q3.most_overdue[-1].counts.overdue


def test_class_owed_tasks_count_members_by_level(engine: Engine, seeded: Seeded) -> None:
    with session_scope(engine) as session:
        plan = current_plan(session)
        assert plan is not None
        rollup = compute_rollup(session, plan, parse_period("2026-Q4"), TODAY, EVERYTHING)
    task = next(t for t in rollup.tasks if t.code == "1.1")  # UBND cấp huyện, UBND cấp xã
    assert task.owed_by_class
    assert {k: v.owed for k, v in task.by_level.items()} == {"district": 14, "commune": 3}
    communes = [t for t in rollup.tasks if "commune" in t.by_level]
    assert communes and all(t.by_level["commune"].owed == 3 for t in communes)


def test_scope_by_role(engine: Engine, seeded: Seeded) -> None:
    with session_scope(engine) as session:
        def scope(user: int) -> Scope | None:
            return scope_for(session, active_member(session, user))

        assert scope(ADMIN) == EVERYTHING
        assert scope(COORDINATOR) == EVERYTHING
        assert scope(PROVINCE_LEADER) == EVERYTHING  # UBND-TINH counts as province-wide
        assert scope(DISTRICT_LEADER) == Scope(seeded.ha_long_id, subtree=True)
        assert scope(FOCAL_POINT) == Scope(seeded.ha_long_id, subtree=False)
        assert scope(99999) is None
        tree = scope_agency_ids(session, Scope(seeded.ha_long_id))
        assert tree == sorted([seeded.ha_long_id, *seeded.commune_ids])
        commune = scope(COMMUNE_FOCAL)
        hong_gai = session.exec(select(Agency.id).where(Agency.code == "XA-HONG-GAI")).one()
        assert commune is not None and scope_agency_ids(session, commune) == [hong_gai]


def test_scoped_rollup_matches_the_oracle(engine: Engine, seeded: Seeded) -> None:
    period = parse_period("2026-Q3")
    ids = {seeded.ha_long_id, *seeded.commune_ids}
    with session_scope(engine) as session:
        plan = current_plan(session)
        assert plan is not None
        tree = compute_rollup(session, plan, period, TODAY, Scope(seeded.ha_long_id))
        alone = compute_rollup(session, plan, period, TODAY, Scope(seeded.ha_long_id, subtree=False))
        lines = agency_lines(session, plan, period, TODAY, Scope(seeded.ha_long_id))
        items = item_lines(session, plan, period, TODAY, Scope(seeded.ha_long_id, subtree=False))
        names = {a.id: a.name for a in session.exec(select(Agency))}
    assert tree.totals.as_dict() == oracle(engine, period.start, period.end, TODAY, ids)
    assert alone.totals.as_dict() == oracle(engine, period.start, period.end, TODAY, {seeded.ha_long_id})
    assert {line.agency_id for line in lines} <= ids
    assert sum(line.counts.owed for line in lines) == tree.totals.owed
    assert len(items) == alone.totals.owed
    assert {i.agency_name for i in items} == {names[seeded.ha_long_id]}
    assert all(a.agency_id in ids for a in tree.most_overdue)

"""The four official classes (issue 13): the pure rule, its SQL form, item.completed_on kept by
the reporting service, and migration 0016's backfill."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import col, select

from domain.access import EVERYTHING
from domain.official import OFFICIAL_CLASSES, OfficialClass, classify, on_time_rate
from models import reports as svc
from models.db import make_engine, session_scope, upgrade
from models.registry import current_plan
from models.rollup import AgencyLine, Counts, agency_lines, league, official_class_sql, parse_period
from models.tables import Agency, Item, ItemState, Task
from tests.test_reports import NOW, m, world, write_draft  # noqa: F401 (fixture)

DUE = date(2026, 9, 30)
ON, LATE, WITHIN, OVERDUE = (OfficialClass.ON_TIME, OfficialClass.LATE, OfficialClass.WITHIN,
                             OfficialClass.OVERDUE)


@pytest.mark.parametrize(("state", "completed", "today", "expected"), [
    ("verified", DUE, DUE + timedelta(days=5), ON),  # on the due day itself: on time
    ("verified", DUE - timedelta(days=20), DUE - timedelta(days=30), ON),
    ("reported", DUE + timedelta(days=1), DUE + timedelta(days=1), LATE),  # awaiting, late
    ("verified", DUE + timedelta(days=15), DUE + timedelta(days=40), LATE),
    ("reported", None, DUE + timedelta(days=9), ON),  # no known day: nothing says late
    ("not_started", None, DUE, WITHIN),  # the due day itself is within
    ("in_progress", None, DUE - timedelta(days=3), WITHIN),
    ("blocked", None, DUE + timedelta(days=1), OVERDUE),
    ("returned", DUE - timedelta(days=5), DUE + timedelta(days=1), OVERDUE),  # returned: not done
    ("returned", None, DUE - timedelta(days=1), WITHIN),
])
def test_classify(state: str, completed: date | None, today: date, expected: OfficialClass) -> None:
    assert classify(state, DUE, completed, today) == expected


def test_on_time_rate_counts_settled_items_only() -> None:
    assert on_time_rate(6, 2, 2) == 0.6
    assert on_time_rate(0, 0, 0) is None  # nothing settled: no rate
    assert Counts(owed=12, verified=8, overdue=2, on_time=6, late=2, within=2).on_time_rate == 0.6


STATES = [state.value for state in ItemState]
DAYS = [DUE - timedelta(days=1), DUE, DUE + timedelta(days=1)]


COMBOS = list(itertools.product(STATES, [None, *DAYS]))


def _store_combos(engine: Engine) -> tuple[int, int]:
    """One item per (state, completion day), all due on DUE, for one task and agency."""
    with session_scope(engine) as session:
        task_id = session.exec(select(Task.id).order_by(col(Task.id))).first()
        agency_id = session.exec(select(Agency.id).order_by(col(Agency.id))).first()
        assert task_id is not None and agency_id is not None
        for n, (state, completed) in enumerate(COMBOS):
            session.add(Item(task_id=task_id, agency_id=agency_id, period_key=f"K{n}",
                             period_kind="quarter", period_start=date(2026, 7, 1), due_on=DUE,
                             state=state, completed_on=completed))
    return task_id, agency_id


def test_sql_case_agrees_with_classify(plan_engine: Engine) -> None:
    """Every state x completion day (none, before, on, after the due day) x today (before, on,
    after): the CASE the ranking groups by gives classify's answer."""
    _store_combos(plan_engine)
    for today in DAYS:
        with session_scope(plan_engine) as session:
            rows = session.execute(select(col(Item.state), col(Item.completed_on),
                                          official_class_sql(today))).all()
        assert len(rows) == len(COMBOS)
        for state, completed, found in rows:
            assert found == classify(state, DUE, completed, today).value, (state, completed, today)


def test_counts_of_the_rollup_agree_with_classify(plan_engine: Engine) -> None:
    """The roll-up's Counts (one scan: the late count, the others derived) against classify."""
    task_id, agency_id = _store_combos(plan_engine)
    for today in DAYS:
        with session_scope(plan_engine) as session:
            plan = current_plan(session)
            assert plan is not None
            lines = agency_lines(session, plan, parse_period("2026-Q3"), today, EVERYTHING, task_id=task_id)
        assert [line.agency_id for line in lines] == [agency_id]
        counts = lines[0].counts
        expected = [classify(state, DUE, completed, today) for state, completed in COMBOS]
        assert counts.by_official() == {which: expected.count(which) for which in OFFICIAL_CLASSES}
        assert sum(counts.by_official().values()) == counts.owed == len(COMBOS)


def _item(engine: Engine, item_id: int) -> Item:
    with session_scope(engine) as s:
        item = s.get(Item, item_id)
        assert item is not None
        s.expunge(item)
        return item


def test_completed_on_is_set_kept_and_cleared(plan_engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    """Done: the local day of the report (03:00 UTC is 10:00 in Hanoi: the same day; 20:00 UTC is
    the next morning there). Verified keeps it; returned and a later not-done report clear it."""
    late_evening = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
    svc.submit_report(plan_engine, world["fp1"], write_draft(plan_engine, world, "fp1"), now=late_evening,
                      timeout=timedelta(days=1))
    assert _item(plan_engine, world["item"]).completed_on == date(2026, 11, 28)
    with session_scope(plan_engine) as s:
        report = svc.current_report(s, world["item"])
        assert report is not None and report.id is not None
        svc.return_report(s, m(s, world, "coord"), report.id, 1, "Thiếu phụ lục", now=NOW)
    returned = _item(plan_engine, world["item"])
    assert (returned.state, returned.completed_on) == (ItemState.RETURNED.value, None)
    svc.submit_report(plan_engine, world["fp1"], write_draft(plan_engine, world, "fp1"), now=NOW)
    assert _item(plan_engine, world["item"]).completed_on == date(2026, 11, 27)
    with session_scope(plan_engine) as s:
        report = svc.current_report(s, world["item"])
        assert report is not None and report.id is not None
        svc.approve(s, m(s, world, "coord"), report.id, 2, now=NOW + timedelta(days=3))
    verified = _item(plan_engine, world["item"])
    assert (verified.state, verified.completed_on) == (ItemState.VERIFIED.value, date(2026, 11, 27))
    # A reported item that gets an in-progress report is no longer completed.
    svc.submit_report(plan_engine, world["fp1"], write_draft(plan_engine, world, "fp1", "item2"), now=NOW)
    svc.submit_report(plan_engine, world["fp1"],
                      write_draft(plan_engine, world, "fp1", "item2", state="in_progress"), now=NOW)
    assert _item(plan_engine, world["item2"]).completed_on is None


def test_migration_backfills_completed_on(tmp_path: object) -> None:
    """Items reported or verified before 0016 get the local day of their latest report;
    open and returned ones stay empty."""
    url = f"sqlite:///{tmp_path}/backfill.sqlite3"
    upgrade(url, "0015")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO plan (number, title, active_from, source_name, source_sha256,"
                          " created_at, updated_at) VALUES ('P', 'P', '2026-01-01', '', '',"
                          " '2026-01-01', '2026-01-01')"))
        conn.execute(text("INSERT INTO axis (plan_id, number, name) VALUES (1, 1, 'A')"))
        conn.execute(text("INSERT INTO task (plan_id, axis_id, code, position, row, content, task,"
                          " timeframe, cadence, note, coordination_note, created_at, updated_at)"
                          " VALUES (1, 1, '1', 1, '', '', 'T', '', 'quarterly', '', '',"
                          " '2026-01-01', '2026-01-01')"))
        conn.execute(text("INSERT INTO agency (name, code, level, aliases, active, created_at)"
                          " VALUES ('A', 'A', 'department', '', 1, '2026-01-01')"))
        conn.execute(text("INSERT INTO member (telegram_user_id, role, full_name, active, created_at)"
                          " VALUES (1, 'focal_point', 'F', 1, '2026-01-01')"))
        for n, state in enumerate(("verified", "reported", "returned", "in_progress"), start=1):
            conn.execute(text("INSERT INTO item (task_id, agency_id, period_key, period_kind, period_start,"
                              " due_on, state, created_at) VALUES (1, 1, :key, 'quarter', '2026-07-01',"
                              " '2026-09-30', :state, '2026-01-01')"), {"key": f"K{n}", "state": state})
        reports = [(1, 1, "in_progress", "2026-09-01 02:00:00"), (1, 2, "done", "2026-10-01 18:30:00"),
                   (2, 1, "done", "2026-09-29 01:00:00"), (3, 1, "done", "2026-09-20 01:00:00"),
                   (4, 1, "in_progress", "2026-09-20 01:00:00")]
        for item_id, version, state, at in reports:
            conn.execute(text("INSERT INTO report (item_id, version, member_id, state, note, document_number,"
                              " review_reason, created_at) VALUES (:i, :v, 1, :s, '', '', '', :at)"),
                         {"i": item_id, "v": version, "s": state, "at": at})
    upgrade(url)
    with engine.connect() as conn:
        found = dict(conn.execute(text("SELECT id, completed_on FROM item ORDER BY id")).all())
    assert found == {1: "2026-10-02", 2: "2026-09-29", 3: None, 4: None}  # 18:30 UTC = next day
    engine.dispose()


def test_league_places_ties_and_names() -> None:
    """league: highest on-time rate first, then fewest overdue, then Vietnamese name order
    (Đ after D); equal standings share a place, the next place skips; no rate comes last;
    two agencies of the same name both kept."""
    def line(ident: int, name: str, on_time: int, late: int, overdue: int, within: int = 0) -> AgencyLine:
        return AgencyLine(ident, name, "commune", Counts(owed=on_time + late + overdue + within,
                                                         on_time=on_time, late=late, overdue=overdue,
                                                         within=within))

    lines = [line(1, "Xã Đông", 1, 1, 0), line(2, "Xã Dương", 1, 1, 0), line(3, "Xã An", 2, 0, 0),
             line(4, "Xã Bình", 1, 0, 1), line(5, "Xã Chưa", 0, 0, 0, within=3),
             line(6, "Xã Bình", 1, 0, 1), line(7, "Xã Cẩm", 1, 1, 0)]
    ranked = league(lines)
    assert [(r.position, r.agency_id) for r in ranked] == [(1, 3), (2, 7), (2, 2), (2, 1), (5, 4), (5, 6),
                                                           (7, 5)]

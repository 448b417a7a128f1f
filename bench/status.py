"""Benchmark of the /status roll-up on a synthetic national registry, on SQLite and PostgreSQL.

    python bench/status.py            # 34 provinces, ~10,000 agencies, 2 years of items
    python bench/status.py --quick    # 4 provinces, ~1,200 agencies (seconds)

Builds Plan 916's 40 tasks and a synthetic agency tree, stores two years (2025-2026) of items
with states and reports, then times ``models.rollup.compute_rollup`` (what /status, charts,
exports and digests run) for one province and for the whole country, next to a single
hand-written SQL aggregate over the same rows (GROUP BY axis and state, with the same period and
scope filter). Then the same for the four official classes with the ranking (issue 13:
``compute_rollup`` + ``models.rollup.ranking``, what /status and its ranking page run) against
one hand-written statement computing the same classes per task and level and per agency (the
figures are asserted equal before timing). Prints median and p95 of each.

Multi-province: the schema has one agency tree. A "province" here is a province-level agency
whose departments and districts have it as ``parent_id``, and whose communes hang under the
districts; a province's scope is that subtree (computed once per roll-up with a recursive CTE).

PostgreSQL: ``DONDOC_BENCH_POSTGRES_URL`` (default postgresql://postgres@127.0.0.1:5432/postgres);
a scratch database is created and dropped. Skipped with a note if the server is unreachable.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import PG_ADMIN, pg_available, scratch_database
from sqlalchemy import Engine, TextClause, text
from sqlmodel import Session, select

from domain.access import EVERYTHING, Scope
from domain.official import COMPLETED_STATES
from domain.periods import DueRules, periods_between
from domain.plan_parser import parse_plan
from models import agencies, registry
from models.db import make_engine, session_scope, upgrade
from models.rollup import compute_rollup, parse_period, ranking
from models.tables import OPEN_STATES, Agency, Item, Member, Plan, Report, Task

PERIOD = "2026-Q4"
TODAY = date(2027, 1, 20)  # after the period: its open items are overdue
STATES = ("not_started", "in_progress", "blocked", "reported", "returned", "verified")
WEIGHTS = (20, 20, 5, 20, 5, 30)


def _now() -> datetime:
    return datetime.now(UTC)


def build_tree(session: Session, provinces: int, departments: int, districts: int,
               communes: int) -> tuple[dict[str, list[int]], list[int]]:
    """Synthetic agencies: per province 1 + departments + districts + districts*communes."""
    by_level: dict[str, list[int]] = {"province": [], "department": [], "district": [], "commune": []}
    rows: list[dict[str, object]] = []
    next_id = int(session.exec(select(Agency.id).order_by(Agency.id.desc())).first() or 0) + 1  # type: ignore[union-attr]

    def add(level: str, name: str, parent: int | None) -> int:
        nonlocal next_id
        ident = next_id
        next_id += 1
        rows.append({"id": ident, "name": name, "code": f"B{ident}", "level": level, "parent_id": parent,
                     "aliases": "", "active": True, "created_at": _now()})
        by_level[level].append(ident)
        return ident

    roots = []
    for p in range(provinces):
        root = add("province", f"Tỉnh {p + 1:02d}", None)
        roots.append(root)
        for d in range(departments):
            add("department", f"Sở {d + 1:02d} tỉnh {p + 1:02d}", root)
        for h in range(districts):
            district = add("district", f"UBND huyện {h + 1:02d} tỉnh {p + 1:02d}", root)
            for x in range(communes):
                add("commune", f"UBND xã {x + 1:02d} huyện {h + 1:02d} tỉnh {p + 1:02d}", district)
    for start in range(0, len(rows), 2000):
        session.execute(Agency.__table__.insert(), rows[start:start + 2000])  # type: ignore[attr-defined]
    return by_level, roots


CLASS_LEVELS = {"UBND-HUYEN": ("district",), "UBND-XA": ("commune",), "SO-BAN-NGANH": ("department",),
                "CQHCNN": ("department", "district", "commune"), "CA-HUYEN": ("district",),
                "CA-XA": ("commune",)}


def owing_levels(session: Session, tasks: list[Task]) -> dict[int, list[tuple[str, bool]]]:
    """For each task, who owes it in the synthetic tree: every agency of a level for a class
    (UBND cấp xã -> every commune), one department per province for a named agency."""
    from models.tables import AgencyClass, Assignment

    classes = {c.id: c.code for c in session.exec(select(AgencyClass))}
    result: dict[int, list[tuple[str, bool]]] = {}
    for a in session.exec(select(Assignment).where(Assignment.role == "lead")):
        found = result.setdefault(a.task_id, [])
        if a.class_id is not None:
            found += [(level, True) for level in CLASS_LEVELS.get(classes.get(a.class_id, ""), ())]
        elif a.agency_id is not None:
            found.append(("department", False))
    return {task_id: sorted(set(levels)) for task_id, levels in result.items()}


def build(engine: Engine, provinces: int, *, seed: int = 916) -> tuple[int, list[int]]:
    """The registry; returns (items stored, province root ids)."""
    rng = random.Random(seed)
    with session_scope(engine) as session:
        agencies.load_bundled_agencies(session)
        rows = agencies.parse_agency_csv(agencies.bundled("quang_ninh_districts_2016.csv"))
        agencies.import_agencies(session, rows)
        raw = agencies.bundled("plan916.txt")
        registry.import_plan(session, parse_plan(raw), raw=raw, source_name="plan916.txt",
                             active_from=date(2025, 1, 1))
        tasks = list(session.exec(select(Task)))
        levels = owing_levels(session, tasks)
        by_level, roots = build_tree(session, provinces, 20, 10, 28)
        member = Member(telegram_user_id=1, role="focal_point", full_name="Bench")
        session.add(member)
        session.flush()
        member_id = member.id
    per_province = {lv: len(ids) // provinces for lv, ids in by_level.items()}
    item_rows: list[dict[str, object]] = []
    for task in tasks:
        assert task.id is not None
        periods = periods_between(task.cadence, date(2025, 1, 1), date(2026, 12, 31), DueRules())
        owners: list[int] = []
        for level, whole_class in levels.get(task.id, []):
            ids = by_level.get(level, [])
            if whole_class:
                owners += ids
            else:
                size = per_province["department"]
                owners += ids[task.id % size::size]
        for period in periods:
            for agency_id in owners:
                state = rng.choices(STATES, WEIGHTS)[0]
                # Completed items: within three weeks either side of the due day (about a
                # third late), so all four official classes hold items.
                completed = (period.due + timedelta(days=rng.randint(-30, 14))
                             if state in COMPLETED_STATES else None)
                item_rows.append({"task_id": task.id, "agency_id": agency_id, "period_key": period.key,
                                  "period_kind": period.kind, "period_start": period.start,
                                  "due_on": period.due, "state": state, "completed_on": completed,
                                  "created_at": _now()})
    with session_scope(engine) as session:
        for start in range(0, len(item_rows), 5000):
            session.execute(Item.__table__.insert(), item_rows[start:start + 5000])  # type: ignore[attr-defined]
    with session_scope(engine) as session:
        done = session.execute(text("SELECT id FROM item WHERE state IN ('reported', 'verified', 'returned', "
                                    "'in_progress', 'blocked')")).scalars().all()
        reports = [{"item_id": i, "version": 1, "member_id": member_id, "state": "done", "note": "",
                    "document_number": "", "review_state": None, "review_reason": "",
                    "created_at": _now()} for i in done]
        for start in range(0, len(reports), 5000):
            session.execute(Report.__table__.insert(), reports[start:start + 5000])  # type: ignore[attr-defined]
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return len(item_rows), roots


# The same figures /status shows (per task and agency level: items by state, overdue), as one
# statement written by hand: the scope as an inline recursive CTE, the plan's tasks by join.
REFERENCE = """
WITH RECURSIVE tree(id) AS (
    SELECT id FROM agency WHERE id = :root
    UNION ALL SELECT a.id FROM agency a JOIN tree ON a.parent_id = tree.id)
SELECT i.task_id, a.level, COUNT(*), {states},
       SUM(CASE WHEN i.state IN ({open}) AND i.due_on < :today THEN 1 ELSE 0 END)
FROM item i JOIN task t ON t.id = i.task_id JOIN agency a ON a.id = i.agency_id
WHERE t.retired_at IS NULL AND i.due_on BETWEEN :first AND :last {scope}
GROUP BY i.task_id, a.level
"""


def reference_sql(scoped: bool) -> str:
    scope = "AND i.agency_id IN (SELECT id FROM tree)" if scoped else ""
    opened = ", ".join(f"'{s}'" for s in OPEN_STATES)
    states = ", ".join(f"SUM(CASE WHEN i.state = '{s}' THEN 1 ELSE 0 END)" for s in STATES)
    return REFERENCE.format(open=opened, scope=scope, states=states)


# The four official classes (domain.official.classify as a CASE) per task and agency level and
# per agency (the ranking's figures), as one hand-written statement over the same rows.
OFFICIAL = """
WITH RECURSIVE tree(id) AS (
    SELECT id FROM agency WHERE id = :root
    UNION ALL SELECT a.id FROM agency a JOIN tree ON a.parent_id = tree.id),
classed AS (
    SELECT i.task_id, i.agency_id, a.level,
           CASE WHEN i.state IN ('reported', 'verified') AND i.completed_on > i.due_on THEN 'late'
                WHEN i.state IN ('reported', 'verified') THEN 'on_time'
                WHEN i.due_on >= :today THEN 'within' ELSE 'overdue' END AS cls
    FROM item i JOIN task t ON t.id = i.task_id JOIN agency a ON a.id = i.agency_id
    WHERE t.retired_at IS NULL AND i.due_on BETWEEN :first AND :last {scope})
SELECT 0 AS by_agency, task_id AS id, level, {classes} FROM classed GROUP BY task_id, level
UNION ALL
SELECT 1, agency_id, level, {classes} FROM classed GROUP BY agency_id, level
"""
CLASSES = ("on_time", "late", "within", "overdue")


def official_sql(scoped: bool) -> str:
    scope = "AND i.agency_id IN (SELECT id FROM tree)" if scoped else ""
    classes = ", ".join(f"SUM(CASE WHEN cls = '{c}' THEN 1 ELSE 0 END)" for c in CLASSES)
    return OFFICIAL.format(scope=scope, classes=classes)


Figures = tuple[dict[tuple[int, str], tuple[int, ...]], dict[int, tuple[int, ...]]]


def official_figures(rollup: object, tables: object) -> Figures:
    """What /status and its ranking show, as (task, level) -> classes and agency -> classes."""
    from models.rollup import RankLine, Rollup

    assert isinstance(rollup, Rollup) and isinstance(tables, dict)
    per_task = {(t.task_id, level): tuple(c.by_official().values())
                for t in rollup.tasks for level, c in t.by_level.items()}
    lines: list[RankLine] = [line for table in tables.values() for line in table]
    return per_task, {line.agency_id: tuple(line.counts.by_official().values()) for line in lines}


def reference_figures(rows: Sequence[tuple[Any, ...]]) -> Figures:
    per_task: dict[tuple[int, str], tuple[int, ...]] = {}
    per_agency: dict[int, tuple[int, ...]] = {}
    for by_agency, ident, level, *classes in rows:
        figures = tuple(int(n) for n in classes)
        if by_agency:
            per_agency[int(ident)] = figures
        else:
            per_task[(int(ident), str(level))] = figures
    return per_task, per_agency


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    fn()  # warm up (caches, plans)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def measure(engine: Engine, root: int, runs: int) -> list[tuple[str, float, float, float, float]]:
    period = parse_period(PERIOD)
    results = []
    params = {"today": TODAY, "first": period.start, "last": period.end}
    for label, scope in (("province", Scope(root)), ("country", EVERYTHING)):
        with Session(engine) as session:
            plan_id = session.exec(select(Task.plan_id)).first()
            plan = session.get(Plan, plan_id)
            assert plan is not None

            def status(session: Session = session, scope: Scope = scope, plan: Plan = plan) -> object:
                return compute_rollup(session, plan, period, TODAY, scope)

            sql = text(reference_sql(not scope.everything))

            def reference(session: Session = session, sql: object = sql) -> object:
                return session.execute(sql, {**params, "root": root}).all()  # type: ignore[call-overload]

            s_med, s_p95 = timed(status, runs)
            r_med, r_p95 = timed(reference, runs)
        results.append((label, s_med, s_p95, r_med, r_p95))
    return results


def measure_official(engine: Engine, root: int, runs: int) -> list[tuple[str, float, float, float, float]]:
    """The four-way roll-up with the ranking (compute_rollup + ranking: /status's summary and
    its ranking page) against OFFICIAL; the figures are checked equal first."""
    period = parse_period(PERIOD)
    results = []
    params = {"today": TODAY, "first": period.start, "last": period.end}
    for label, scope in (("province", Scope(root)), ("country", EVERYTHING)):
        with Session(engine) as session:
            plan_id = session.exec(select(Task.plan_id)).first()
            plan = session.get(Plan, plan_id)
            assert plan is not None

            def ours(session: Session = session, scope: Scope = scope, plan: Plan = plan) -> Figures:
                return official_figures(compute_rollup(session, plan, period, TODAY, scope),
                                        ranking(session, plan, period, TODAY, scope))

            sql = text(official_sql(not scope.everything))

            def reference(session: Session = session, sql: TextClause = sql) -> Figures:
                return reference_figures(list(session.execute(sql, {**params, "root": root}).tuples()))

            mine, theirs = ours(), reference()
            assert mine == theirs, f"{label}: the four classes differ from the hand-written SQL"
            assert sum(sum(v) for v in mine[1].values()) > 0
            s_med, s_p95 = timed(ours, runs)
            r_med, r_p95 = timed(reference, runs)
        results.append((label, s_med, s_p95, r_med, r_p95))
    return results


@contextmanager
def migrated_engine(kind: str) -> Iterator[Engine]:
    """A scratch database of ``kind`` ('sqlite' or 'postgres') at the newest schema."""
    with tempfile.TemporaryDirectory() as tmp, scratch_database(kind, Path(tmp)) as url:
        upgrade(url)
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def report(backend: str, items: int, rows: list[tuple[str, float, float, float, float]],
           what: str = "/status") -> None:
    print(f"\n{backend}: {items:,} items; {what} for {PERIOD} as of {TODAY} (ms)")
    print(f"{'scope':<10} {'status median':>14} {'status p95':>11} {'SQL median':>11} {'SQL p95':>8} "
          f"{'ratio':>6}  target")
    for label, s_med, s_p95, r_med, r_p95 in rows:
        limit = 300 if label == "province" else 1500
        ok = "ok" if s_p95 < limit and s_med <= 1.5 * r_med else "MISSED"
        print(f"{label:<10} {s_med:>14.1f} {s_p95:>11.1f} {r_med:>11.1f} {r_p95:>8.1f} "
              f"{s_med / r_med:>6.2f}  p95<{limit} ms, ratio<=1.5: {ok}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 provinces instead of 34, fewer runs")
    parser.add_argument("--provinces", type=int, help="number of provinces (default 34, quick 4)")
    parser.add_argument("--runs", type=int, help="timed runs per measurement (default 30, quick 10)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    provinces = args.provinces or (4 if args.quick else 34)
    runs = args.runs or (10 if args.quick else 30)
    backends = [("SQLite", "sqlite")]
    if not args.no_postgres:
        if pg_available():
            backends.append(("PostgreSQL", "postgres"))
        else:
            print(f"PostgreSQL skipped: {PG_ADMIN} unreachable")
    for name, kind in backends:
        with migrated_engine(kind) as engine:
            started = time.perf_counter()
            items, roots = build(engine, provinces)
            took = time.perf_counter() - started
            print(f"{name}: built {provinces} provinces, {items:,} items in {took:.0f} s")
            report(name, items, measure(engine, roots[0], runs))
            report(name, items, measure_official(engine, roots[0], runs),
                   "the four official classes + the ranking")

if __name__ == "__main__":
    main()

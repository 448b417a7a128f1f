"""Benchmark of what a leader's /status runs, on a synthetic national registry, on SQLite and
PostgreSQL: the roll-up with the four official classes (``models.rollup.compute_rollup``: the
summary, axes, levels, tasks and the most overdue agencies) and the ranking
(``models.rollup.ranking``: league tables by on-time rate, then overdue items), for one province
and for the whole country (issue 13's "done when").

    python bench/status.py            # 34 provinces, ~10,000 agencies, 2 years of items
    python bench/status.py --quick    # 4 provinces, ~1,200 agencies (seconds)

Builds Plan 916's 40 tasks and a synthetic agency tree, stores two years (2025-2026) of items
with states, completion days (some after the due day), a few extensions and reports, then
checks that /status's figures equal those of hand-written SQL (one statement per figure set:
per task and level, per agency with the league places; exit 1 if they differ or a class is
empty) and times both sides in interleaved rounds. Prints median, p95 and the ratio of the
medians against the goals: p95 < 300 ms for a province and < 1.5 s for the country, at most
1.5x the hand-written SQL.

Multi-province: the schema has one agency tree. A "province" here is a province-level agency
whose departments and districts have it as ``parent_id``, and whose communes hang under the
districts; a province's scope is that subtree.

PostgreSQL: ``DONDOC_BENCH_POSTGRES_URL`` (default postgresql://postgres@127.0.0.1:5432/postgres);
a scratch database is created and dropped. Skipped with a note if the server is unreachable.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from _common import PG_ADMIN, pg_available, scratch_database
from sqlalchemy import Engine, Row, TextClause, text
from sqlmodel import Session, SQLModel, col, select

from domain.access import EVERYTHING, Scope
from domain.official import COMPLETED_STATES
from domain.periods import DueRules, periods_between
from domain.plan_parser import parse_plan
from models import agencies, registry
from models.db import make_engine, session_scope, upgrade
from models.rollup import Counts, RankLine, Rollup, compute_rollup, parse_period, ranking
from models.tables import Agency, Item, Member, Plan, Report, Task

PERIOD = "2026-Q4"
# Quarterly reports due on the 15th of the quarter's last month (DONDOC_DUE_QUARTERLY
# "15-03,15-06,15-09,15-12"), half-yearly and yearly ones at the period's end, and /status asked
# on 20 December: the quarterly items still open are overdue, the half-yearly and yearly ones
# (and a few extended ones) within the deadline, so all four official classes hold items.
DUE_RULES = DueRules(quarterly=((3, 15), (6, 15), (9, 15), (12, 15)))
TODAY = date(2026, 12, 20)
EXTENDED = 0.03  # share of the items (due before their period's end) with an approved extension
STATES = ("not_started", "in_progress", "blocked", "reported", "returned", "verified")
WEIGHTS = (20, 20, 5, 20, 5, 30)


def _now() -> datetime:
    return datetime.now(UTC)


def insert_rows(session: Session, model: type[SQLModel], rows: list[dict[str, object]]) -> None:
    """Bulk insert: COPY on PostgreSQL (psycopg's executemany sends a statement per row:
    minutes for the country), executemany on SQLite."""
    table = model.__table__  # type: ignore[attr-defined]
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        columns = list(rows[0])
        cursor = session.connection().connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[name] for name in columns])
        return
    for start in range(0, len(rows), 5000):
        session.execute(table.insert(), rows[start:start + 5000])


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
    insert_rows(session, Agency, rows)
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


def build(engine: Engine, provinces: int, *, seed: int = 916, today: date = TODAY) -> tuple[int, list[int]]:
    """The registry; returns (items stored, province root ids)."""
    rng = random.Random(seed)
    with session_scope(engine) as session:
        agencies.load_bundled_agencies(session)
        rows = agencies.parse_agency_csv(agencies.bundled("quang_ninh_districts_2016.csv"))
        agencies.import_agencies(session, rows)
        raw = agencies.bundled("plan916.txt")
        registry.import_plan(session, parse_plan(raw), raw=raw, source_name="plan916.txt",
                             active_from=date(2025, 1, 1))
        tasks = list(session.exec(select(Task).order_by(col(Task.id))))
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
        periods = periods_between(task.cadence, date(2025, 1, 1), date(2026, 12, 31), DUE_RULES)
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
                due, original = period.due, None
                if period.due < period.end and rng.random() < EXTENDED:
                    # An approved extension: a later due day, still inside the period.
                    due = min(period.end, period.due + timedelta(days=rng.randint(5, 30)))
                    original = period.due
                # Completed items: within a month before to two weeks after the due day in
                # force (about a third late), never after today.
                completed = (min(today, due + timedelta(days=rng.randint(-30, 14)))
                             if state in COMPLETED_STATES else None)
                item_rows.append({"task_id": task.id, "agency_id": agency_id, "period_key": period.key,
                                  "period_kind": period.kind, "period_start": period.start,
                                  "due_on": due, "original_due_on": original, "state": state,
                                  "completed_on": completed, "created_at": _now()})
    with session_scope(engine) as session:
        insert_rows(session, Item, item_rows)
    with session_scope(engine) as session:
        done = session.execute(text("SELECT id FROM item WHERE state IN ('reported', 'verified', 'returned', "
                                    "'in_progress', 'blocked')")).scalars().all()
        reports = [{"item_id": i, "version": 1, "member_id": member_id, "state": "done", "note": "",
                    "document_number": "", "review_state": None, "review_reason": "",
                    "created_at": _now()} for i in done]
        insert_rows(session, Report, reports)
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return len(item_rows), roots


# What a leader's /status runs, written by hand as one statement per figure set over the same
# rows (the scope as an inline recursive CTE, the plan's live tasks by join), with
# domain.official.classify as CASEs:
# 1. per task and agency level: items owed, by state, and the four official classes (the
#    summary, axes, levels and tasks fold these);
# 2. per agency: the same counts, its place in its level's league table (on-time rate highest
#    first, no rate last, then fewest overdue; ties share a place: RANK) and its place by
#    overdue items (the summary's "most overdue" lines).
TREE = """WITH RECURSIVE tree(id) AS (
    SELECT id FROM agency WHERE id = :root
    UNION ALL SELECT a.id FROM agency a JOIN tree ON a.parent_id = tree.id)"""
COMPLETED = "i.state IN ('reported', 'verified')"
CLASS_CASES = {
    "overdue": f"NOT ({COMPLETED}) AND i.due_on < :today",
    "on_time": f"{COMPLETED} AND (i.completed_on IS NULL OR i.completed_on <= i.due_on)",
    "late": f"{COMPLETED} AND i.completed_on > i.due_on",
    "within": f"NOT ({COMPLETED}) AND i.due_on >= :today",
}
ITEMS = """FROM item i JOIN task t ON t.id = i.task_id JOIN agency a ON a.id = i.agency_id
WHERE t.plan_id = :plan AND t.retired_at IS NULL AND i.due_on BETWEEN :first AND :last {scope}"""
PER_TASK = """{tree}
SELECT i.task_id, a.level, {counts}
{items}
GROUP BY i.task_id, a.level"""
PER_AGENCY = """{tree},
per_agency AS (
    SELECT i.agency_id, a.level, {counts}
    {items}
    GROUP BY i.agency_id, a.level),
rated AS (
    SELECT p.*,
           CASE WHEN level IN ('department', 'district', 'commune') THEN level ELSE 'other' END AS league,
           CASE WHEN on_time + late + overdue > 0
                THEN CAST(on_time AS DOUBLE PRECISION) / (on_time + late + overdue) END AS rate
    FROM per_agency p)
SELECT agency_id, league,
       RANK() OVER (PARTITION BY league ORDER BY rate IS NULL, rate DESC, overdue) AS position,
       ROW_NUMBER() OVER (ORDER BY overdue DESC, agency_id) AS worst,
       {fields}
FROM rated"""
STATES_ALL = ("not_started", "in_progress", "blocked", "reported", "returned", "verified")
FIELDS = ("owed", *STATES_ALL, *CLASS_CASES)


def hand_sql(scoped: bool) -> tuple[TextClause, TextClause]:
    items = ITEMS.format(scope="AND i.agency_id IN (SELECT id FROM tree)" if scoped else "")
    counts = ", ".join(["COUNT(*) AS owed",
                        *(f"SUM(CASE WHEN i.state = '{s}' THEN 1 ELSE 0 END) AS {s}" for s in STATES_ALL),
                        *(f"SUM(CASE WHEN {case} THEN 1 ELSE 0 END) AS {name}"
                          for name, case in CLASS_CASES.items())])
    return (text(PER_TASK.format(tree=TREE, counts=counts, items=items)),
            text(PER_AGENCY.format(tree=TREE, counts=counts, items=items, fields=", ".join(FIELDS))))


class Figures(NamedTuple):
    """The numbers a leader sees: (task, level) -> counts; agency -> (league, place, counts);
    the most overdue agencies as (agency, overdue items)."""

    per_task: dict[tuple[int, str], tuple[int, ...]]
    ranking: dict[int, tuple[str, int, tuple[int, ...]]]
    most_overdue: list[tuple[int, int]]


def counts_tuple(counts: Counts) -> tuple[int, ...]:
    return tuple(getattr(counts, name) for name in FIELDS)


def our_figures(rollup: Rollup, tables: dict[str, list[RankLine]]) -> Figures:
    return Figures({(t.task_id, level): counts_tuple(c)
                    for t in rollup.tasks for level, c in t.by_level.items()},
                   {line.agency_id: (league, line.position, counts_tuple(line.counts))
                    for league, table in tables.items() for line in table},
                   [(line.agency_id, line.counts.overdue) for line in rollup.most_overdue])


def hand_figures(per_task: Sequence[Row[Any]], per_agency: Sequence[Row[Any]], top: int = 5) -> Figures:
    worst = sorted((row for row in per_agency if row.worst <= top and row.overdue > 0), key=lambda r: r.worst)
    return Figures({(int(row.task_id), str(row.level)): tuple(int(row[2 + i]) for i in range(len(FIELDS)))
                    for row in per_task},
                   {int(row.agency_id): (str(row.league), int(row.position),
                                         tuple(int(row[4 + i]) for i in range(len(FIELDS))))
                    for row in per_agency},
                   [(int(row.agency_id), int(row.overdue)) for row in worst])


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and p95 of ``runs`` calls of ``fn`` in ms, after one warm-up call (bench/overdue)."""
    fn()  # warm up (caches, plans)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), percentile(samples, 0.95)


class Timing(NamedTuple):
    scope: str
    part: str
    ours: list[float]
    hand: list[float]


def measure(engine: Engine, root: int, runs: int) -> list[Timing]:
    """Per scope (one province, the country): the figures are checked equal first (exit 1 if
    not), then ``runs`` interleaved samples of both sides (which side goes first alternates),
    each split into the roll-up (/status's summary) and the ranking (its ranking page)."""
    timings = []
    for label, scope in (("province", Scope(root)), ("country", EVERYTHING)):
        with Session(engine) as session:
            timings += measure_scope(session, label, scope, root, runs)
    return timings


def measure_scope(session: Session, label: str, scope: Scope, root: int, runs: int) -> list[Timing]:
    period = parse_period(PERIOD)
    plan = session.exec(select(Plan)).one()
    params = {"today": TODAY, "first": period.start, "last": period.end, "root": root, "plan": plan.id}
    per_task_sql, per_agency_sql = hand_sql(not scope.everything)

    def rollup() -> Rollup:
        return compute_rollup(session, plan, period, TODAY, scope)

    def tables() -> dict[str, list[RankLine]]:
        return ranking(session, plan, period, TODAY, scope)

    def per_task() -> Sequence[Row[Any]]:
        return session.execute(per_task_sql, params).all()

    def per_agency() -> Sequence[Row[Any]]:
        return session.execute(per_agency_sql, params).all()

    mine, theirs = our_figures(rollup(), tables()), hand_figures(per_task(), per_agency())
    if mine != theirs:
        differ = [name for name, a, b in zip(Figures._fields, mine, theirs, strict=True) if a != b]
        print(f"{label}: /status's figures differ from the hand-written SQL's: {', '.join(differ)}")
        sys.exit(1)
    classes = [sum(c[FIELDS.index(name)] for c in mine.per_task.values()) for name in CLASS_CASES]
    if not all(classes):
        print(f"{label}: an official class holds no item: {classes}")
        sys.exit(1)
    sides: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "ours": (rollup, tables), "hand": (per_task, per_agency)}
    samples: dict[tuple[str, int], list[float]] = {(side, part): [] for side in sides for part in (0, 1)}
    for run in range(runs + 1):  # the first round warms both sides up
        for side in ("ours", "hand") if run % 2 else ("hand", "ours"):
            for part, fn in enumerate(sides[side]):
                start = time.perf_counter()
                fn()
                if run:
                    samples[(side, part)].append((time.perf_counter() - start) * 1000)
    print(f"  {label}: " + ", ".join(f"{name} {n:,}" for name, n in zip(CLASS_CASES, classes, strict=True))
          + f" items; {len(mine.ranking):,} agencies ranked")

    def both(side: str) -> list[float]:
        return [a + b for a, b in zip(samples[(side, 0)], samples[(side, 1)], strict=True)]

    return [Timing(label, "roll-up", samples[("ours", 0)], samples[("hand", 0)]),
            Timing(label, "ranking", samples[("ours", 1)], samples[("hand", 1)]),
            Timing(label, "both", both("ours"), both("hand"))]


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


GOALS_MS = {"province": 300, "country": 1500}


def report(backend: str, items: int, timings: list[Timing]) -> bool:
    """The table of one backend; whether every goal was met."""
    print(f"\n{backend}: {items:,} items; /status (roll-up with the four classes) and its ranking "
          f"for {PERIOD} as of {TODAY}, against the hand-written SQL (ms, {len(timings[0].ours)} runs)")
    print(f"{'scope':<9} {'part':<8} {'ours median':>11} {'ours p95':>9} {'SQL median':>10} {'SQL p95':>8} "
          f"{'ratio':>6}  goal")
    met = True
    for t in timings:
        o_med, o_p95 = statistics.median(t.ours), percentile(t.ours, 0.95)
        h_med, h_p95 = statistics.median(t.hand), percentile(t.hand, 0.95)
        ratio = o_med / h_med
        goal = ""
        if t.part == "both":
            limit = GOALS_MS[t.scope]
            ok = o_p95 < limit and ratio <= 1.5
            met = met and ok
            goal = f"p95 < {limit:,} ms, ratio <= 1.5: {'ok' if ok else 'MISSED'}"
        print(f"{t.scope:<9} {t.part:<8} {o_med:>11.1f} {o_p95:>9.1f} {h_med:>10.1f} {h_p95:>8.1f} "
              f"{ratio:>6.2f}  {goal}")
    return met


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


if __name__ == "__main__":
    main()

"""Benchmark of the overdue backlog on bench/status.py's synthetic national registry: what
/status adds to its summary (the "earlier periods" line), the overdue drill-down (every overdue
item of a scope per agency, worst first) and one agency's overdue items, on SQLite and
PostgreSQL, for one province and for the whole country. Prints median and p95 against goals.

    python bench/overdue.py --quick   # 4 provinces
    python bench/overdue.py           # 34 provinces
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from _common import PG_ADMIN, pg_available
from sqlmodel import select
from status import build, migrated_engine, timed

from domain.access import EVERYTHING, Scope
from models.db import session_scope
from models.overdue import backlog, overdue_by_agency, overdue_items
from models.tables import Plan

TODAY = date(2027, 1, 20)  # Q4 2026's open items are overdue, and the earlier periods'
QUARTER_START = date(2027, 1, 1)
# p95 goals: the backlog line is what /status adds to its summary; a drill-down page has the
# summary's own targets (bench/status.py: p95 < 300 ms for a province, < 1.5 s for the country).
GOALS_MS = {("backlog line (/status)", "province"): 50.0, ("backlog line (/status)", "country"): 150.0,
            ("overdue drill-down", "province"): 300.0, ("overdue drill-down", "country"): 1500.0,
            ("one agency's items", "province"): 20.0, ("one agency's items", "country"): 20.0}


def measure(engine: object, root: int, runs: int) -> list[tuple[str, str, float, float]]:
    rows = []
    with session_scope(engine) as session:  # type: ignore[arg-type]
        plan = session.exec(select(Plan)).one()
        for label, scope in (("province", Scope(root, subtree=True)), ("country", EVERYTHING)):
            worst = overdue_by_agency(session, plan, TODAY, scope)
            agency = worst[0].agency_id if worst else root
            for name, run in (
                    ("backlog line (/status)",
                     lambda s=scope: backlog(session, plan, TODAY, s, QUARTER_START)),
                    ("overdue drill-down", lambda s=scope: overdue_by_agency(session, plan, TODAY, s)),
                    ("one agency's items", lambda a=agency: overdue_items(session, plan, TODAY, a))):
                median, p95 = timed(run, runs)
                rows.append((name, label, median, p95))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--provinces", type=int)
    parser.add_argument("--runs", type=int)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    provinces = args.provinces or (4 if args.quick else 34)
    runs = args.runs or (10 if args.quick else 20)
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
            print(f"{name}: {provinces} provinces, {items:,} items (built in {took:.0f} s)")
            print(f"  {'what':<24} {'scope':<9} {'median ms':>10} {'p95 ms':>8} {'goal ms':>8}")
            for what, scope, median, p95 in measure(engine, roots[0], runs):
                goal = GOALS_MS[(what, scope)]
                flag = "ok" if p95 <= goal else "OVER"
                print(f"  {what:<24} {scope:<9} {median:>10.1f} {p95:>8.1f} {goal:>8.0f}  {flag}")


if __name__ == "__main__":
    main()

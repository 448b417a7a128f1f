"""Where the plan stands: the one roll-up that /status, charts, exports and digests share.

Every figure is computed in the database with aggregate queries (GROUP BY with COUNT and
SUM(CASE ...)), never by looping over items in Python, so a roll-up costs about one scan of the
period's items whatever their number. Python only folds the small grouped result (at most
tasks x agency levels rows) into totals, axes and levels.

Which items count for a period: every item whose due day falls inside it, whatever the task's
cadence (a quarter's roll-up includes the half-yearly and yearly items due in it). Overdue: an
open state and a due day before today.

Scope follows the member's role (see :func:`scope_for`): everything, an agency and the agencies
under it (``parent_id``), or one agency alone.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    tuple_,
    union_all,
)
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from domain.access import Scope, scope_of
from domain.collation import name_sort_text, vi_key
from domain.official import (
    COMPLETED_STATES,
    OFFICIAL_CLASSES,
    OfficialClass,
    classify,
    is_completed,
    on_time_rate,
    settled,
)
from domain.periods import HALF, QUARTER, YEAR, DueRules, Period, period_containing
from models.members import actor_of
from models.tables import (
    OPEN_STATES,
    Agency,
    AgencyLevel,
    Assignment,
    AssignmentRole,
    Axis,
    Item,
    ItemState,
    Member,
    Plan,
    Task,
)

PERIOD_KINDS = (QUARTER, HALF, YEAR)
_PERIOD_KEY = re.compile(r"^(\d{4})(?:-([QH])([1-4]))?$")
LEVEL_ORDER = tuple(level.value for level in AgencyLevel)
STATES = tuple(state.value for state in ItemState)


# --- periods ------------------------------------------------------------------------------

def parse_period(key: str, rules: DueRules | None = None) -> Period:
    """``2026-Q4`` / ``2026-H2`` / ``2026`` -> the period; ValueError for anything else."""
    match = _PERIOD_KEY.match(key.strip())
    if match is None:
        raise ValueError(f"{key!r}: expected a period like 2026-Q4, 2026-H2 or 2026")
    year, letter, number = int(match.group(1)), match.group(2), match.group(3)
    if not 1900 < year < 3000:
        raise ValueError(f"{key!r}: year out of range")
    if letter is None:
        return period_containing(YEAR, date(year, 1, 1), rules)
    index = int(number)
    if letter == "H" and index > 2:
        raise ValueError(f"{key!r}: a year has two halves (H1, H2)")
    kind, months = (QUARTER, 3) if letter == "Q" else (HALF, 6)
    return period_containing(kind, date(year, (index - 1) * months + 1, 1), rules)


def current_period(kind: str, today: date, rules: DueRules | None = None) -> Period:
    return period_containing(kind, today, rules)


# Words a person may type instead of a period key: the current quarter, half-year or year.
KIND_WORDS = {"quarter": QUARTER, "q": QUARTER, "quy": QUARTER, "quý": QUARTER, "half": HALF,
              "h": HALF, "year": YEAR, "y": YEAR, "nam": YEAR, "năm": YEAR}


def choose_period(arg: str | None, today: date, rules: DueRules | None = None) -> Period:
    """The period a command names (``/status 2026-Q4``, ``/export năm``; none: the current
    quarter); ValueError for anything else."""
    if not arg:
        return current_period(QUARTER, today, rules)
    word = arg.strip().lower()
    if word in KIND_WORDS:
        return current_period(KIND_WORDS[word], today, rules)
    return parse_period(word.upper(), rules)


# --- scope --------------------------------------------------------------------------------

def scope_for(session: Session, member: Member | None) -> Scope | None:
    """What ``member`` may see (the access policy's :func:`domain.access.scope_of`)."""
    if member is None:
        return None
    return scope_of(actor_of(session, member))


def scope_agency_ids(session: Session, scope: Scope) -> list[int] | None:
    """The agencies inside ``scope`` (None = no restriction), computed once per roll-up with a
    recursive CTE over ``agency.parent_id``."""
    if scope.root_id is None:
        return None
    if not scope.subtree:
        return [scope.root_id]
    return sorted(int(row) for row in session.exec(_subtree(scope.root_id)))


def _subtree(root_id: int) -> SelectOfScalar[int]:
    """The ids of ``root_id`` and the agencies under it: a recursive CTE over parent_id."""
    tree = select(col(Agency.id).label("id")).where(Agency.id == root_id).cte("tree", recursive=True)
    tree = tree.union_all(select(col(Agency.id)).where(col(Agency.parent_id) == tree.c.id))
    return select(tree.c.id)


def _scope_clause(session: Session, scope: Scope) -> ColumnElement[bool] | None:
    """The scope as a condition on Item.agency_id (None: no restriction), for a scan of a
    period's items.

    SQLite: a subtree goes in as the recursive CTE itself, evaluated inside the roll-up's
    statements: no round trip to list the agencies first, and no IN list of bind parameters.
    PostgreSQL: the subtree's ids are listed first and rendered into the statement as
    constants (not bound: see :func:`_tasks_clause`). Knowing how few agencies a province
    holds, the planner reads their items by ``ix_item_agency_id``; with the CTE it guesses
    thousands and reads the whole country's items of the period (2-3x the time)."""
    if scope.root_id is None:
        return None
    if not scope.subtree:
        return col(Item.agency_id) == scope.root_id
    if _dialect(session) == "postgresql":
        ids = scope_agency_ids(session, scope) or []
        listed: BindParameter[list[int]] = bindparam("scope_agencies", ids, expanding=True,
                                                     literal_execute=True)
        return col(Item.agency_id).in_(listed)
    return col(Item.agency_id).in_(_subtree(scope.root_id))


def _ids_clause(agency_ids: list[int] | None) -> ColumnElement[bool] | None:
    """A list of agency ids (None: no restriction) as a condition on Item.agency_id."""
    if agency_ids is None:
        return None
    return col(Item.agency_id).in_(agency_ids) if agency_ids else literal(False)


def in_scope(session: Session, scope: Scope, agency_id: int) -> bool:
    ids = scope_agency_ids(session, scope)
    return ids is None or agency_id in ids


# --- figures ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Counts:
    """Items owed, by state, how many of them are overdue, and the four official classes
    (domain.official): on time + late = reported + verified (the completed items); within +
    overdue = the rest. ``reported`` stays beside them: completed, awaiting verification."""

    owed: int = 0
    not_started: int = 0
    in_progress: int = 0
    blocked: int = 0
    reported: int = 0
    returned: int = 0
    verified: int = 0
    overdue: int = 0  # also the official class OVERDUE: not completed, due day passed
    on_time: int = 0
    late: int = 0
    within: int = 0

    @property
    def done(self) -> int:
        """Reported as done (waiting for verification) or verified."""
        return self.reported + self.verified

    @property
    def ratio(self) -> float:
        return self.done / self.owed if self.owed else 0.0

    @property
    def awaiting(self) -> int:
        """Completed, not yet verified (shown beside the four classes)."""
        return self.reported

    def official(self, which: OfficialClass) -> int:
        return {OfficialClass.ON_TIME: self.on_time, OfficialClass.LATE: self.late,
                OfficialClass.WITHIN: self.within, OfficialClass.OVERDUE: self.overdue}[which]

    def by_official(self) -> dict[OfficialClass, int]:
        """The four classes in their reporting order."""
        return {which: self.official(which) for which in OFFICIAL_CLASSES}

    @property
    def settled(self) -> int:
        """Completed or overdue: the on-time rate's denominator (domain.official.settled)."""
        return settled(self.on_time, self.late, self.overdue)

    @property
    def on_time_rate(self) -> float | None:
        return on_time_rate(self.on_time, self.late, self.overdue)

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)))

    def as_tuple(self) -> tuple[int, ...]:
        return (self.owed, self.not_started, self.in_progress, self.blocked, self.reported,
                self.returned, self.verified, self.overdue, self.on_time, self.late, self.within)

    def as_dict(self) -> dict[str, int]:
        return dict(zip(COUNT_FIELDS, self.as_tuple(), strict=True))


COUNT_FIELDS = ("owed", "not_started", "in_progress", "blocked", "reported", "returned",
                "verified", "overdue", "on_time", "late", "within")
# The counts a scan returns; the other official classes follow from them (see _with_classes).
SCANNED_FIELDS = ("owed", *(state.value for state in ItemState), "overdue", "late")
ZERO = Counts()


def _sum(rows: list[Counts]) -> Counts:
    total = ZERO
    for row in rows:
        total = total + row
    return total


@dataclass(frozen=True)
class AxisLine:
    axis_id: int
    number: int
    name: str
    counts: Counts


@dataclass(frozen=True)
class TaskLine:
    task_id: int
    code: str
    axis_number: int
    text: str
    counts: Counts
    by_level: dict[str, Counts]
    owed_by_class: bool


@dataclass(frozen=True)
class AgencyLine:
    agency_id: int
    name: str
    level: str
    counts: Counts


@dataclass
class Rollup:
    period: Period
    today: date
    scope: Scope
    totals: Counts
    axes: list[AxisLine]
    levels: dict[str, Counts]
    tasks: list[TaskLine]
    most_overdue: list[AgencyLine] = field(default_factory=list)

    def axis(self, number: int) -> AxisLine | None:
        return next((a for a in self.axes if a.number == number), None)

    def as_dict(self) -> dict[str, object]:
        """Plain numbers (digest snapshots, comparisons in tests)."""
        return {"period": self.period.key, "totals": self.totals.as_dict(),
                "axes": {str(a.number): a.counts.as_dict() for a in self.axes},
                "levels": {k: v.as_dict() for k, v in self.levels.items()}}


def _state_count(state: str) -> ColumnElement[int]:
    # COUNT(*) FILTER: cheaper per row than SUM(CASE ...) on both SQLite (>= 3.30) and
    # PostgreSQL, and 0 rather than NULL for an empty group.
    return func.count().filter(col(Item.state) == state)


def overdue_flag(today: date) -> ColumnElement[bool]:
    return and_(col(Item.state).in_(OPEN_STATES), col(Item.due_on) < today)


def late_flag() -> ColumnElement[bool]:
    """Completed after the due day (domain.official.classify's LATE)."""
    return and_(col(Item.state).in_(COMPLETED_STATES), col(Item.completed_on) > col(Item.due_on))


def official_class_sql(today: date) -> ColumnElement[str]:
    """domain.official.classify as a SQL CASE (the ranking groups by it; a test checks the
    two agree on every combination)."""
    completed = col(Item.state).in_(COMPLETED_STATES)
    return case((and_(completed, col(Item.completed_on) > col(Item.due_on)), OfficialClass.LATE.value),
                (completed, OfficialClass.ON_TIME.value),
                (col(Item.due_on) >= today, OfficialClass.WITHIN.value),
                else_=OfficialClass.OVERDUE.value)


def _count_columns(today: date) -> list[ColumnElement[int]]:
    """COUNT(*), one count per state, the overdue count and the late count, in SCANNED_FIELDS
    order. Within and on time need no column of their own (see _with_classes)."""
    return [func.count().label("owed"),
            *(_state_count(state).label(state) for state in STATES),
            func.count().filter(overdue_flag(today)).label("overdue"),
            func.count().filter(late_flag()).label("late")]


def _with_classes(scanned: dict[str, int]) -> Counts:
    """Counts from a scan's figures (SCANNED_FIELDS): on time = completed - late, within =
    not completed - overdue. A completed item with completed_on NULL is on time, as in
    domain.official.classify (NULL > due_on is not true)."""
    completed = sum(scanned[state] for state in COMPLETED_STATES)
    return Counts(**scanned, on_time=completed - scanned["late"],
                  within=scanned["owed"] - completed - scanned["overdue"])


# The order _counts unpacks a scan's columns in.
assert SCANNED_FIELDS == ("owed", "not_started", "in_progress", "blocked", "reported", "returned",
                          "verified", "overdue", "late") and COMPLETED_STATES == ("reported", "verified")


def _counts(row: tuple[object, ...]) -> Counts:
    """A result row's count columns (SCANNED_FIELDS order) as Counts: what _with_classes
    computes, without the dictionaries (a country ranking builds ten thousand)."""
    (owed, not_started, in_progress, blocked, reported, returned, verified, overdue,
     late) = (int(v or 0) for v in row)  # type: ignore[call-overload]
    completed = reported + verified
    return Counts(owed, not_started, in_progress, blocked, reported, returned, verified, overdue,
                  on_time=completed - late, late=late, within=owed - completed - overdue)


def _period_filter(plan: Plan, period: Period, agency_ids: list[int] | None) -> list[ColumnElement[bool]]:
    where = [col(Task.plan_id) == plan.id, col(Task.retired_at).is_(None),
             col(Item.due_on) >= period.start, col(Item.due_on) <= period.end]
    if agency_ids is not None:
        where.append(col(Item.agency_id).in_(agency_ids) if agency_ids else literal(False))
    return where


class _AxisRow(NamedTuple):
    id: int
    number: int
    name: str


class _TaskRow(NamedTuple):
    id: int
    code: str
    axis_id: int
    text: str
    owed_by_class: bool


def _plan_rows(session: Session, plan: Plan) -> tuple[list[_AxisRow], list[_TaskRow]]:
    """The plan's axes and live tasks (with whether a class leads each), as plain rows: two
    small queries that /status runs every time, so no ORM objects are built for them."""
    axes = session.execute(core_select(col(Axis.id), col(Axis.number), col(Axis.name))
                           .where(col(Axis.plan_id) == plan.id).order_by(col(Axis.number)))
    by_class = exists().where(col(Assignment.task_id) == col(Task.id),
                              col(Assignment.class_id).is_not(None),
                              col(Assignment.role) == AssignmentRole.LEAD.value)
    columns = (col(Task.id), col(Task.code), col(Task.axis_id), col(Task.task), by_class)
    tasks = session.execute(core_select(*columns)
                            .where(col(Task.plan_id) == plan.id, col(Task.retired_at).is_(None))
                            .order_by(col(Task.position)))
    return ([_AxisRow(*row) for row in axes],
            [_TaskRow(task_id, code, axis_id, text, bool(owed))
             for task_id, code, axis_id, text, owed in tasks])


def compute_rollup(session: Session, plan: Plan, period: Period, today: date, scope: Scope,
                   *, top: int = 5) -> Rollup:
    """The roll-up of ``period`` for ``scope``, as of ``today``: totals, axes, levels and tasks
    from one grouped scan, plus the ``top`` agencies with the most overdue items."""
    within = _scope_clause(session, scope)
    axes, tasks = _plan_rows(session, plan)
    task_ids = [t.id for t in tasks]
    live = _tasks_clause(session, task_ids)
    if _dialect(session) == "postgresql" and today > period.end:
        # A finished period: every open item is overdue, so a ranking statement of its own
        # would reread most of the period's items; one pass gives both.
        per_task, ranked = _scan_with_ranking(session, live, period, today, within, top)
    else:
        # The period still running: the ranking reads only the open items due before today
        # (an index range), cheaper than carrying a per-agency grouping through the scan
        # (PostgreSQL, bench/status.py at country scale: 170 ms against 270 ms).
        per_task = _scan(session, live, period, today, within)
        ranked = _ranked_overdue(session, task_ids, period, today, within, top)
    return _fold(axes, tasks, period, today, scope, per_task, _named(session, ranked))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _tasks_clause(session: Session, task_ids: list[int]) -> ColumnElement[bool]:
    """``Item.task_id IN (the plan's live tasks)``, written for a scan of a period's items.

    PostgreSQL: the ids rendered into the statement, not bound: psycopg prepares a statement
    run five times, PostgreSQL then switches to a generic plan, and there a list of bind
    parameters is an ARRAY[$1, ..., $40] rebuilt for every item row (3x the scan); a literal
    list is a constant array, looked up by hash (ids are ints from the database, and the text
    only changes when the plan's tasks do).

    SQLite: ``task_id + 0`` keeps the planner off the (task_id, agency_id, period_key) index,
    which for a subtree scope it walks with one seek and one table read per task and agency
    (about 20% slower than reading the scope's agencies' items), and on the covering
    ix_item_period_rollup (due_on, state, agency_id, task_id, completed_on)."""
    if _dialect(session) == "postgresql":
        live: BindParameter[list[int]] = bindparam("live_tasks", task_ids, expanding=True,
                                                   literal_execute=True)
        return col(Item.task_id).in_(live)
    return (col(Item.task_id) + 0).in_(task_ids)


def _scan(session: Session, tasks: ColumnElement[bool], period: Period, today: date,
          within: ColumnElement[bool] | None) -> dict[int, dict[str, Counts]]:
    per_task: dict[int, dict[str, Counts]] = defaultdict(dict)
    grouped = (select(Item.task_id, Agency.level, *_count_columns(today))
               .join(Agency, col(Agency.id) == Item.agency_id)
               .where(*_item_filter(tasks, period, within))
               .group_by(col(Item.task_id), col(Agency.level)))
    for row in session.exec(grouped):
        per_task[row[0]][row[1]] = _counts(tuple(row[2:]))
    return per_task


def _scan_with_ranking(session: Session, tasks: ColumnElement[bool], period: Period, today: date,
                       within: ColumnElement[bool] | None,
                       top: int) -> tuple[dict[int, dict[str, Counts]], list[tuple[int, int]]]:
    """PostgreSQL: the per task and level counts and the overdue ranking in one pass over the
    items (GROUPING SETS), instead of a second scan for the ranking, which for a finished
    period at country scale rereads most of the items.

    The task rows are grouped by state too, with COUNT(*), the overdue and the late counts:
    every aggregate is computed for both grouping sets, so three aggregates instead of ten keep the
    agency set cheap (about 15% of the statement at country scale); Python adds up the few
    hundred rows. Only the ``top`` agency rows come back (picked in the statement)."""
    by_agency = func.grouping(col(Item.agency_id)).label("by_agency")  # 0: an agency row
    sets = func.grouping_sets(tuple_(col(Item.task_id), col(Agency.level), col(Item.state)),
                              tuple_(col(Item.agency_id)))
    grouped = (core_select(col(Item.task_id), col(Agency.level), col(Item.state),
                           col(Item.agency_id), by_agency, func.count().label("items"),
                           func.count().filter(overdue_flag(today)).label("overdue"),
                           func.count().filter(late_flag()).label("late"))
               .join(Agency, col(Agency.id) == Item.agency_id)
               .where(*_item_filter(tasks, period, within))
               .group_by(sets).cte("grouped"))
    ranked = (core_select(*grouped.c).where(grouped.c.by_agency == 0, grouped.c.overdue > 0)
              .order_by(grouped.c.overdue.desc(), grouped.c.agency_id).limit(top).subquery("ranked"))
    query = union_all(core_select(*grouped.c).where(grouped.c.by_agency == 1), core_select(*ranked.c))
    tallies: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    overdue: list[tuple[int, int]] = []
    for task_id, level, state, agency_id, agency_row, items, behind, late in session.execute(query):
        if agency_row == 0:
            overdue.append((int(agency_id), int(behind)))
            continue
        tally = tallies[(task_id, level)]
        tally["owed"] += items
        tally[state] += items
        tally["overdue"] += behind
        tally["late"] += late
    overdue.sort(key=lambda pair: (-pair[1], pair[0]))  # UNION ALL keeps no order
    per_task: dict[int, dict[str, Counts]] = defaultdict(dict)
    for (task_id, level), tally in tallies.items():
        per_task[task_id][level] = _with_classes({name: tally[name] for name in SCANNED_FIELDS})
    return per_task, overdue


def _item_filter(tasks: ColumnElement[bool], period: Period,
                 within: ColumnElement[bool] | None) -> list[ColumnElement[bool]]:
    """Items of these tasks (a condition on Item.task_id) due in the period, inside the
    scope (no join needed)."""
    where = [tasks, col(Item.due_on) >= period.start,
             col(Item.due_on) <= period.end]
    return where if within is None else [*where, within]


def _fold(axes: list[_AxisRow], tasks: list[_TaskRow], period: Period, today: date,
          scope: Scope, per_task: dict[int, dict[str, Counts]], overdue: list[AgencyLine]) -> Rollup:
    number_of = {a.id: a.number for a in axes}
    task_lines = [TaskLine(t.id, t.code, number_of.get(t.axis_id, 0), t.text,
                           _sum(list(per_task.get(t.id, {}).values())), per_task.get(t.id, {}),
                           t.owed_by_class)
                  for t in tasks]
    axis_lines = [AxisLine(a.id, a.number, a.name,
                           _sum([tl.counts for tl in task_lines if tl.axis_number == a.number]))
                  for a in axes]
    levels: dict[str, Counts] = {}
    for level in LEVEL_ORDER:
        found = [c for by_level in per_task.values() for lv, c in by_level.items() if lv == level]
        if found:
            levels[level] = _sum(found)
    return Rollup(period, today, scope, _sum([a.counts for a in axis_lines]), axis_lines, levels,
                  task_lines, overdue)


def _ranked_overdue(session: Session, task_ids: list[int], period: Period, today: date,
                    within: ColumnElement[bool] | None, limit: int) -> list[tuple[int, int]]:
    """(agency id, overdue items) of the agencies with the most overdue items of the period,
    most first, ties by id: a scan of the open items due before today."""
    last = min(period.end, today - timedelta(days=1))
    if last < period.start:  # only items due before today can be overdue
        return []
    if _dialect(session) == "sqlite":
        return _ranked_overdue_sqlite(session, task_ids, period.start, last, within, limit)
    overdue = func.count().label("overdue")
    query = (select(Item.agency_id, overdue)
             .where(*_item_filter(_tasks_clause(session, task_ids), period, within),
                    col(Item.due_on) <= last,
                    col(Item.state).in_(OPEN_STATES))
             .group_by(col(Item.agency_id))
             .order_by(overdue.desc(), col(Item.agency_id)).limit(limit))
    return [(int(agency_id), int(n)) for agency_id, n in session.exec(query)]


def _ranked_overdue_sqlite(session: Session, task_ids: list[int], first: date, last: date,
                           within: ColumnElement[bool] | None, limit: int) -> list[tuple[int, int]]:
    """SQLite: the ranking as seeks into ix_item_period_rollup (due_on, state, agency_id)
    rather than a scan of the whole period. A period's items fall on a handful of due days, so
    the distinct days are found first (a loose index scan: one seek per day), and each
    (day, open state[, agency]) is then a short index range. ``+ 0`` on task_id and agency_id
    keeps the planner off the (task_id, agency_id, ...) and agency_id indexes, which it
    otherwise prefers (to save the GROUP BY sort) at many times the cost."""
    day = select(func.min(Item.due_on).label("day")).where(col(Item.due_on) >= first,
                                                          col(Item.due_on) <= last)
    days = day.cte("due_days", recursive=True)
    after = select(func.min(Item.due_on)).where(col(Item.due_on) > days.c.day,
                                                 col(Item.due_on) <= last).scalar_subquery()
    days = days.union_all(select(after).where(days.c.day.is_not(None)))
    agency = (col(Item.agency_id) + 0).label("agency")
    overdue = func.count().label("overdue")
    where: list[ColumnElement[bool]] = [
        (col(Item.task_id) + 0).in_(task_ids), col(Item.due_on).in_(select(days.c.day)),
             col(Item.state).in_(OPEN_STATES)]
    if within is not None:
        where.append(within)
    query = (select(agency, overdue).where(*where).group_by(agency)
             .order_by(overdue.desc(), agency).limit(limit))
    return [(int(agency_id), int(n)) for agency_id, n in session.exec(query)]


def _named(session: Session, ranked: list[tuple[int, int]]) -> list[AgencyLine]:
    """The ranked agencies as lines; names are looked up for the few ranked, not joined into
    the scan."""
    if not ranked:
        return []
    query = select(Agency.id, Agency.name, Agency.level).where(col(Agency.id).in_([i for i, _n in ranked]))
    names = {agency_id: (name, level) for agency_id, name, level in session.exec(query)}
    return [AgencyLine(i, *names[i], Counts(overdue=n)) for i, n in ranked if i in names]


def most_overdue(session: Session, plan: Plan, period: Period, today: date,
                 agency_ids: list[int] | None, *, limit: int = 5) -> list[AgencyLine]:
    """Agencies with the most overdue items of the period (most first)."""
    task_ids = list(session.exec(select(Task.id).where(Task.plan_id == plan.id,
                                                       col(Task.retired_at).is_(None))))
    ranked = _ranked_overdue(session, [t for t in task_ids if t is not None], period, today,
                             _ids_clause(agency_ids), limit)
    return _named(session, ranked)


def agency_lines(session: Session, plan: Plan, period: Period, today: date, scope: Scope, *,
                 task_id: int | None = None, axis_id: int | None = None,
                 ordered: bool = True) -> list[AgencyLine]:
    """Counts per owing agency (optionally for one task or one axis), by name (``ordered``).

    One grouped scan by agency alone over the period's items (on SQLite the covering
    ix_item_period_rollup; no task or agency row read per item), the names and levels joined
    to the grouped rows afterwards."""
    where = [col(Task.plan_id) == plan.id, col(Task.retired_at).is_(None)]
    if task_id is not None:
        where.append(col(Task.id) == task_id)
    if axis_id is not None:
        where.append(col(Task.axis_id) == axis_id)
    task_ids = [t for t in session.exec(select(Task.id).where(*where)) if t is not None]
    if not task_ids:
        return []
    tasks = (col(Item.task_id) == task_ids[0] if task_id is not None
             else _tasks_clause(session, task_ids))
    grouped = (core_select(col(Item.agency_id).label("agency_id"), *_count_columns(today))
               .where(*_item_filter(tasks, period, _scope_clause(session, scope)))
               .group_by(col(Item.agency_id)).subquery("grouped"))
    query = (core_select(grouped.c.agency_id, col(Agency.name), col(Agency.level),
                         *(grouped.c[name] for name in SCANNED_FIELDS))
             .join(Agency, col(Agency.id) == grouped.c.agency_id))
    lines = [AgencyLine(row[0], row[1], row[2], _counts(tuple(row[3:]))) for row in session.execute(query)]
    return sorted(lines, key=lambda line: name_sort_text(line.name)) if ordered else lines


@dataclass(frozen=True)
class ItemLine:
    item_id: int
    task_id: int
    task_code: str
    task_text: str
    agency_id: int
    agency_name: str
    period_key: str
    due_on: date
    state: str
    overdue: bool
    reason: str = ""  # a blocked item's reason (its current report's note), where asked for
    completed_on: date | None = None  # completed items: the day of the done report
    original_due_on: date | None = None  # the first due date, once an extension moved ``due_on``
    contributions: int = 0  # coordinating agencies' contributions to it, where asked for

    @property
    def official(self) -> OfficialClass:
        """domain.official.classify as of the day ``overdue`` was judged."""
        if is_completed(self.state):
            return classify(self.state, self.due_on, self.completed_on, self.due_on)
        return OfficialClass.OVERDUE if self.overdue else OfficialClass.WITHIN


def item_lines(session: Session, plan: Plan, period: Period, today: date, scope: Scope, *,
               agency_id: int | None = None, task_id: int | None = None) -> list[ItemLine]:
    """The items themselves (drill-down pages), by task position then agency name."""
    where = _period_filter(plan, period, scope_agency_ids(session, scope))
    if agency_id is not None:
        where.append(col(Item.agency_id) == agency_id)
    if task_id is not None:
        where.append(col(Item.task_id) == task_id)
    query = (select(Item, Task.code, Task.task, Agency.name)
             .join(Task, col(Task.id) == Item.task_id)
             .join(Agency, col(Agency.id) == Item.agency_id)
             .where(*where).order_by(col(Task.position)))
    lines = [ItemLine(item.id, item.task_id, code, text, item.agency_id, name, item.period_key,
                      item.due_on, item.state, item.state in OPEN_STATES and item.due_on < today,
                      completed_on=item.completed_on, original_due_on=item.original_due_on)
             for item, code, text, name in session.exec(query) if item.id is not None]
    # Agency names in Vietnamese order (SQL orders by code point); one key per distinct name.
    keys = {name: vi_key(name) for name in {line.agency_name for line in lines}}
    rank = {task_id: i for i, task_id in enumerate(dict.fromkeys(line.task_id for line in lines))}
    return sorted(lines, key=lambda line: (rank[line.task_id], keys[line.agency_name], line.due_on))


# --- the ranking (issue 13) -----------------------------------------------------------------

# Like with like: a league table per agency level; the province and anything else share "other".
RANK_LEVELS = (AgencyLevel.DEPARTMENT.value, AgencyLevel.DISTRICT.value, AgencyLevel.COMMUNE.value,
               AgencyLevel.OTHER.value)


def rank_level(level: str) -> str:
    return level if level in RANK_LEVELS else AgencyLevel.OTHER.value


@dataclass(frozen=True)
class RankLine:
    """One agency's place in its level's league table (``position`` from 1; agencies with the
    same rate and overdue count share a position)."""

    position: int
    agency_id: int
    name: str
    level: str
    counts: Counts

    @property
    def rate(self) -> float | None:
        return self.counts.on_time_rate


def _standing(counts: Counts) -> tuple[bool, float, int]:
    """What a league position depends on: a rate (highest first; none yet: last), then
    overdue items (fewest first)."""
    rate = counts.on_time_rate
    return rate is None, -(rate or 0.0), counts.overdue


def league(lines: list[AgencyLine]) -> list[RankLine]:
    """One level's agencies in ranking order, with their positions (ties share one)."""
    # On-time rate, overdue items, then the name in Vietnamese order (the index: equal names).
    order = sorted((*_standing(line.counts), name_sort_text(line.name), index)
                   for index, line in enumerate(lines))
    ranked: list[RankLine] = []
    previous: tuple[object, ...] | None = None
    position = 0
    for place, entry in enumerate(order, start=1):
        standing = entry[:3]
        if standing != previous:
            position, previous = place, standing
        line = lines[entry[-1]]
        ranked.append(RankLine(position, line.agency_id, line.name, line.level, line.counts))
    return ranked


def ranking(session: Session, plan: Plan, period: Period, today: date,
            scope: Scope) -> dict[str, list[RankLine]]:
    """The league tables of ``period`` for the agencies in ``scope`` that owe something in it,
    per level (RANK_LEVELS order; a level with nobody is left out): one grouped scan by agency,
    the same counts as the roll-up's."""
    return league_tables(agency_lines(session, plan, period, today, scope, ordered=False))


def league_tables(lines: list[AgencyLine]) -> dict[str, list[RankLine]]:
    """Agencies' counts (agency_lines) as league tables per level (RANK_LEVELS order)."""
    by_level: dict[str, list[AgencyLine]] = defaultdict(list)
    for line in lines:
        by_level[rank_level(line.level)].append(line)
    return {level: league(by_level[level]) for level in RANK_LEVELS if by_level.get(level)}

"""The overdue backlog: open items whose due day has passed, whatever period they belong to.

What coordinators' escalations point at and what /status shows besides the current period:
per agency the number of overdue items (worst first), whether anybody at that agency is
registered to hear about them, and an agency's overdue items themselves. Counted in the
database (one grouped query), names looked up for the agencies found.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, select

from domain.access import Scope
from domain.collation import name_sort_text
from models.rollup import ItemLine, scope_agency_ids
from models.tables import (
    OPEN_STATES,
    Agency,
    Item,
    ItemState,
    Member,
    MemberRole,
    Plan,
    Report,
    ReportState,
    Task,
)


@dataclass(frozen=True)
class OverdueAgency:
    """One agency's overdue items; ``staffed``: a focal point of it is registered and reachable
    (someone there was reminded)."""

    agency_id: int
    name: str
    code: str
    overdue: int
    staffed: bool


@dataclass(frozen=True)
class Backlog:
    """Overdue items due before ``before`` (earlier periods), in a scope."""

    items: int


def _live(plan: Plan) -> list[ColumnElement[bool]]:
    return [col(Task.plan_id) == plan.id, col(Task.retired_at).is_(None)]


def _open_before(session: Session, plan: Plan, last: date) -> list[ColumnElement[bool]]:
    """Open items of the plan's live tasks due before ``last``, as conditions on Item alone (no
    join). SQLite: the due days are found first (a loose scan of ix_item_period_rollup, one seek
    per day), then each (day, open state) is a short range of that index, so only open items
    are read, not every item of the past years; ``+ 0`` keeps the planner on that index."""
    tasks = [t for t in session.exec(select(Task.id).where(*_live(plan))) if t is not None]
    if session.get_bind().dialect.name != "sqlite":
        return [col(Item.task_id).in_(tasks), col(Item.state).in_(OPEN_STATES), col(Item.due_on) < last]
    days = list(session.exec(select(col(Item.due_on)).where(col(Item.due_on) < last).distinct()))
    return [(col(Item.task_id) + 0).in_(tasks), col(Item.state).in_(OPEN_STATES),
            col(Item.due_on).in_(days)]


def _within(session: Session, scope: Scope) -> list[ColumnElement[bool]]:
    ids = scope_agency_ids(session, scope)
    if ids is None:
        return []
    return [col(Item.agency_id).in_(ids)]


def staffed_agencies(session: Session, agency_ids: Iterable[int]) -> set[int]:
    """The agencies among ``agency_ids`` with an active, reachable focal point."""
    wanted = sorted(set(agency_ids))
    found: set[int] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        query = select(Member.agency_id).where(
            col(Member.agency_id).in_(chunk), col(Member.active), col(Member.unreachable_at).is_(None),
            col(Member.role) == MemberRole.FOCAL_POINT.value).distinct()
        found.update(a for a in session.exec(query) if a is not None)
    return found


def named_agencies(session: Session, counts: dict[int, int]) -> list[OverdueAgency]:
    """``agency id -> count`` as lines, worst first, ties in Vietnamese alphabetical order."""
    if not counts:
        return []
    staffed = staffed_agencies(session, counts)
    names = {i: (n, c) for i, n, c in session.exec(
        select(Agency.id, Agency.name, Agency.code).where(col(Agency.id).in_(list(counts))))}
    lines = [OverdueAgency(i, names[i][0], names[i][1], n, i in staffed)
             for i, n in counts.items() if i in names]
    return sorted(lines, key=lambda a: (-a.overdue, name_sort_text(a.name)))


def overdue_by_agency(session: Session, plan: Plan, today: date, scope: Scope, *,
                      before: date | None = None) -> list[OverdueAgency]:
    """Agencies in ``scope`` with open items due before ``today`` (and before ``before``, if
    given: the backlog of earlier periods), worst first."""
    last = min(today, before) if before is not None else today
    agency = (col(Item.agency_id) + 0).label("agency")
    query = (select(agency, func.count()).select_from(Item)
             .where(*_open_before(session, plan, last), *_within(session, scope))
             .group_by(agency))
    return named_agencies(session, {int(a): int(n) for a, n in session.exec(query)})


def backlog(session: Session, plan: Plan, today: date, scope: Scope, before: date) -> Backlog:
    """How many items of earlier periods (due before ``before``) are overdue. (Which agencies:
    the overdue drill-down; counting them here too would double what /status pays for it.)"""
    query = (select(func.count()).select_from(Item)
             .where(*_open_before(session, plan, min(today, before)), *_within(session, scope)))
    return Backlog(int(session.exec(query).one() or 0))


def overdue_items(session: Session, plan: Plan, today: date, agency_id: int) -> list[ItemLine]:
    """One agency's overdue items, oldest due day first, then by task position."""
    query = (select(Item, Task.code, Task.task, Agency.name)
             .join(Task, col(Task.id) == Item.task_id)
             .join(Agency, col(Agency.id) == Item.agency_id)
             .where(*_live(plan), col(Item.agency_id) == agency_id, col(Item.state).in_(OPEN_STATES),
                    col(Item.due_on) < today)
             .order_by(col(Item.due_on), col(Task.position)))
    return [ItemLine(item.id, item.task_id, code, text, item.agency_id, name, item.period_key,
                     item.due_on, item.state, True)
            for item, code, text, name in session.exec(query) if item.id is not None]


def blocked_reasons(session: Session, item_ids: Iterable[int]) -> dict[int, str]:
    """item id -> the reason its current report gives, for the items that are blocked."""
    wanted = sorted(set(item_ids))
    if not wanted:
        return {}
    latest = (select(Report.item_id, func.max(Report.version).label("version"))
              .where(col(Report.item_id).in_(wanted)).group_by(col(Report.item_id)).subquery())
    query = (select(Report.item_id, Report.note)
             .join(latest, (latest.c.item_id == Report.item_id) & (latest.c.version == Report.version))
             .where(col(Report.state) == ReportState.BLOCKED.value))
    return {int(i): note for i, note in session.exec(query)}


def with_reasons(session: Session, items: list[ItemLine]) -> list[ItemLine]:
    """The blocked ones among ``items`` with their reason filled in."""
    reasons = blocked_reasons(session, [i.item_id for i in items if i.state == ItemState.BLOCKED.value])
    return [replace(i, reason=reasons[i.item_id]) if i.item_id in reasons else i for i in items]

"""Deadlines: from each task's cadence (and recorded events and milestones), what each owing
agency must deliver and by when, and the items in the database that carry them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from domain.periods import DueRules, periods_between
from models.db import insert_ignore
from models.obligations import live_tasks, owing_agencies
from models.tables import Event, Item, ItemState, Milestone, Plan, Task
from models.types import utcnow


@dataclass(frozen=True)
class Deadline:
    """One agency's deadline for one task and period (an item before it is stored)."""

    task_id: int
    agency_id: int
    period_key: str
    period_kind: str
    period_start: date
    due_on: date
    event_id: int | None = None
    milestone_id: int | None = None

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.task_id, self.agency_id, self.period_key)


def _recurring(tasks: Iterable[Task], owed: dict[int, list[int]], first: date, last: date,
               rules: DueRules) -> list[Deadline]:
    found: list[Deadline] = []
    for task in tasks:
        assert task.id is not None
        for period in periods_between(task.cadence, first, last, rules):
            found.extend(Deadline(task.id, agency_id, period.key, period.kind, period.start,
                                  period.due) for agency_id in owed.get(task.id, []))
    return found


def _events(session: Session, task_ids: list[int], owed: dict[int, list[int]], first: date,
            last: date) -> list[Deadline]:
    query = select(Event).where(col(Event.task_id).in_(task_ids), col(Event.due_on) >= first,
                                col(Event.due_on) <= last)
    return [Deadline(e.task_id, agency_id, f"E{e.id}", "event", e.occurred_on, e.due_on,
                     event_id=e.id)
            for e in session.exec(query) for agency_id in owed.get(e.task_id, [])]


def _milestones(session: Session, task_ids: list[int], owed: dict[int, list[int]], first: date,
                last: date) -> list[Deadline]:
    query = select(Milestone).where(col(Milestone.task_id).in_(task_ids),
                                    col(Milestone.due_on) >= first, col(Milestone.due_on) <= last)
    return [Deadline(m.task_id, agency_id, f"M{m.id}", "milestone", m.due_on, m.due_on,
                     milestone_id=m.id)
            for m in session.exec(query) for agency_id in owed.get(m.task_id, [])]


def deadlines_between(session: Session, plan: Plan, first: date, last: date,
                      rules: DueRules) -> list[Deadline]:
    """Every deadline of the plan due in [first, last] (never before the plan is active)."""
    first = max(first, plan.active_from)
    if last < first or plan.archived_at is not None:
        return []
    tasks = live_tasks(session, plan)
    task_ids = [t.id for t in tasks if t.id is not None]
    owed = owing_agencies(session, task_ids)
    found = (_recurring(tasks, owed, first, last, rules) + _events(session, task_ids, owed, first, last)
             + _milestones(session, task_ids, owed, first, last))
    return sorted(found, key=lambda d: (d.due_on, d.task_id, d.agency_id))


def open_periods_deadlines(session: Session, plan: Plan, today: date,
                           rules: DueRules) -> list[Deadline]:
    """Deadlines whose period has begun by ``today``: the ones that should exist as items.

    Recurring periods are at least a quarter long, so a period that has begun is always known
    well before the earliest reminder (14 days before its due day)."""
    horizon = today + timedelta(days=400)
    return [d for d in deadlines_between(session, plan, plan.active_from, horizon, rules)
            if d.period_start <= today or d.period_kind in ("event", "milestone")]


def sync_items(session: Session, plan: Plan, today: date, rules: DueRules) -> int:
    """Store the items of every begun period; existing ones are left as they are.

    Uses INSERT … ON CONFLICT DO NOTHING so that two instances doing this at once agree."""
    wanted = open_periods_deadlines(session, plan, today, rules)
    if not wanted:
        return 0
    now = utcnow()
    rows = [{"task_id": d.task_id, "agency_id": d.agency_id, "period_key": d.period_key,
             "period_kind": d.period_kind, "period_start": d.period_start, "due_on": d.due_on,
             "event_id": d.event_id, "milestone_id": d.milestone_id,
             "state": ItemState.NOT_STARTED.value, "created_at": now}
            for d in wanted]
    return insert_ignore(session, Item, rows, ("task_id", "agency_id", "period_key"))

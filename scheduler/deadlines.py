"""Deadlines: from each task's cadence (and recorded events and milestones), what each owing
agency must deliver and by when, and the items in the database that carry them. A one-off task
(cadence "once") has one period, from the day its plan is in force to the task's own date."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from domain.periods import DueRules, periods_between
from models import changes
from models.coordination import plan_openings
from models.db import insert_ignore_chunk, session_scope
from models.obligations import live_tasks, owing_agencies
from models.registry import active_plans
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
               rules: DueRules, opens: date) -> list[Deadline]:
    found: list[Deadline] = []
    for task in tasks:
        assert task.id is not None
        for period in periods_between(task.cadence, first, last, rules, due_on=task.due_on,
                                      opens=opens):
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
    found = (_recurring(tasks, owed, first, last, rules, plan.active_from)
             + _events(session, task_ids, owed, first, last)
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


def _item_row(d: Deadline, now: datetime) -> dict[str, object]:
    return {"task_id": d.task_id, "agency_id": d.agency_id, "period_key": d.period_key,
            "period_kind": d.period_kind, "period_start": d.period_start, "due_on": d.due_on,
            "event_id": d.event_id, "milestone_id": d.milestone_id,
            "state": ItemState.NOT_STARTED.value, "created_at": now}


_ITEM_KEY = ("task_id", "agency_id", "period_key")
CHUNK = 5000  # rows per statement (and per commit in the bot's sync)


def _period_rows(session: Session, plan: Plan, since: date | None, today: date,
                 rules: DueRules) -> Iterator[dict[str, object]]:
    """Item rows of the recurring periods begun in (since, today] (since None: ever)."""
    if plan.archived_at is not None:
        return
    tasks = live_tasks(session, plan)
    owed = owing_agencies(session, [t.id for t in tasks if t.id is not None])
    now, state = utcnow(), ItemState.NOT_STARTED.value
    first = plan.active_from if since is None else max(plan.active_from, since + timedelta(days=1))
    for task in tasks:
        assert task.id is not None
        agencies = owed.get(task.id, [])
        if not agencies:
            continue
        for period in periods_between(task.cadence, first, today + timedelta(days=400), rules,
                                      due_on=task.due_on, opens=plan.active_from):
            if period.start > today or (since is not None and period.start <= since):
                continue
            for agency_id in agencies:
                yield {"task_id": task.id, "agency_id": agency_id, "period_key": period.key,
                       "period_kind": period.kind, "period_start": period.start,
                       "due_on": period.due, "event_id": None, "milestone_id": None,
                       "state": state, "created_at": now}


def _event_rows(session: Session, plan: Plan) -> list[dict[str, object]]:
    """Item rows of every recorded event and milestone of the plan (they exist once recorded)."""
    if plan.archived_at is not None:
        return []
    tasks = live_tasks(session, plan)
    task_ids = [t.id for t in tasks if t.id is not None]
    owed = owing_agencies(session, task_ids)
    first, last = plan.active_from, date.max
    now = utcnow()
    return [_item_row(d, now) for d in (_events(session, task_ids, owed, first, last)
                                         + _milestones(session, task_ids, owed, first, last))]


def _insert(session: Session, rows: Iterable[dict[str, object]],
            between_chunks: Callable[[], bool] | None = None) -> tuple[int, bool]:
    """Insert ``rows`` in chunks; ``between_chunks`` (commit, and say whether to go on) runs
    after each. Returns (rows added, finished)."""
    added, chunk = 0, []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            added += insert_ignore_chunk(session, Item, chunk, _ITEM_KEY)
            chunk = []
            if between_chunks is not None and not between_chunks():
                return added, False
    added += insert_ignore_chunk(session, Item, chunk, _ITEM_KEY)
    session.flush()
    return added, True


def sync_events(session: Session, plan: Plan) -> int:
    """Store the items of every recorded event and milestone (after one is recorded)."""
    return _insert(session, _event_rows(session, plan))[0]


def sync_items(session: Session, plan: Plan, today: date, rules: DueRules) -> int:
    """Store the items of every begun period, event and milestone; existing ones are left as
    they are.

    Uses INSERT … ON CONFLICT DO NOTHING so that two instances doing this at once agree."""
    added = _insert(session, _period_rows(session, plan, None, today, rules))[0]
    return added + sync_events(session, plan)


@dataclass(frozen=True)
class SyncResult:
    added: int
    finished: bool  # False: stopped between chunks (the next tick goes on from the mark)


class Openings:
    """The (task, period) pairs of the item rows a sync stores whose period is still running:
    what the coordinating agencies are told about (models.coordination.plan_openings). Seen as
    the rows pass, so telling costs no scan of its own."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.found: set[tuple[int, str]] = set()

    def watch(self, rows: Iterable[dict[str, object]]) -> Iterator[dict[str, object]]:
        for row in rows:
            due = row["due_on"]
            if isinstance(due, date) and due >= self.today:
                self.found.add((int(row["task_id"]), str(row["period_key"])))  # type: ignore[call-overload]
            yield row


def sync_due(engine: Engine, rules: DueRules, today: date, *,
             keep_going: Callable[[], bool] = lambda: True,
             tell_coordinating: bool = False) -> SyncResult:
    """The running bot's item sync: only what changed since the mark in ``app_state``.

    A new day adds the periods begun since the marked day; recorded events or milestones (the
    ``events`` counter) add theirs; a changed registry (tasks, who owes them, agencies, the
    plan) or other due-day rules sync every begun period again. Committed every chunk, asking
    ``keep_going`` in between, so a stop never waits for a whole first load; the mark moves
    only once everything is stored.

    ``tell_coordinating`` (DONDOC_COORDINATION_NOTICES): the coordinating agencies of the tasks
    whose periods this sync stored are told, one message per agency and period (ledger keys
    make it once, also when a stopped sync stores the same periods again)."""
    with session_scope(engine) as session:
        plans = active_plans(session)
        if not plans:
            return SyncResult(0, True)
        counters = changes.counters(session)  # before reading what they guard
        rules_key = repr(rules)
        ids = [p.id for p in plans]
        mark = changes.mark(session, changes.ITEMS_SYNCED) or {}
        same_base = (mark.get("plans") == ids and mark.get("rules") == rules_key
                     and mark.get(changes.REGISTRY) == counters.get(changes.REGISTRY))
        since = date.fromisoformat(mark["day"]) if same_base and mark.get("day") else None
        events_changed = not same_base or mark.get(changes.EVENTS) != counters.get(changes.EVENTS)
        if since is not None and since >= today and not events_changed:
            return SyncResult(0, True)

        postgres = session.get_bind().dialect.name == "postgresql"

        def quick_commits() -> None:
            # A chunk lost in a crash is stored again by the next sync (the mark moves last),
            # so its commit need not wait for the WAL to reach the disk.
            if postgres:
                session.execute(text("SET LOCAL synchronous_commit = off"))

        def between_chunks() -> bool:
            session.commit()
            quick_commits()
            return keep_going()

        quick_commits()
        added = 0
        openings = Openings(today)
        if since is None or since < today:
            begun = openings.watch(row for plan in plans
                                   for row in _period_rows(session, plan, since, today, rules))
            added, finished = _insert(session, begun, between_chunks)
            if not finished:
                return SyncResult(added, False)
        if events_changed:
            added += _insert(session, openings.watch(row for plan in plans
                                                     for row in _event_rows(session, plan)))[0]
        if tell_coordinating and openings.found:
            plan_openings(session, openings.found, utcnow())
        changes.set_mark(session, changes.ITEMS_SYNCED, {
            "plans": ids, "day": max(today, since or today).isoformat(), "rules": rules_key,
            changes.REGISTRY: counters.get(changes.REGISTRY),
            changes.EVENTS: counters.get(changes.EVENTS)})
        return SyncResult(added, True)

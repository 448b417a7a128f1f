"""Recorded events and milestones: the dated things that open deadlines besides the cadences.

Event-driven tasks ("after approval by the competent authority", "before and during
elections") owe nothing until a coordinator records the event: its date plus the days allowed
make the deadline. Roadmap and master-plan tasks get dated milestones with their target.
Every function validates first and changes nothing when it refuses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from models.registry import find_task
from models.tables import AuditLog, Event, Milestone, Plan, Task
from scheduler.periods import event_due

EVENT_CADENCES = ("after_approval", "election")
MILESTONE_CADENCES = ("roadmap", "master_plan")
MAX_DAYS_ALLOWED = 366
MAX_NOTE = 500


class EventError(ValueError):
    """An event or milestone that cannot be recorded; the message says why."""


@dataclass(frozen=True)
class EventLimits:
    """How far from today an event date may lie (settings event_max_past/future_days)."""

    max_past_days: int = 366
    max_future_days: int = 366


def _task(session: Session, plan: Plan, code: str) -> Task:
    task = find_task(session, plan, code)
    if task is None:
        raise EventError(f"{code.strip()!r}: no such task in plan {plan.number} "
                         "(see `dondoc tasks` for the codes)")
    return task


def event_task(session: Session, plan: Plan, code: str) -> Task:
    """The event-driven task with that code, or a clear refusal."""
    task = _task(session, plan, code)
    if task.cadence not in EVENT_CADENCES:
        raise EventError(f"task {task.code} is not event-driven (its timeframe is {task.timeframe!r}, "
                         "so its deadlines come from its cadence); events apply to tasks done "
                         "'after approval' or 'before and during elections'")
    return task


def event_tasks(session: Session, plan: Plan) -> list[Task]:
    """The plan's live event-driven tasks, in document order."""
    return list(session.exec(select(Task).where(
        Task.plan_id == plan.id, col(Task.retired_at).is_(None), col(Task.cadence).in_(EVENT_CADENCES))
        .order_by(col(Task.position))))


def check_event_date(occurred_on: date, *, today: date, limits: EventLimits) -> None:
    earliest = today - timedelta(days=limits.max_past_days)
    latest = today + timedelta(days=limits.max_future_days)
    if occurred_on < earliest:
        raise EventError(f"{occurred_on.isoformat()} is too far in the past: events may be at most "
                         f"{limits.max_past_days} days old (on or after {earliest.isoformat()})")
    if occurred_on > latest:
        raise EventError(f"{occurred_on.isoformat()} is too far in the future: events may be at most "
                         f"{limits.max_future_days} days ahead (on or before {latest.isoformat()})")


def check_days_allowed(days_allowed: int) -> None:
    if isinstance(days_allowed, bool) or not 1 <= days_allowed <= MAX_DAYS_ALLOWED:
        raise EventError(f"{days_allowed!r} days allowed: must be a whole number from 1 to "
                         f"{MAX_DAYS_ALLOWED}")


def _check_note(note: str) -> str:
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise EventError(f"the note is {len(note)} characters long; at most {MAX_NOTE} are kept")
    return note


def record_event(session: Session, *, plan: Plan, task_code: str, occurred_on: date, days_allowed: int,
                 today: date, limits: EventLimits, note: str = "", actor: str = "cli") -> Event:
    """Record an event of an event-driven task; its deadline is ``occurred_on + days_allowed``."""
    task = event_task(session, plan, task_code)
    check_event_date(occurred_on, today=today, limits=limits)
    check_days_allowed(days_allowed)
    note = _check_note(note)
    assert task.id is not None
    event = Event(task_id=task.id, occurred_on=occurred_on, days_allowed=days_allowed,
                  due_on=event_due(occurred_on, days_allowed), note=note, created_by=actor[:64])
    session.add(event)
    session.flush()
    session.add(AuditLog(actor=actor, action="event.record", entity="event", entity_id=str(event.id),
                         details=json.dumps({"task": task.code, "occurred_on": occurred_on.isoformat(),
                                             "days_allowed": days_allowed, "note": note},
                                            ensure_ascii=False)))
    return event


@dataclass(frozen=True)
class EventView:
    id: int
    code: str
    occurred_on: date
    days_allowed: int
    due_on: date
    note: str


def list_events(session: Session, plan: Plan) -> list[EventView]:
    query = (select(Event, Task).join(Task, col(Task.id) == Event.task_id).where(Task.plan_id == plan.id)
             .order_by(col(Event.occurred_on), col(Event.id)))
    return [EventView(e.id or 0, t.code, e.occurred_on, e.days_allowed, e.due_on, e.note)
            for e, t in session.exec(query)]


def add_milestone(session: Session, *, plan: Plan, task_code: str, due_on: date, target: str = "",
                  source: str = "admin", actor: str = "cli") -> Milestone:
    """A dated milestone of a roadmap / master-plan task, with its target if there is one."""
    task = _task(session, plan, task_code)
    if task.cadence not in MILESTONE_CADENCES:
        raise EventError(f"task {task.code} has no milestones (its timeframe is {task.timeframe!r}); "
                         "milestones apply to tasks done 'per roadmap' or 'per master plan'")
    target = target.strip()
    if len(target) > MAX_NOTE:
        raise EventError(f"the target is {len(target)} characters long; at most {MAX_NOTE} are kept")
    if due_on < plan.active_from:
        raise EventError(f"{due_on.isoformat()} is before the plan is active "
                         f"({plan.active_from.isoformat()}): nothing would be owed")
    assert task.id is not None
    duplicate = session.exec(select(Milestone).where(Milestone.task_id == task.id,
                                                     Milestone.due_on == due_on)).first()
    if duplicate is not None:
        raise EventError(f"task {task.code} already has a milestone on {due_on.isoformat()}")
    milestone = Milestone(task_id=task.id, due_on=due_on, target=target, source=source)
    session.add(milestone)
    session.flush()
    session.add(AuditLog(actor=actor, action="milestone.add", entity="milestone",
                         entity_id=str(milestone.id),
                         details=json.dumps({"task": task.code, "due_on": due_on.isoformat(),
                                             "target": target}, ensure_ascii=False)))
    return milestone


@dataclass(frozen=True)
class MilestoneView:
    id: int
    code: str
    due_on: date
    target: str
    source: str


def list_milestones(session: Session, plan: Plan) -> list[MilestoneView]:
    query = (select(Milestone, Task).join(Task, col(Task.id) == Milestone.task_id)
             .where(Task.plan_id == plan.id).order_by(col(Milestone.due_on), col(Task.position)))
    return [MilestoneView(m.id or 0, t.code, m.due_on, m.target, m.source) for m, t in session.exec(query)]

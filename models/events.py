"""Recorded events and milestones: the dated things that open deadlines besides the cadences.

Event-driven tasks ("after approval by the competent authority", "before and during
elections") owe nothing until a coordinator records the event: its date plus the days allowed
make the deadline. Roadmap and master-plan tasks get dated milestones with their target.
Every function validates first and changes nothing when it refuses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, delete, func
from sqlmodel import Session, col, select

from domain.access import Action, Actor, allows, require
from domain.periods import event_due
from domain.text import normalize
from models.db import session_scope
from models.obligations import owing_agencies
from models.registry import NoPlan, chosen_plan, find_task, plan_named
from models.tables import AuditLog, Event, EventDraft, Item, Milestone, Plan, ReportDraft, Task

EVENT_CADENCES = ("after_approval", "election")
MILESTONE_CADENCES = ("roadmap", "master_plan")
MAX_DAYS_ALLOWED = 366
MAX_NOTE = 500


class EventError(ValueError):
    """An event or milestone that cannot be recorded; the message says why (in English, for the
    command line). ``reason`` and ``params`` let the bot say it in the user's language:
    ``no_task`` (code), ``not_event`` (code), ``too_old`` (n), ``too_new`` (n), ``days`` (max),
    ``stale`` (the /event draft no longer matches), ``invalid`` (anything else)."""

    def __init__(self, message: str, reason: str = "invalid", **params: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.params = params


@dataclass(frozen=True)
class EventLimits:
    """How far from today an event date may lie (settings event_max_past/future_days)."""

    max_past_days: int = 366
    max_future_days: int = 366


def _task(session: Session, plan: Plan, code: str) -> Task:
    task = find_task(session, plan, code)
    if task is None:
        raise EventError(f"{code.strip()!r}: no such task in plan {plan.number} "
                         "(see `dondoc tasks` for the codes)", "no_task", code=code.strip())
    return task


def event_task(session: Session, plan: Plan, code: str) -> Task:
    """The event-driven task with that code, or a clear refusal."""
    task = _task(session, plan, code)
    if task.cadence not in EVENT_CADENCES:
        raise EventError(f"task {task.code} is not event-driven (its timeframe is {task.timeframe!r}, "
                         "so its deadlines come from its cadence); events apply to tasks done "
                         "'after approval' or 'before and during elections'", "not_event", code=task.code)
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
                         f"{limits.max_past_days} days old (on or after {earliest.isoformat()})",
                         "too_old", n=limits.max_past_days)
    if occurred_on > latest:
        raise EventError(f"{occurred_on.isoformat()} is too far in the future: events may be at most "
                         f"{limits.max_future_days} days ahead (on or before {latest.isoformat()})",
                         "too_new", n=limits.max_future_days)


def check_days_allowed(days_allowed: int) -> None:
    if isinstance(days_allowed, bool) or not 1 <= days_allowed <= MAX_DAYS_ALLOWED:
        raise EventError(f"{days_allowed!r} days allowed: must be a whole number from 1 to "
                         f"{MAX_DAYS_ALLOWED}", "days", max=MAX_DAYS_ALLOWED)


def _check_note(note: str) -> str:
    note = normalize(note, what="note").strip()
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


# --- the bot's /event drafts -------------------------------------------------------------
# The choices travel in the buttons; the draft row lets a typed date or number of days find its
# question (after a restart, or on another instance) and makes the confirm button single-use.


def event_task_by_id(session: Session, plan: Plan, task_id: int) -> Task:
    """The plan's live event-driven task with that id (a button's), or a refusal."""
    task = session.get(Task, task_id)
    if task is None or task.plan_id != plan.id or task.retired_at is not None:
        raise EventError(f"task #{task_id}: no such task in plan {plan.number}", "no_task", code=str(task_id))
    return event_task(session, plan, task.code)


def open_draft(session: Session, telegram_user_id: int, *, now: datetime,
               timeout: timedelta) -> EventDraft | None:
    """The user's draft, unless it has not been touched for ``timeout`` (then it is gone)."""
    draft = session.exec(select(EventDraft).where(EventDraft.telegram_user_id == telegram_user_id)).first()
    if draft is None or draft.updated_at < now - timeout:
        return None
    return draft


def save_draft(session: Session, telegram_user_id: int, *, plan: Plan, task_id: int,
               occurred_on: date | None, days: int | None, today: date, limits: EventLimits,
               now: datetime) -> tuple[Task, EventDraft]:
    """Validate what the user chose so far and keep it; refusals change nothing."""
    task = event_task_by_id(session, plan, task_id)
    if occurred_on is not None:
        check_event_date(occurred_on, today=today, limits=limits)
    if days is not None:
        if occurred_on is None:
            raise EventError("the days allowed come after the date")
        check_days_allowed(days)
    draft = session.exec(select(EventDraft).where(EventDraft.telegram_user_id == telegram_user_id)).first()
    if draft is None:
        draft = EventDraft(telegram_user_id=telegram_user_id, task_id=task_id)
    draft.task_id, draft.occurred_on, draft.days, draft.updated_at = task_id, occurred_on, days, now
    session.add(draft)
    session.flush()
    return task, draft


def clear_draft(session: Session, telegram_user_id: int) -> bool:
    """Forget the user's draft; True if there was one."""
    result = session.execute(delete(EventDraft).where(col(EventDraft.telegram_user_id) == telegram_user_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def record_draft(session: Session, telegram_user_id: int, *, plan: Plan, task_id: int, occurred_on: date,
                 days_allowed: int, today: date, limits: EventLimits, now: datetime, timeout: timedelta,
                 actor: str) -> Event:
    """The confirm button: record the event the user confirmed, once. The user's draft must still
    say the same (else ``stale``); it is deleted in the same transaction, so a second press, a
    forged button or a press on another instance records nothing."""
    task = event_task_by_id(session, plan, task_id)
    taken = session.execute(delete(EventDraft).where(
        col(EventDraft.telegram_user_id) == telegram_user_id, col(EventDraft.task_id) == task_id,
        col(EventDraft.occurred_on) == occurred_on, col(EventDraft.days) == days_allowed,
        col(EventDraft.updated_at) >= now - timeout))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise EventError("this event is no longer waiting for confirmation", "stale")
    return record_event(session, plan=plan, task_code=task.code, occurred_on=occurred_on,
                        days_allowed=days_allowed, today=today, limits=limits, actor=actor)


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
    target = normalize(target, what="target").strip()
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


# --- services for the bot's /event (each its own transaction; a handler runs one) -----------
# Coordinators and admins only (the access policy's Action.RECORD_EVENT), checked at every step.

_DATE_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_DATE_VN = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")


def parse_day(text: str) -> date | None:
    """2026-11-20 or 20/11/2026 (the Vietnamese order)."""
    iso, vn = _DATE_ISO.match(text), _DATE_VN.match(text)
    try:
        if iso:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        if vn:
            return date(int(vn.group(3)), int(vn.group(2)), int(vn.group(1)))
    except ValueError:
        return None
    return None


@dataclass(frozen=True)
class Clock:
    """The plain values every step needs: today, now, how long a draft waits, the date limits."""

    today: date
    now: datetime
    timeout: timedelta
    limits: EventLimits


@dataclass(frozen=True)
class Choice:
    """The choices so far, for the next question: the date, then the days, then the confirm
    (``owing``: how many agencies would owe a report)."""

    task_id: int
    code: str
    task: str
    occurred_on: date | None = None
    days: int | None = None
    owing: int = 0
    plan: str = ""  # the task's plan's number, when several plans are in force


@dataclass(frozen=True)
class Recorded:
    code: str
    due_on: date
    owing: int
    plan: str = ""


@dataclass(frozen=True)
class EventTasks:
    """/event's first question: the plan's event-driven tasks (id, code, text); ``plan``: its
    number when several plans are in force."""

    tasks: list[tuple[int, str, str]]
    plan: str = ""


@dataclass(frozen=True)
class Typed:
    """What typed text did to the waiting draft: ``choice`` (the next question), ``not_date``,
    ``not_days``, ``retry`` (``error`` says why; the same question again) or ``refused`` (the
    draft is gone; ``error`` says why)."""

    outcome: str
    choice: Choice | None = None
    error: EventError | None = None


def _plan_of(session: Session, task_id: int) -> Plan:
    """The plan of the task a button or a draft names: it must be in force (a closed plan's
    tasks take no event); then :func:`event_task_by_id` checks the task itself."""
    task = session.get(Task, task_id)
    plan = session.get(Plan, task.plan_id) if task is not None else None
    if plan is None or plan.archived_at is not None:
        raise EventError(f"task #{task_id}: no such task in a plan in force", "no_task", code=str(task_id))
    return plan


def _choice(session: Session, task: Task, occurred_on: date | None, days: int | None) -> Choice:
    tid = task.id or 0
    owing = len(owing_agencies(session, [tid]).get(tid, [])) if days is not None else 0
    plan = session.get(Plan, task.plan_id)
    return Choice(tid, task.code, task.task, occurred_on, days, owing,
                  plan_named(session, plan) if plan is not None else "")


def start(engine: Engine, actor: Actor, plan_id: int = 0) -> EventTasks:
    """/event: the event-driven tasks to choose from, of the plan ``plan_id`` (a button's or the
    number typed after the command; it must be in force), else of the only plan in force;
    several in force and none named: :class:`~models.registry.ChoosePlan`. A fresh start
    forgets the draft."""
    require(actor, Action.RECORD_EVENT)
    with session_scope(engine) as session:
        clear_draft(session, actor.telegram_user_id)
        try:
            plan = chosen_plan(session, plan_id, in_force=True)
        except NoPlan:
            if plan_id:
                raise
            return EventTasks([])
        return EventTasks([(t.id or 0, t.code, t.task) for t in event_tasks(session, plan)],
                          plan_named(session, plan))


def choose(engine: Engine, actor: Actor, clock: Clock, *, task_id: int, occurred_on: date | None = None,
           days: int | None = None) -> Choice:
    """A task, date or days button: validated, kept in the draft; EventError changes nothing."""
    require(actor, Action.RECORD_EVENT)
    with session_scope(engine) as session:
        task, _draft = save_draft(session, actor.telegram_user_id, plan=_plan_of(session, task_id),
                                  task_id=task_id, occurred_on=occurred_on, days=days, today=clock.today,
                                  limits=clock.limits, now=clock.now)
        return _choice(session, task, occurred_on, days)


def confirm(engine: Engine, actor: Actor, clock: Clock, *, task_id: int, occurred_on: date, days: int,
            sync: Callable[[Session, Plan], object]) -> Recorded:
    """The confirm button: record the event once, then ``sync`` (the scheduler's item sync) opens
    the owing agencies' items in the same transaction."""
    require(actor, Action.RECORD_EVENT)
    with session_scope(engine) as session:
        plan = _plan_of(session, task_id)
        event = record_draft(session, actor.telegram_user_id, plan=plan, task_id=task_id,
                             occurred_on=occurred_on, days_allowed=days, today=clock.today,
                             limits=clock.limits, now=clock.now, timeout=clock.timeout,
                             actor=f"tg:{actor.telegram_user_id}")
        sync(session, plan)
        owing = session.exec(select(func.count()).select_from(Item).where(Item.event_id == event.id)).one()
        task = session.get(Task, task_id)
        return Recorded(task.code if task else "?", event.due_on, int(owing), plan_named(session, plan))


def cancel(engine: Engine, actor: Actor) -> None:
    """The cancel button."""
    require(actor, Action.RECORD_EVENT)
    with session_scope(engine) as session:
        clear_draft(session, actor.telegram_user_id)


def _waiting(session: Session, actor: Actor, clock: Clock) -> EventDraft | None:
    """The user's draft if it waits for typed text, and no report draft was touched since."""
    draft = open_draft(session, actor.telegram_user_id, now=clock.now, timeout=clock.timeout)
    if draft is None or draft.days is not None:
        return None
    if actor.member_id is not None:
        report = session.exec(select(ReportDraft).where(ReportDraft.member_id == actor.member_id)).first()
        if report is not None and report.updated_at > draft.updated_at:
            return None  # the user went on to a report (or a review) since: its text, not ours
    return draft


def take_typed(engine: Engine, actor: Actor, clock: Clock, text: str) -> Typed | None:
    """Typed text for the draft's open question (the date, then the days). None: no draft of
    this person waits for text (other flows take it); for people who may not record events the
    database is not asked."""
    if not allows(actor, Action.RECORD_EVENT):
        return None
    with session_scope(engine) as session:
        draft = _waiting(session, actor, clock)
        if draft is None:
            return None
        day, days = draft.occurred_on, None
        if day is None:
            day = parse_day(text)
            if day is None:
                return Typed("not_date")
        else:
            typed = text.strip()
            if not (typed.isascii() and typed.isdigit()):
                return Typed("not_days")
            days = int(typed) if len(typed) <= 6 else MAX_DAYS_ALLOWED + 1
        try:  # save_draft validates before it changes anything
            task, _draft = save_draft(session, actor.telegram_user_id,
                                      plan=_plan_of(session, draft.task_id), task_id=draft.task_id,
                                      occurred_on=day, days=days, today=clock.today, limits=clock.limits,
                                      now=clock.now)
        except EventError as error:
            if error.reason in ("too_old", "too_new", "days"):
                return Typed("retry", error=error)
            clear_draft(session, actor.telegram_user_id)
            return Typed("refused", error=error)
        return Typed("choice", _choice(session, task, day, days))


def cancel_typed(engine: Engine, actor: Actor, clock: Clock) -> bool:
    """/cancel: True if a draft of this person was waiting (it is forgotten)."""
    if not allows(actor, Action.RECORD_EVENT):
        return False
    with session_scope(engine) as session:
        draft = open_draft(session, actor.telegram_user_id, now=clock.now, timeout=clock.timeout)
        clear_draft(session, actor.telegram_user_id)
        return draft is not None

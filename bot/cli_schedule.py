"""The scheduling commands of the ``dondoc`` command line: events, milestones, the working
calendar and the reminder preview. ``bot.cli`` adds them with :func:`add_parsers`; a refusal
raises ``ValueError`` (one readable line, exit status 1) and changes nothing."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from sqlmodel import Session, select

from bot.settings import Settings, schedule_rules
from models import calendar_days, events
from models.agencies import find_agency
from models.calendar_days import working_calendar
from models.db import existing_session
from models.registry import require_plan
from models.tables import Item, Plan
from models.types import utcnow
from scheduler.deadlines import sync_events
from scheduler.preview import PreviewEntry, preview, window_days


class CommandError(ValueError):
    """A refused command: printed as one line by ``bot.cli.main``."""


def _echo(text: str = "") -> None:
    sys.stdout.write(text + "\n")


@contextmanager
def _plan_session(settings: Settings) -> Iterator[tuple[Session, Plan]]:
    with existing_session(settings.database_url) as session:
        yield session, require_plan(session)


def _today(settings: Settings) -> date:
    return utcnow().astimezone(settings.tz).date()


# --- events and milestones ----------------------------------------------------------------

def cmd_event(settings: Settings, args: argparse.Namespace) -> None:
    """Record an event (an approval, an election) that opens a deadline for an event-driven task."""
    today = _today(settings)
    limits = events.EventLimits(settings.event_max_past_days, settings.event_max_future_days)
    with _plan_session(settings) as (session, plan):
        event = events.record_event(session, plan=plan, task_code=args.task, occurred_on=args.date,
                                    days_allowed=args.days, today=today, limits=limits,
                                    note=args.note or "", actor="cli")
        sync_events(session, plan)
        owing = len(session.exec(select(Item.id).where(Item.event_id == event.id)).all())
    _echo(f"Event recorded for task {args.task.strip()}: {event.occurred_on.isoformat()} + "
          f"{event.days_allowed} days -> due {event.due_on.isoformat()} ({owing} agencies owe it).")


def cmd_events(settings: Settings, args: argparse.Namespace) -> None:
    """List recorded events."""
    with _plan_session(settings) as (session, plan):
        views = events.list_events(session, plan)
    if args.format == "json":
        _echo(json.dumps([{"id": v.id, "task": v.code, "date": v.occurred_on.isoformat(),
                           "days": v.days_allowed, "due_on": v.due_on.isoformat(), "note": v.note}
                          for v in views], ensure_ascii=False, indent=2))
        return
    for v in views:
        _echo(f"{v.occurred_on.isoformat()}  {v.code:<6} +{v.days_allowed:<3} due {v.due_on.isoformat()}"
              f"  {v.note}".rstrip())
    _echo(f"{len(views)} events.")


def cmd_milestone_add(settings: Settings, args: argparse.Namespace) -> None:
    """Add a dated milestone to a roadmap / master-plan task."""
    with _plan_session(settings) as (session, plan):
        milestone = events.add_milestone(session, plan=plan, task_code=args.task, due_on=args.date,
                                         target=args.target or "", actor="cli")
        sync_events(session, plan)
    target = f" (target: {milestone.target})" if milestone.target else ""
    _echo(f"Milestone added for task {args.task.strip()}: due {milestone.due_on.isoformat()}{target}.")


def cmd_milestone_list(settings: Settings, args: argparse.Namespace) -> None:
    """List milestones."""
    with _plan_session(settings) as (session, plan):
        views = events.list_milestones(session, plan)
    if args.format == "json":
        _echo(json.dumps([{"id": v.id, "task": v.code, "due_on": v.due_on.isoformat(),
                           "target": v.target, "source": v.source} for v in views],
                         ensure_ascii=False, indent=2))
        return
    for v in views:
        _echo(f"{v.due_on.isoformat()}  {v.code:<6} {v.target or '-'}  [{v.source}]")
    _echo(f"{len(views)} milestones.")


# --- working calendar ---------------------------------------------------------------------

def _set_day(settings: Settings, day: date, kind: str, note: str) -> None:
    with existing_session(settings.database_url) as session:
        change = calendar_days.set_day(session, day=day, kind=kind, note=note, actor="cli")
        working_calendar(session)  # refuses a contradiction before the commit
    what = "a day off" if kind == calendar_days.DAY_OFF else "a working day"
    replaced = f" (it was {change.replaced.replace('_', ' ')})" if change.replaced else ""
    _echo(f"{day.isoformat()} ({day:%A}) is now {what}{replaced}.")


def cmd_calendar_off(settings: Settings, args: argparse.Namespace) -> None:
    """Add a day off (a holiday the national calendar does not know, a bridge day)."""
    _set_day(settings, args.date, calendar_days.DAY_OFF, args.note or "")


def cmd_calendar_work(settings: Settings, args: argparse.Namespace) -> None:
    """Add a make-up working day (often a Saturday worked in exchange for a bridge day)."""
    _set_day(settings, args.date, calendar_days.WORKING_DAY, args.note or "")


def cmd_calendar_remove(settings: Settings, args: argparse.Namespace) -> None:
    """Forget the change made for a date."""
    with existing_session(settings.database_url) as session:
        change = calendar_days.remove_day(session, day=args.date, actor="cli")
    _echo(f"{change.day.isoformat()}: the added {change.kind.replace('_', ' ')} is removed.")


def cmd_calendar_list(settings: Settings, args: argparse.Namespace) -> None:
    """List the admins' days off and make-up working days."""
    with existing_session(settings.database_url) as session:
        days = calendar_days.list_days(session)
    if args.format == "json":
        _echo(json.dumps([{"date": d.day.isoformat(), "kind": d.kind, "note": d.note} for d in days],
                         ensure_ascii=False, indent=2))
        return
    for d in days:
        _echo(f"{d.day.isoformat()} {d.day:%a}  {d.kind:<11}  {d.note}".rstrip())
    _echo(f"{len(days)} days.")


# --- preview ------------------------------------------------------------------------------

def cmd_schedule(settings: Settings, args: argparse.Namespace) -> None:
    """List the reminders the policy plans between two dates (local time)."""
    window_days(args.start, args.end)
    rules = schedule_rules(settings)
    with _plan_session(settings) as (session, plan):
        agency_id = None
        if args.agency:
            agency = find_agency(session, args.agency)
            if agency is None:
                raise CommandError(f"{args.agency!r}: no such agency (see `dondoc agencies list`)")
            agency_id = agency.id
        entries = preview(session, plan, args.start, args.end, rules=rules,
                          calendar=working_calendar(session), agency_id=agency_id)
    if args.format == "json":
        _echo(json.dumps([e.to_json() for e in entries], ensure_ascii=False, indent=2))
        return
    _echo(_schedule_table(entries))


def _offset(entry: PreviewEntry) -> str:
    if entry.kind == "before":
        return f"-{entry.offset_days}d"
    if entry.kind == "overdue":
        return f"+{entry.offset_days}wd"
    return "0"


def _schedule_table(entries: list[PreviewEntry]) -> str:
    lines = []
    for e in entries:
        extra = "" if e.audience == ("focal_point",) else f"  [+{', '.join(e.audience[1:])}]"
        lines.append(f"{e.at:%Y-%m-%d %a %H:%M}  {e.kind:<7} {_offset(e):>5}  {e.agency_code:<12} "
                     f"{', '.join(e.tasks)}{extra}")
    lines.append(f"{len(entries)} reminders.")
    return "\n".join(lines)


# --- parsers ------------------------------------------------------------------------------

def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-12-31") from None


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add event, events, milestone, calendar and schedule to the ``dondoc`` parser."""
    p = sub.add_parser("event", help="record an event (approval, election) that opens a deadline")
    p.add_argument("task", help="the code of an event-driven task, e.g. 2.3a")
    p.add_argument("--date", type=_date, required=True, help="the day it happened (YYYY-MM-DD)")
    p.add_argument("--days", type=int, required=True, help="days allowed after it (1-366)")
    p.add_argument("--note", help="what happened (e.g. the decision's number)")
    p.set_defaults(handler=cmd_event)

    p = sub.add_parser("events", help="list recorded events")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=cmd_events)

    milestone = sub.add_parser("milestone", help="dated milestones of roadmap / master-plan tasks")
    milestone_sub = milestone.add_subparsers(dest="milestone_command", metavar="ACTION", required=True)
    p = milestone_sub.add_parser("add", help="add a milestone")
    p.add_argument("task", help="the code of a roadmap or master-plan task, e.g. 5.2d")
    p.add_argument("--date", type=_date, required=True, help="its due day (YYYY-MM-DD)")
    p.add_argument("--target", help="the target to reach, e.g. 'over 90%% of communes'")
    p.set_defaults(handler=cmd_milestone_add)
    p = milestone_sub.add_parser("list", help="list milestones")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=cmd_milestone_list)

    calendar = sub.add_parser("calendar", help="days off and make-up working days")
    calendar_sub = calendar.add_subparsers(dest="calendar_command", metavar="ACTION", required=True)
    for name, handler, text in (("off", cmd_calendar_off, "add a day off"),
                                ("work", cmd_calendar_work, "add a make-up working day")):
        p = calendar_sub.add_parser(name, help=text)
        p.add_argument("date", type=_date, help="YYYY-MM-DD")
        p.add_argument("--note", help="why (e.g. the decision that moved it)")
        p.set_defaults(handler=handler)
    p = calendar_sub.add_parser("remove", help="forget the change made for a date")
    p.add_argument("date", type=_date, help="YYYY-MM-DD")
    p.set_defaults(handler=cmd_calendar_remove)
    p = calendar_sub.add_parser("list", help="list the added days")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=cmd_calendar_list)

    p = sub.add_parser("schedule", help="preview the reminders planned between two dates")
    p.add_argument("--from", dest="start", type=_date, required=True, help="first day (YYYY-MM-DD)")
    p.add_argument("--to", dest="end", type=_date, required=True, help="last day (YYYY-MM-DD)")
    p.add_argument("--agency", help="only this agency (code or name)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=cmd_schedule)

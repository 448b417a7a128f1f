"""The scheduling commands of the ``dondoc`` command line: events, milestones, the working
calendar and the reminder preview. ``bot.cli`` adds them with :func:`add_parsers`; a refusal
raises ``ValueError`` (one readable line, exit status 1) and changes nothing."""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TextIO

from sqlmodel import Session, select

from bot.cli import add_plan_option
from bot.settings import Settings, schedule_rules
from models import calendar_days
from models.agencies import find_agency
from models.calendar_days import working_calendar
from models.db import existing_session
from models.registry import require_plan
from models.tables import Item, Plan
from models.types import utcnow
from scheduler.preview import JSON_SEPARATORS, PreviewAgency, Row, SlotGroup, preview_stream, window_days


class CommandError(ValueError):
    """A refused command: printed as one line by ``bot.cli.main``."""


def _echo(text: str = "") -> None:
    sys.stdout.write(text + "\n")


@contextmanager
def _plan_session(settings: Settings, args: argparse.Namespace) -> Iterator[tuple[Session, Plan]]:
    with existing_session(settings.database_url) as session:
        yield session, require_plan(session, getattr(args, "plan", None))


def _today(settings: Settings) -> date:
    return utcnow().astimezone(settings.tz).date()


# --- events and milestones ----------------------------------------------------------------
# models.events and scheduler.deadlines are imported by these commands only: `dondoc schedule`
# (a year for a country in under two seconds) does not pay for them.

def cmd_event(settings: Settings, args: argparse.Namespace) -> None:
    """Record an event (an approval, an election) that opens a deadline for an event-driven task."""
    from models import events
    from scheduler.deadlines import sync_events
    today = _today(settings)
    limits = events.EventLimits(settings.event_max_past_days, settings.event_max_future_days)
    with _plan_session(settings, args) as (session, plan):
        event = events.record_event(session, plan=plan, task_code=args.task, occurred_on=args.date,
                                    days_allowed=args.days, today=today, limits=limits,
                                    note=args.note or "", actor="cli")
        sync_events(session, plan)
        owing = len(session.exec(select(Item.id).where(Item.event_id == event.id)).all())
    _echo(f"Event recorded for task {args.task.strip()}: {event.occurred_on.isoformat()} + "
          f"{event.days_allowed} days -> due {event.due_on.isoformat()} ({owing} agencies owe it).")


def cmd_events(settings: Settings, args: argparse.Namespace) -> None:
    """List recorded events."""
    from models import events
    with _plan_session(settings, args) as (session, plan):
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
    from models import events
    from scheduler.deadlines import sync_events
    with _plan_session(settings, args) as (session, plan):
        milestone = events.add_milestone(session, plan=plan, task_code=args.task, due_on=args.date,
                                         target=args.target or "", actor="cli")
        sync_events(session, plan)
    target = f" (target: {milestone.target})" if milestone.target else ""
    _echo(f"Milestone added for task {args.task.strip()}: due {milestone.due_on.isoformat()}{target}.")


def cmd_milestone_list(settings: Settings, args: argparse.Namespace) -> None:
    """List milestones."""
    from models import events
    with _plan_session(settings, args) as (session, plan):
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
    """List the reminders the policy plans between two dates (local time), written as they are
    worked out: text, a JSON array (one entry a line) or JSON Lines."""
    window_days(args.start, args.end)
    rules = schedule_rules(settings)
    with _plan_session(settings, args) as (session, plan):
        agency_id = None
        if args.agency:
            agency = find_agency(session, args.agency)
            if agency is None:
                raise CommandError(f"{args.agency!r}: no such agency (see `dondoc agencies list`)")
            agency_id = agency.id
        entries = preview_stream(session, plan, args.start, args.end, rules=rules,
                                 calendar=working_calendar(session), agency_id=agency_id)
        write = _JsonLines(args.format) if args.format in ("json", "jsonl") else _Table()
        # Hundreds of thousands of short-lived rows and no reference cycles: the collector's
        # full passes over the growing heap would cost more than the preview itself.
        gc.disable()
        try:
            write.all(entries, sys.stdout)
        finally:
            gc.enable()


class _Lines:
    """Renders one send time's entries at a time; a group shared by many agencies is rendered
    once."""

    def __init__(self) -> None:
        self.count = 0

    def lines(self, batch: list[Row]) -> list[str]:
        raise NotImplementedError

    def all(self, batches: Iterable[list[Row]], out: TextIO) -> None:
        for batch in batches:
            if batch:
                lines = self.lines(batch)
                self.write(lines, out)
                self.count += len(lines)
        self.end(out)

    def write(self, lines: list[str], out: TextIO) -> None:
        out.write("\n".join(lines) + "\n")

    def end(self, out: TextIO) -> None:
        pass


class _JsonLines(_Lines):
    """JSON written as UTF-8 bytes: each agency's part (``{"agency": …, "focal_points": N,``)
    and each group's (``"at": …, "items": […]}``) are encoded once, and a send time's lines
    are joined in one go (a year for a country is some 120 MB)."""

    def __init__(self, fmt: str) -> None:
        super().__init__()
        self.array = fmt == "json"

    def all(self, batches: Iterable[list[Row]], out: TextIO) -> None:
        out.flush()
        raw = out.buffer if hasattr(out, "buffer") else None
        first, between = (b"[\n", b",\n") if self.array else (b"", b"\n")
        agencies: dict[int, bytes] = {}
        groups: dict[int, bytes] = {}

        def agency(a: PreviewAgency) -> bytes:
            found = agencies[a.id] = between + _json(a.to_json())[:-1].encode() + b","
            return found

        for batch in batches:
            if not batch:
                continue
            groups.clear()  # a group belongs to one send time
            for g in {id(g): g for _, _, g in batch}.values():
                groups[id(g)] = _json(g.to_json())[1:].encode()
            chunks = [part for _, a, g in batch
                      for part in (agencies.get(a.id) or agency(a), groups[id(g)])]
            if not self.count:
                chunks[0] = first + chunks[0][len(between):]
            self.count += len(batch)
            data = b"".join(chunks)
            if raw is not None:
                raw.write(data)
            else:
                out.write(data.decode())
        end = (b"\n]\n" if self.count else b"[]\n") if self.array else b"\n" if self.count else b""
        if raw is not None:
            raw.write(end)
            raw.flush()
        else:
            out.write(end.decode())


# One encoder for every entry: json.dumps builds a new one per call when given separators.
_json = json.JSONEncoder(ensure_ascii=False, separators=JSON_SEPARATORS).encode


class _Table(_Lines):
    def lines(self, batch: list[Row]) -> list[str]:
        parts: dict[int, tuple[str, str]] = {}
        for g in {id(g): g for _, _, g in batch}.values():
            extra = "" if g.audience == ("focal_point",) else f"  [+{', '.join(g.audience[1:])}]"
            parts[id(g)] = (f"{g.at:%Y-%m-%d %a %H:%M}  {g.kind:<7} {_offset(g):>5}  ",
                            f" {', '.join(g.tasks)}{extra}")
        return [f"{p[0]}{a.code:<12}{p[1]}" for _, a, g in batch for p in (parts[id(g)],)]

    def end(self, out: TextIO) -> None:
        out.write(f"{self.count} reminders.\n")


def _offset(group: SlotGroup) -> str:
    if group.kind == "before":
        return f"-{group.offset_days}d"
    if group.kind == "overdue":
        return f"+{group.offset_days}wd"
    return "0"


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
    add_plan_option(p)
    p.set_defaults(handler=cmd_event)

    p = sub.add_parser("events", help="list recorded events")
    p.add_argument("--format", choices=("text", "json"), default="text")
    add_plan_option(p)
    p.set_defaults(handler=cmd_events)

    milestone = sub.add_parser("milestone", help="dated milestones of roadmap / master-plan tasks")
    milestone_sub = milestone.add_subparsers(dest="milestone_command", metavar="ACTION", required=True)
    p = milestone_sub.add_parser("add", help="add a milestone")
    p.add_argument("task", help="the code of a roadmap or master-plan task, e.g. 5.2d")
    p.add_argument("--date", type=_date, required=True, help="its due day (YYYY-MM-DD)")
    p.add_argument("--target", help="the target to reach, e.g. 'over 90%% of communes'")
    add_plan_option(p)
    p.set_defaults(handler=cmd_milestone_add)
    p = milestone_sub.add_parser("list", help="list milestones")
    p.add_argument("--format", choices=("text", "json"), default="text")
    add_plan_option(p)
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
    p.add_argument("--format", choices=("text", "json", "jsonl"), default="text",
                   help="json: an array, one entry a line; jsonl: one entry a line, no array")
    add_plan_option(p)
    p.set_defaults(handler=cmd_schedule)

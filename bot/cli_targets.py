"""``dondoc target``: the plan's numeric targets — add, list, remove, seed the plan's own, and
record a province-wide value. ``bot.cli`` adds it with :func:`add_parsers`; a refusal raises
``ValueError`` (one readable line, exit status 1) and changes nothing. Each action takes
``--plan NUMBER`` (without it: the only plan in force; with several, a refusal naming them)."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli import add_plan_option
from bot.settings import Settings
from domain.targets import (
    MAX_NOTE,
    PERCENT,
    Direction,
    TargetInputError,
    TargetSpec,
    is_indicator_code,
    is_task_code,
    parse_target_line,
)
from models import targets
from models.db import existing_session
from models.registry import require_plan
from models.types import utcnow

# What each refusal of domain.targets means, for the command line.
_INPUT = {
    "format": "expected a line like '5.2c 2026 60%'",
    "subject": "a task code like 5.2c, or an indicator code that starts with a letter (CT1)",
    "year": "the year must be between 2000 and 2100",
    "number": "the value must be a number, e.g. 60 or 60.5",
    "percent_range": "a value in % must be between 0 and 100",
    "negative": "the value cannot be negative",
    "too_large": "the value is too large",
    "unit": "the unit must be % or a short word (at most 16 letters), e.g. 'xã'",
}


def _echo(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _refused(exc: TargetInputError) -> ValueError:
    return ValueError(_INPUT.get(exc.code, exc.code))


def _spec(args: argparse.Namespace) -> TargetSpec:
    subject = (args.task or args.indicator or "").strip()
    if bool(args.task) == bool(args.indicator):
        raise ValueError("give either --task CODE or --indicator CODE")
    unit = PERCENT if args.unit.strip() in ("%", "") else args.unit.strip()
    line = f"{subject} {args.year} {'≤' if args.at_most else ''}{args.value} {unit}"
    try:
        spec = parse_target_line(line)
    except TargetInputError as exc:
        raise _refused(exc) from None
    if args.task and not is_task_code(spec.subject):
        raise ValueError(f"{subject!r} is not a task code (like 5.2c)")
    if args.indicator and not is_indicator_code(spec.subject):
        raise ValueError(f"{subject!r}: an indicator code starts with a letter (e.g. CT1)")
    return spec


def _subject(text: str) -> str:
    """A code as stored: task codes in lower case (5.2c), indicator codes in upper case (CT1)."""
    text = text.strip()
    return text.upper() if is_indicator_code(text) else text.lower()


def _text(row: targets.TargetRow) -> str:
    sign = "≤" if row.direction == Direction.AT_MOST else "≥"
    unit = row.unit if row.unit == PERCENT else f" {row.unit}" if row.unit else ""
    return f"{row.subject} {row.year}: {sign} {row.value:g}{unit}"


def cmd_target_add(settings: Settings, args: argparse.Namespace) -> None:
    """Add a target for a task (or a plan indicator) and a year."""
    spec = _spec(args)
    note = (args.note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValueError(f"the note is {len(note)} characters long; at most {MAX_NOTE} are kept")
    with existing_session(settings.database_url) as session:
        try:
            target = targets.add_target(session, plan=require_plan(session, args.plan), spec=spec, note=note,
                                        name=(args.name or "").strip())
        except targets.TargetError as exc:
            raise ValueError(exc.detail) from None
        row = targets.TargetRow.of(target, None)
    _echo(f"Target {row.id} added: {_text(row)}.")


def cmd_target_list(settings: Settings, args: argparse.Namespace) -> None:
    """List the plan's targets (of one year with --year)."""
    with existing_session(settings.database_url) as session:
        rows = targets.list_targets(session, require_plan(session, args.plan), year=args.year)
    if args.format == "json":
        _echo(json.dumps([{"id": r.id, "subject": r.subject, "year": r.year, "value": r.value,
                           "unit": r.unit, "direction": r.direction, "source": r.source, "note": r.note,
                           "text": r.text} for r in rows], ensure_ascii=False, indent=2))
        return
    for r in rows:
        _echo(f"{r.id:>4}  {_text(r):<28} {r.source:<5} {r.text[:60]}".rstrip())
    _echo(f"{len(rows)} targets.")


def cmd_target_remove(settings: Settings, args: argparse.Namespace) -> None:
    """Remove a target (and the values reported against it)."""
    with existing_session(settings.database_url) as session:
        try:
            row = targets.remove_target(session, plan=require_plan(session, args.plan), target_id=args.id)
        except targets.TargetError as exc:
            raise ValueError(exc.detail) from None
    _echo(f"Target {row.id} removed: {_text(row)}.")


def cmd_target_seed(settings: Settings, args: argparse.Namespace) -> None:
    """Add the targets the plan's own text sets (once; running it again adds nothing)."""
    with existing_session(settings.database_url) as session:
        added, kept = targets.seed_plan_targets(session, require_plan(session, args.plan))
    _echo(f"{added} plan targets added, {kept} already there.")


def cmd_target_record(settings: Settings, args: argparse.Namespace) -> None:
    """Record a province-wide value against a target (an indicator's, typically)."""
    try:
        value = round(float(args.value.replace(",", ".")), 2)
    except ValueError:
        raise ValueError(f"{args.value!r}: the value must be a number, e.g. 72") from None
    with existing_session(settings.database_url) as session:
        try:
            targets.record_value(session, plan=require_plan(session, args.plan),
                                 subject=_subject(args.subject), year=args.year, value=value,
                                 period_key=args.period or str(args.year),
                                 evidence=(args.evidence or "").strip(), now=utcnow())
        except targets.TargetError as exc:
            raise ValueError(exc.detail) from None
    _echo(f"Value {value:g} recorded for {args.subject.strip()} ({args.period or args.year}).")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    target = sub.add_parser("target", help="numeric targets of tasks and plan indicators, per year")
    target_sub = target.add_subparsers(dest="target_command", metavar="ACTION", required=True)
    p = target_sub.add_parser("add", help="add a target")
    p.add_argument("--task", help="the task's code, e.g. 5.2c")
    p.add_argument("--indicator", help="or a plan indicator's code, e.g. CT1")
    p.add_argument("--name", help="what the indicator measures")
    p.add_argument("--year", type=int, required=True, help="the year, e.g. 2026")
    p.add_argument("--value", required=True, help="the value to reach, e.g. 60")
    p.add_argument("--unit", default="%", help="%% (the default) or a word, e.g. 'xã'")
    p.add_argument("--at-most", action="store_true", help="the value must not be exceeded")
    p.add_argument("--note", help="where the target comes from")
    add_plan_option(p)
    p.set_defaults(handler=cmd_target_add)
    p = target_sub.add_parser("list", help="list targets")
    p.add_argument("--year", type=int, help="only this year")
    p.add_argument("--format", choices=("text", "json"), default="text")
    add_plan_option(p)
    p.set_defaults(handler=cmd_target_list)
    p = target_sub.add_parser("remove", help="remove a target and its values")
    p.add_argument("id", type=int, help="the target's id (see `dondoc target list`)")
    add_plan_option(p)
    p.set_defaults(handler=cmd_target_remove)
    p = target_sub.add_parser("seed", help="add the targets the plan's text sets (idempotent)")
    add_plan_option(p)
    p.set_defaults(handler=cmd_target_seed)
    p = target_sub.add_parser("record", help="record a province-wide value against a target")
    p.add_argument("subject", help="the task or indicator code, e.g. CT1")
    p.add_argument("--year", type=int, required=True, help="the target's year")
    p.add_argument("--value", required=True, help="the value reached, e.g. 72")
    p.add_argument("--period", help="the period it was measured for (default: the year)")
    p.add_argument("--evidence", help="the document it comes from, e.g. 123/BC-SNV")
    add_plan_option(p)
    p.set_defaults(handler=cmd_target_record)

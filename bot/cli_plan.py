"""``dondoc import-plan FILE``: say what a plan document (text, .xlsx, .docx or .pdf: the reader is
chosen by ``domain.plan_readers``) would change, and change it only with
``--apply`` (and ``--retire`` when that retires or moves tasks).

Refusals raise ``ValueError`` subclasses (``PlanFormatError`` among them), which ``bot.cli.main``
prints as one line with exit status 1. A refused or stopped import has written nothing: the
file is read within a size limit, parsed in full, and only then compared with the registry and
applied in one transaction, all under one time limit checked last before the commit.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot.settings import Settings
from domain.plan_parser import MAX_PLAN_BYTES, ParsedPlan, PlanFormatError
from domain.plan_readers import parse_document
from models import registry
from models.db import existing_session

# Plan 916 is previewed and applied in well under a second; a minute means something is wrong
# (a database lock held elsewhere, a pathological file), and the operator gets the prompt back.
IMPORT_TIME_LIMIT_SECONDS = 60.0
_LISTED = 8  # task codes named in a one-line refusal


class ImportRefused(ValueError):
    """The import was refused or stopped; nothing was changed."""


def cmd_import_plan(settings: Settings, args: argparse.Namespace) -> None:
    """Preview (default) or apply a plan document's appendix table."""
    path = Path(args.file)
    limit = _Limit(IMPORT_TIME_LIMIT_SECONDS, path)
    with limit.interrupting():  # reading and parsing: pure Python, safe to interrupt
        raw = read_plan_file(path)
        parsed = parse_document(raw, source=str(path), name=path.name)
    try:
        with existing_session(settings.database_url) as session:
            registry.limit_statements(session, limit.remaining())
            if args.apply:
                report = _apply(session, parsed, raw, path, args, limit)
            else:
                report = registry.preview_import(session, parsed, number=args.number,
                                                 active_from=args.start, check=limit.check)
            limit.check()  # the last look before the commit
    except OperationalError as exc:
        if type(exc.orig).__name__ in ("QueryCanceled", "LockNotAvailable"):  # PostgreSQL's limits
            raise limit.expired() from None
        raise
    if args.format == "json":
        _echo(_json(report))
    else:
        print_report(report, path, args)


def _apply(session: Session, parsed: ParsedPlan, raw: bytes, path: Path,
           args: argparse.Namespace, limit: _Limit) -> registry.ImportReport:
    try:
        return registry.import_plan(session, parsed, raw=raw, source_name=path.name,
                                    number=args.number, active_from=args.start, actor="cli",
                                    retire=args.retire, check=limit.check)
    except registry.RetireRefused as exc:
        raise ImportRefused(_retire_refusal(exc.report, path)) from None


def _retire_refusal(report: registry.ImportReport, path: Path) -> str:
    parts = []
    if report.retired:
        parts.append(f"retire {_count(len(report.retired), 'task')} ({_codes(report.retired)})")
        parts.append(f"stop {_count(report.reminders_stopping, 'pending reminder')} and the "
                     f"reminders of {_count(report.open_items_stopping, 'open item')}")
    if report.moved:
        parts.append(f"give {_count(len(report.moved), 'task code')} the text of another "
                     f"task ({_codes([m.code for m in report.moved])})")
    return (f"{path}: applying it would {', '.join(parts)}; nothing was changed. "
            "See the preview without --apply; add --retire to confirm")


# --- reading the file ---------------------------------------------------------------------

def read_plan_file(path: Path) -> bytes:
    """The file's bytes, refused by size before it is read (and never more than the limit
    plus one byte, whatever the file claims to be)."""
    try:
        with path.open("rb") as handle:
            _refuse_size(os.fstat(handle.fileno()).st_size, path)
            data = handle.read(MAX_PLAN_BYTES + 1)
    except FileNotFoundError:
        raise ImportRefused(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImportRefused(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise ImportRefused(f"{path}: permission denied") from None
    _refuse_size(len(data), path)
    return data


def _refuse_size(size: int, path: Path) -> None:
    if size > MAX_PLAN_BYTES:
        raise PlanFormatError(f"the file has {size / 2**20:.1f} MB; a plan document may have at "
                              f"most {MAX_PLAN_BYTES / 2**20:.0f} MB", source=str(path))


# --- the time limit -----------------------------------------------------------------------

_clock = time.monotonic  # the tests move it


class _Expired(BaseException):
    """The alarm went off inside reading or parsing (turned into ``_Limit.expired()``)."""


class _Limit:
    """One deadline for the whole import. Reading and parsing are interrupted by SIGALRM; the
    database work is not (a signal inside the driver would leave the connection unusable), so
    it checks the deadline between steps, and PostgreSQL bounds each statement and lock wait."""

    def __init__(self, seconds: float, path: Path) -> None:
        self.seconds, self.path = seconds, path
        self.deadline = _clock() + seconds

    def expired(self) -> ImportRefused:
        return ImportRefused(f"{self.path}: the import took longer than {self.seconds:g} s and was "
                             "stopped; nothing was changed")

    def remaining(self) -> float:
        return max(self.deadline - _clock(), 0.001)

    def check(self) -> None:
        if _clock() > self.deadline:
            raise self.expired()

    @contextmanager
    def interrupting(self) -> Iterator[None]:
        """Raise ``expired()`` when the deadline passes inside the block (main thread only:
        signals are delivered there)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def _expired(_signum: int, _frame: FrameType | None) -> None:
            raise _Expired  # not an Exception: no reader's "except Exception" can take it

        previous = signal.signal(signal.SIGALRM, _expired)
        signal.setitimer(signal.ITIMER_REAL, self.remaining())
        try:
            yield
        except _Expired:
            raise self.expired() from None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


# --- output -------------------------------------------------------------------------------

def _echo(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _json(report: registry.ImportReport) -> str:
    return json.dumps({**report.to_dict(), "needs_retire": report.needs_retire},
                      ensure_ascii=False, indent=2)


def print_report(report: registry.ImportReport, path: Path, args: argparse.Namespace) -> None:
    """What changed (or would): a summary line, one line per change, then what to do next."""
    if not report.changed:
        _echo(f"Plan {report.plan_number}: no changes; the registry already matches {path.name}.")
        _print_warnings(report)
        return
    _echo(_summary(report))
    if not report.created:
        _print_changes(report)
    for name in report.new_agencies:
        _echo(f"  new agency: {name}")
    for name in report.new_classes:
        _echo(f"  new agency class: {name}")
    _print_warnings(report)
    if not report.applied:
        retire = " --retire" if report.needs_retire else ""
        _echo(f"Nothing was changed (preview). To apply: dondoc import-plan {path} --apply{retire}")


def _summary(report: registry.ImportReport) -> str:
    if report.created:
        verb = "imported" if report.applied else "would be imported"
        return f"Plan {report.plan_number} {verb}: {_count(len(report.added), 'task')}."
    verb = "updated" if report.applied else "would be updated"
    return (f"Plan {report.plan_number} {verb}: {len(report.added)} added, "
            f"{len(report.retired)} retired, {_count(len(report.changes), 'field change')}.")


def _print_changes(report: registry.ImportReport) -> None:
    for code in report.added:
        _echo(f"  + {code}")
    for stop in report.stopping:
        _echo(f"  - {stop.code} (retired): {_count(stop.reminders, 'pending reminder')} "
              f"{'stop' if report.applied else 'would stop'}; "
              f"{_count(stop.open_items, 'open item')} without further reminders")
    for change in report.changes:
        _echo(f"  ~ {change.code} {change.field}: {change.old!r} -> {change.new!r}")
    for move in report.moved:
        _echo(f"  ! {move.code} takes the task text of {move.text_of} (rows removed or moved?); "
              f"reports filed under {move.code} stay with it")


def _print_warnings(report: registry.ImportReport) -> None:
    for warning in report.warnings:
        _echo(f"  warning: {warning}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _codes(codes: list[str]) -> str:
    shown = ", ".join(codes[:_LISTED])
    return shown + (f" and {len(codes) - _LISTED} more" if len(codes) > _LISTED else "")


# --- dondoc plan list | close -----------------------------------------------------------------

def cmd_plan_list(settings: Settings, args: argparse.Namespace) -> None:
    """Every plan loaded, the ones in force first: number, state, tasks, title."""
    with existing_session(settings.database_url) as session:
        rows = registry.plan_rows(session)
    if args.format == "json":
        _echo(json.dumps([row.__dict__ for row in rows], ensure_ascii=False, indent=2, default=str))
        return
    for row in rows:
        state = "in force" if not row.closed_at else f"closed {row.closed_at[:10]}"
        _echo(f"{row.number:<20} {state:<18} {row.tasks:>4} tasks  {row.title}")
    _echo(f"{len(rows)} plans.")


def cmd_plan_close(settings: Settings, args: argparse.Namespace) -> None:
    """Close a plan: without --yes only say what it would stop."""
    with existing_session(settings.database_url) as session:
        closed = registry.close_plan(session, args.number, actor="cli", apply=args.yes)
    if closed.already:
        _echo(f"Plan {closed.number} is already closed.")
    elif not args.yes:
        _echo(f"Closing plan {closed.number} ({closed.tasks} tasks) would stop its reminders "
              f"({closed.reminders_stopped} pending); its tasks, reports and history stay. "
              "Nothing was changed; add --yes to close it.")
    else:
        _echo(f"Closed plan {closed.number}: {closed.reminders_stopped} pending reminders stopped; "
              "its history stays.")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = sub.add_parser("plan", help="the plans loaded: list them, close one (its reminders stop)")
    plan_sub = plan.add_subparsers(dest="plan_command", metavar="ACTION", required=True)
    p = plan_sub.add_parser("list", help="list the plans, in force and closed")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=cmd_plan_list)
    p = plan_sub.add_parser("close", help="close a plan: its reminders stop, its history stays")
    p.add_argument("number", help="the plan's number, e.g. 916/KH-UBND")
    p.add_argument("--yes", action="store_true", help="close it (default: only say what it would stop)")
    p.set_defaults(handler=cmd_plan_close)

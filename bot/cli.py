"""The ``dondoc`` command line. Each command is a small function; errors end with one readable
line on stderr and a non-zero exit, never a traceback.

Fast to start: ``dondoc --help`` imports no database, Telegram or spreadsheet library. The
commands of the other ``bot.cli_*`` modules are listed here by name and help (``LAZY``) and
their module is imported only when one of them is run (or its own ``--help`` asked for); the
commands defined here import what they need inside their function."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import date
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from bot.settings import Settings
    from models.registry import TaskView

BUNDLED_PLAN = "plan916.txt"


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status ``status`` (1 unless told: 2 for
    something missing on the machine, as ``report-doc --format pdf`` without LibreOffice)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def _out() -> TextIO:
    return sys.stdout


def _echo(text: str = "") -> None:
    _out().write(text + "\n")


# --- commands -----------------------------------------------------------------------------

def cmd_init(settings: Settings, args: argparse.Namespace) -> None:
    """Create or upgrade the schema; load the bundled agencies; import Plan 916 if no plan."""
    from domain.plan_parser import parse_plan
    from models import agencies as agencies_mod
    from models import divisions, registry
    from models.db import existing_session, upgrade

    upgrade(settings.database_url)
    with existing_session(settings.database_url) as session:
        agencies_mod.load_bundled_agencies(session)
        # Any plan loaded, in force or closed, is the province's: the bundled 916 is imported
        # only into a database that never had one (a closed 916 is not brought back).
        plans = registry.all_plans(session)
        if not plans:
            raw = agencies_mod.bundled(BUNDLED_PLAN)
            parsed = parse_plan(raw, source=BUNDLED_PLAN)
            report = registry.import_plan(session, parsed, raw=raw, source_name=BUNDLED_PLAN,
                                          active_from=args.start, actor="cli")
            _echo(f"Imported plan {report.plan_number}: {len(report.added)} tasks.")
        elif len(plans) == 1:
            closed = " (closed)" if plans[0].archived_at is not None else ""
            _echo(f"Plan {plans[0].number}{closed} is already loaded.")
        else:
            numbers = ", ".join(p.number + (" (closed)" if p.archived_at is not None else "") for p in plans)
            _echo(f"{len(plans)} plans are already loaded: {numbers}.")
        empty = divisions.empty_classes(session)
    _echo(f"Database ready: {_safe_url(settings.database_url)}")
    for line in divisions.warnings_for_empty_classes(empty):
        _echo(f"warning: {line}")


def cmd_import_plan(settings: Settings, args: argparse.Namespace) -> None:
    """Preview what a plan document would change; apply it with --apply (see bot/cli_plan.py)."""
    from bot import cli_plan

    cli_plan.cmd_import_plan(settings, args)


def cmd_agencies_import(settings: Settings, args: argparse.Namespace) -> None:
    """Add or update agencies from a CSV file."""
    from models import agencies as agencies_mod
    from models.db import existing_session

    path = Path(args.file)
    rows = agencies_mod.parse_agency_csv(_read_file(path), source=str(path))
    with existing_session(settings.database_url) as session:
        report = agencies_mod.import_agencies(session, rows, actor="cli", source=path.name)
    _echo(f"Agencies: {len(report.added)} added, {len(report.updated)} updated, "
          f"{report.unchanged} unchanged.")
    for name in report.classes_added:
        _echo(f"  new agency class: {name}")


def cmd_agencies_list(settings: Settings, args: argparse.Namespace) -> None:
    """List agencies with their level and classes."""
    from models import agencies as agencies_mod
    from models.db import existing_session

    with existing_session(settings.database_url) as session:
        listing = agencies_mod.list_agencies(session)
    if args.format == "json":
        _echo(json.dumps([row.__dict__ for row in listing], ensure_ascii=False, indent=2))
        return
    _echo(f"{'CODE':<14} {'LEVEL':<11} NAME  [CLASSES]")
    for row in listing:
        classes = f"  [{'; '.join(row.classes)}]" if row.classes else ""
        _echo(f"{row.code:<14} {row.level:<11} {row.name}{classes}")
    _echo(f"{len(listing)} agencies.")


def cmd_tasks(settings: Settings, args: argparse.Namespace) -> None:
    """Show the registry: a readable table, or JSON."""
    from models import registry
    from models.db import existing_session

    with existing_session(settings.database_url) as session:
        views = registry.list_tasks(session, registry.require_plan(session, args.plan), axis=args.axis)
    if args.format == "json":
        _echo(json.dumps([v.to_json() for v in views], ensure_ascii=False, indent=2))
        return
    _echo(_tasks_table(views))


def _tasks_table(views: Sequence[TaskView]) -> str:
    lines: list[str] = []
    axis = None
    for view in views:
        if view.axis != axis:
            axis = view.axis
            lines.append(f"\n== Axis {view.axis}: {view.axis_name}")
        lines.append(f"{view.code:<6} {_clip(view.task, 70)}")
        lines.append(f"{'':<6}   lead: {'; '.join(view.lead) or '-'}")
        if view.coordinating:
            lines.append(f"{'':<6}   coordinating: {'; '.join(view.coordinating)}")
        lines.append(f"{'':<6}   timeframe: {view.timeframe} ({view.cadence})")
        if view.due_on is not None:  # a one-off task's own date
            lines.append(f"{'':<6}   due: {view.due_on.isoformat()}")
        if view.expected_output:
            lines.append(f"{'':<6}   expected output: {_clip(view.expected_output, 70)}")
        if view.note:
            lines.append(f"{'':<6}   note: {_clip(view.note, 70)}")
    lines.append(f"\n{len(views)} tasks.")
    return "\n".join(lines).lstrip("\n")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def cmd_run(settings: Settings, args: argparse.Namespace) -> None:
    """Start the bot (long polling by default)."""
    from bot import ops
    from models.db import existing_session

    settings.require_token()
    with existing_session(settings.database_url):
        pass  # refuse to start on a missing or outdated schema
    ops.require_bot_api(settings)  # unreachable, or the token refused: one line, exit 1
    from bot.app import run_bot

    run_bot(settings, webhook_url=getattr(args, "webhook", None))


# --- plumbing -----------------------------------------------------------------------------

def _safe_url(url: str) -> str:
    head, sep, tail = url.partition("@")
    if not sep:
        return url
    scheme, _, _ = head.partition("://")
    return f"{scheme}://***@{tail}"


def write_file(path: Path, data: bytes) -> None:
    """Write a command's output file; a path that cannot be written is a one-line refusal."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise ValueError(f"{path}: cannot write ({exc.strerror})") from None


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise CliError(f"{path}: permission denied") from None


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-12-31") from None


Handler = Callable[["Settings", argparse.Namespace], None]


# The commands of the other modules: name -> (module, help). ``--help`` shows them from here;
# tests/test_cli_help.py checks that each module defines exactly these, with this help.
LAZY: dict[str, tuple[str, str]] = {
    "event": ("bot.cli_schedule", "record an event (approval, election) that opens a deadline"),
    "events": ("bot.cli_schedule", "list recorded events"),
    "milestone": ("bot.cli_schedule", "dated milestones of roadmap / master-plan tasks"),
    "calendar": ("bot.cli_schedule", "days off and make-up working days"),
    "schedule": ("bot.cli_schedule", "preview the reminders planned between two dates"),
    "backup": ("bot.ops", "copy the database to a file (SQLite online backup, or pg_dump)"),
    "restore": ("bot.ops", "replace the database with a backup (bot must be stopped)"),
    "doctor": ("bot.ops", "check settings, database, Bot API and pending/failed deliveries"),
    "invite": ("bot.cli_members", "create an invitation link for an agency and a role"),
    "invitations": ("bot.cli_members", "list or revoke invitations"),
    "members": ("bot.cli_members", "list members; move, change role, deactivate"),
    "export": ("bot.cli_export", "export a period's status as XLSX (appendix layout + summary) or CSV"),
    "report-doc": ("bot.cli_report_doc", "write a period's official report (Word, Decree 30/2020 format)"),
    "audit": ("bot.cli_audit", "the audit log, newest first (filters: since, until, member, action)"),
    "target": ("bot.cli_targets", "numeric targets of tasks and plan indicators, per year"),
    "plan": ("bot.cli_plan", "the plans loaded: list them, close one (its reminders stop)"),
}


def add_plan_option(parser: argparse.ArgumentParser) -> None:
    """``--plan NUMBER``: which plan (default: the only one in force; with several, an error
    naming them)."""
    parser.add_argument("--plan", metavar="NUMBER",
                        help="the plan's number, e.g. 916/KH-UBND (default: the only plan in force)")


def _command_of(argv: Sequence[str]) -> str | None:
    """The command word in ``argv`` (the first argument that is not an option)."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(command: str | None = "*") -> argparse.ArgumentParser:
    """The parser; with ``command`` given, only that command's module is imported (the others
    are listed by name and help). The default ``"*"`` imports every module."""
    parser = argparse.ArgumentParser(
        prog="dondoc",
        description="dondoc: a Telegram bot that chases up a plan's tasks. "
                    "Settings come from DONDOC_* environment variables or a .env file.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("init", help="create or upgrade the database; import the bundled plan if none")
    p.add_argument("--start", type=_parse_date, help="date the plan is active from (default: today)")
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("run", help="start the bot (long polling, or a webhook with --webhook URL)")
    p.add_argument("--webhook", metavar="URL",
                   help="public HTTPS URL Telegram posts updates to (ends with DONDOC_WEBHOOK_PATH); "
                        "listens on DONDOC_WEBHOOK_LISTEN:DONDOC_WEBHOOK_PORT")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("import-plan", help="preview, or apply with --apply, a plan document "
                       "(appendix table)")
    p.add_argument("file", help="the plan document: .docx, .xlsx, .pdf or UTF-8 text in the seed's format")
    p.add_argument("--number", help="plan number, if the document does not state it")
    p.add_argument("--start", type=_parse_date, help="date the plan is active from")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--apply", action="store_true", help="make the changes (default: only show them)")
    p.add_argument("--retire", action="store_true",
                   help="with --apply: also retire tasks the document no longer has (or move them)")
    p.set_defaults(handler=cmd_import_plan)

    agencies = sub.add_parser("agencies", help="list, import or load agencies")
    agencies_sub = agencies.add_subparsers(dest="agencies_command", metavar="ACTION", required=True)
    p = agencies_sub.add_parser("import", help="add or update agencies from a CSV file "
                                "(name,code,level,parent,classes,aliases)")
    p.add_argument("file")
    p.set_defaults(handler=cmd_agencies_import)
    p = agencies_sub.add_parser("list", help="list agencies with their level and classes")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=cmd_agencies_list)
    if command in ("*", "agencies"):
        import_module("bot.cli_divisions").add_parser(agencies_sub)  # load-divisions

    p = sub.add_parser("tasks", help="show the task registry")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--axis", type=int, choices=range(1, 7), help="only this axis (1-6)")
    add_plan_option(p)
    p.set_defaults(handler=cmd_tasks)

    wanted = {m for m, _ in LAZY.values()} if command == "*" else (
        {LAZY[command][0]} if command in LAZY else set())
    added: set[str] = set()
    for name, (module, text) in LAZY.items():
        if module in wanted:
            if module not in added:
                import_module(module).add_parsers(sub)
                added.add(module)
        else:
            sub.add_parser(name, help=text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Importing a command's modules builds thousands of classes and leaves no garbage worth a
    # collection pass (some 10% of the import time of `dondoc schedule`).
    collecting = gc.isenabled()
    gc.disable()
    try:
        parser = build_parser(_command_of(argv))
    finally:
        if collecting:
            gc.enable()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from sqlalchemy.exc import SQLAlchemyError

    from bot.settings import SettingsError, load_settings

    handler: Handler = args.handler
    try:
        settings = load_settings()
        handler(settings, args)
    except CliError as exc:
        sys.stderr.write(f"dondoc: error: {exc}\n")
        return exc.status
    except (SettingsError, ValueError) as exc:  # a plan or agency file's errors among them
        sys.stderr.write(f"dondoc: error: {exc}\n")
        return 1
    except SQLAlchemyError as exc:
        sys.stderr.write(f"dondoc: database error: {exc.__class__.__name__}: "
                         f"{str(exc).splitlines()[0]}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

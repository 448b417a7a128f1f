"""Operating commands: ``backup``, ``restore`` and ``doctor``.

SQLite is copied with SQLite's own online backup API (consistent while the bot runs);
PostgreSQL uses its own tools (``pg_dump`` / ``pg_restore``), which must be on PATH."""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.health import ledger_health
from bot.instance_lock import InstanceLock, InstanceLockError
from bot.settings import Settings, schedule_rules
from models.db import alembic_config, current_revision, make_engine, session_scope
from models.divisions import empty_classes, warnings_for_empty_classes
from models.types import utcnow


class OpsError(ValueError):
    """A refused operation: one readable line, exit status 1."""


def _echo(line: str) -> None:
    sys.stdout.write(line + "\n")


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise OpsError("an in-memory SQLite database cannot be backed up")
    return Path(parsed.database)


def _pg_dsn(url: str) -> str:
    """The libpq form of the URL (pg_dump does not know SQLAlchemy's driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _default_output(settings: Settings) -> Path:
    stamp = utcnow().astimezone(settings.tz).strftime("%Y%m%d-%H%M%S")
    suffix = "sqlite3" if settings.is_sqlite else "dump"
    return Path("backups") / f"dondoc-{stamp}.{suffix}"


def backup(settings: Settings, output: Path | None) -> Path:
    target = output or _default_output(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = _sqlite_path(settings.database_url)
    if source is not None:
        if not source.exists():
            raise OpsError(f"{source}: the database file does not exist")
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return target
    _run_tool(["pg_dump", "--format=custom", f"--file={target}", _pg_dsn(settings.database_url)])
    return target


def restore(settings: Settings, source: Path) -> None:
    if not source.is_file():
        raise OpsError(f"{source}: no such backup file")
    target = _sqlite_path(settings.database_url)
    if target is None:
        _run_tool(["pg_restore", "--clean", "--if-exists", "--no-owner",
                   f"--dbname={_pg_dsn(settings.database_url)}", str(source)])
        return
    lock = InstanceLock(settings.database_url)
    try:
        lock.acquire()  # refuse while a bot runs on this file
    except InstanceLockError as exc:
        raise OpsError(f"{exc}; stop it before restoring") from None
    try:
        with sqlite3.connect(source) as src:
            if src.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise OpsError(f"{source}: not a healthy SQLite database")
            with sqlite3.connect(target) as dst:
                src.backup(dst)
    except sqlite3.DatabaseError as exc:
        raise OpsError(f"{source}: not a SQLite database ({exc})") from None
    finally:
        lock.release()


def _run_tool(argv: list[str]) -> None:
    if shutil.which(argv[0]) is None:
        raise OpsError(f"{argv[0]} is not installed (PostgreSQL client tools are needed)")
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise OpsError(f"{argv[0]} failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False  # worth fixing, but not a failure


def doctor_checks(settings: Settings) -> list[Check]:
    checks = [Check("settings", True, f"database {make_url(settings.database_url).get_backend_name()}, "
                                      f"time zone {settings.timezone}, language {settings.default_language}")]
    checks += _database_checks(settings)
    api = _bot_api_check(settings)
    checks.append(api)
    if api.ok:
        checks.append(_updates_check(settings))
    return checks


def _database_checks(settings: Settings) -> list[Check]:
    engine = make_engine(settings.database_url, pooled=False)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        head = ScriptDirectory.from_config(alembic_config(settings.database_url)).get_current_head()
        revision = current_revision(engine)
    except SQLAlchemyError as exc:
        return [Check("database", False, f"unreachable: {str(exc).splitlines()[0]}")]
    if revision != head:
        return [Check("database", True, "reachable"),
                Check("schema", False, f"at {revision or 'nothing'}, newest is {head}: run `dondoc init`")]
    ledger = ledger_health(engine, utcnow(), schedule_rules(settings))
    with session_scope(engine) as session:
        empty = empty_classes(session)
    engine.dispose()
    stats, waited = ledger.backlog, ledger.oldest_due_seconds
    ledger_ok = stats.stuck == 0 and (waited is None or waited <= settings.health_max_due_seconds)
    oldest = "-" if waited is None else f"{waited:.0f} s"
    detail = (f"pending {stats.pending} (due now {stats.due}), sending {stats.sending} "
              f"(stuck {stats.stuck}), failed in 7 days {stats.failed_recent}, "
              f"blocked in 7 days {stats.blocked_recent}, oldest due waited {oldest} "
              f"(limit {settings.health_max_due_seconds:.0f} s)")
    return [Check("database", True, "reachable"), Check("schema", True, f"at {revision}"),
            Check("deliveries", ledger_ok, detail),
            *(Check("agencies", True, line, warning=True) for line in warnings_for_empty_classes(empty))]


def _bot_api_check(settings: Settings) -> Check:
    if not settings.bot_token:
        return Check("bot api", False, "DONDOC_BOT_TOKEN is not set")
    url = f"{settings.bot_api_url}/bot{settings.bot_token}/getMe"
    try:
        answer = httpx.get(url, timeout=10).json()
    except (httpx.HTTPError, ValueError) as exc:
        return Check("bot api", False, f"{settings.bot_api_url} unreachable: {exc.__class__.__name__}")
    if not answer.get("ok"):
        return Check("bot api", False, f"{settings.bot_api_url}: {answer.get('description', 'error')}")
    return Check("bot api", True, f"@{answer['result'].get('username')} at {settings.bot_api_url}")


def _updates_check(settings: Settings) -> Check:
    """Telegram's backlog of updates for this bot (getWebhookInfo counts for polling too)."""
    url = f"{settings.bot_api_url}/bot{settings.bot_token}/getWebhookInfo"
    try:
        info = httpx.get(url, timeout=10).json().get("result") or {}
    except (httpx.HTTPError, ValueError) as exc:
        return Check("updates", False, f"getWebhookInfo failed: {exc.__class__.__name__}")
    pending = int(info.get("pending_update_count") or 0)
    mode = "webhook" if info.get("url") else "long polling"
    limit = settings.health_max_pending_updates
    error = f", last webhook error: {info['last_error_message']}" if info.get("last_error_message") else ""
    return Check("updates", pending <= limit, f"{pending} waiting at Telegram ({mode}; limit {limit}){error}")


def require_bot_api(settings: Settings) -> None:
    """Before `dondoc run` starts: the Bot API answers and accepts the token, or one line
    (what `dondoc doctor` says) and exit 1, instead of PTB's retry loop and its tracebacks."""
    check = _bot_api_check(settings)
    if not check.ok:
        raise OpsError(f"{check.name}: {check.detail}")


def cmd_backup(settings: Settings, args: argparse.Namespace) -> None:
    """Copy the database to a file."""
    _echo(f"Backup written to {backup(settings, Path(args.output) if args.output else None)}")


def cmd_restore(settings: Settings, args: argparse.Namespace) -> None:
    """Replace the database with a backup."""
    if not args.yes:
        raise OpsError("restoring replaces everything in the database; add --yes to confirm")
    restore(settings, Path(args.file))
    _echo(f"Restored {args.file}. Run `dondoc init` to bring the schema up to date if it is older.")


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> None:
    """Check settings, database, Bot API and deliveries; exit 1 if anything is wrong."""
    checks = doctor_checks(settings)
    for check in checks:
        mark = "FAIL" if not check.ok else "warn" if check.warning else "ok"
        _echo(f"[{mark}] {check.name}: {check.detail}")
    if not all(check.ok for check in checks):
        raise OpsError("some checks failed")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("backup", help="copy the database to a file (SQLite online backup, or pg_dump)")
    p.add_argument("--output", help="file to write (default: backups/dondoc-<time>.sqlite3|.dump)")
    p.set_defaults(handler=cmd_backup)
    p = sub.add_parser("restore", help="replace the database with a backup (bot must be stopped)")
    p.add_argument("file")
    p.add_argument("--yes", action="store_true", help="confirm: everything in the database is replaced")
    p.set_defaults(handler=cmd_restore)
    p = sub.add_parser("doctor", help="check settings, database, Bot API and pending/failed deliveries")
    p.set_defaults(handler=cmd_doctor)

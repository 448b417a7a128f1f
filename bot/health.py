"""What "healthy" means, for ``GET /healthz`` (webhook mode) and ``dondoc doctor``:

- updates waiting: Telegram's ``pending_update_count`` (getWebhookInfo; it counts for long
  polling too), plus, in webhook mode, updates acknowledged but not yet handled in this process;
- the ledger: how long the oldest message that is due has waited to be sent. Time inside quiet
  hours does not count for the kinds that quiet hours hold back (a notice queued at 22:00 is
  not late at 06:59);
- stuck: either beyond its limit (``DONDOC_HEALTH_MAX_PENDING_UPDATES``,
  ``DONDOC_HEALTH_MAX_DUE_SECONDS``), or Telegram / the database unreachable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import Settings
from domain.rules import ScheduleRules
from domain.slots import ReminderPolicy, is_quiet, shift_out_of_quiet
from models.db import session_scope
from models.ledger import QUIET_KINDS, Backlog, backlog, oldest_due

# Beyond this many days of waiting, the exact quiet-hours arithmetic no longer matters.
_WALK_DAYS = 62


def sendable_time(start: datetime, end: datetime, policy: ReminderPolicy) -> timedelta:
    """How much of [start, end) lies outside quiet hours (both aware, in the plan's zone)."""
    if start >= end:
        return timedelta(0)
    if policy.quiet_start == policy.quiet_end or end - start > timedelta(days=_WALK_DAYS):
        return end - start
    total, moment = timedelta(0), start
    while moment < end:
        if is_quiet(moment, policy):
            moment = shift_out_of_quiet(moment, policy)
            continue
        quiet_from = datetime.combine(moment.date(), policy.quiet_start, tzinfo=moment.tzinfo)
        if quiet_from <= moment:
            quiet_from = datetime.combine(moment.date() + timedelta(days=1), policy.quiet_start,
                                          tzinfo=moment.tzinfo)
        total += min(quiet_from, end) - moment
        moment = quiet_from
    return total


@dataclass(frozen=True)
class LedgerHealth:
    backlog: Backlog
    oldest_due_seconds: float | None  # None: nothing due is waiting


def ledger_health(engine: Engine, now: datetime, rules: ScheduleRules) -> LedgerHealth:
    """Raises SQLAlchemyError when the database cannot be reached."""
    local = now.astimezone(rules.tz)
    with session_scope(engine) as session:
        stats = backlog(session, now, rules.lease)
        loud = oldest_due(session, now, besides=QUIET_KINDS)
        held = oldest_due(session, now, only=QUIET_KINDS)
    waits = []
    if loud is not None:
        waits.append(now - loud)
    if held is not None and not is_quiet(local, rules.policy):
        waits.append(sendable_time(held.astimezone(rules.tz), local, rules.policy))
    return LedgerHealth(stats, max(waits).total_seconds() if waits else None)


@dataclass(frozen=True)
class Limits:
    max_pending_updates: int
    max_due_seconds: float


def health_limits(settings: Settings) -> Limits:
    return Limits(max_pending_updates=settings.health_max_pending_updates,
                  max_due_seconds=settings.health_max_due_seconds)


def verdict(*, database_error: str | None, ledger: LedgerHealth | None, telegram_error: str | None,
            waiting_updates: int | None, limits: Limits) -> list[str]:
    """The reasons the bot is not healthy (empty: healthy)."""
    problems = []
    if database_error:
        problems.append(f"database {database_error}")
    if telegram_error:
        problems.append(f"telegram {telegram_error}")
    if waiting_updates is not None and waiting_updates > limits.max_pending_updates:
        problems.append(f"{waiting_updates} updates waiting (limit {limits.max_pending_updates})")
    due = ledger.oldest_due_seconds if ledger else None
    if due is not None and due > limits.max_due_seconds:
        problems.append(f"a due message has waited {due:.0f} s (limit {limits.max_due_seconds:.0f} s)")
    return problems


def safe_ledger_health(engine: Engine, now: datetime,
                       rules: ScheduleRules) -> tuple[LedgerHealth | None, str | None]:
    try:
        return ledger_health(engine, now, rules), None
    except SQLAlchemyError as exc:
        return None, f"unreachable: {exc.__class__.__name__}"

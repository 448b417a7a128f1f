"""The JobQueue is only the clock: it wakes the dispatcher periodically and at the next due
instant. Everything it acts on is read from the database at each wake-up, so a restart
rebuilds the whole schedule by itself."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import time
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from telegram.ext import ContextTypes, JobQueue

from domain.rules import ScheduleRules
from domain.slots import SlotCache
from models import changes
from models.calendar_days import working_calendar
from models.db import run_sync, session_scope
from models.registry import active_plans
from models.types import utcnow
from scheduler.context import BotApplication, BotContext
from scheduler.deadlines import sync_due
from scheduler.digests import plan_digests_now
from scheduler.dispatch import dispatch_due, next_due
from scheduler.planner import plan_explanation_reminders, plan_reminders

log = logging.getLogger(__name__)

TICK = "dispatch-tick"
SYNC_WAIT = 2.0  # seconds a tick waits for the item sync before it leaves the planning to the next
WAKE = "dispatch-wake"


def plan_if_changed(engine: Engine, rules: ScheduleRules, now: datetime, *,
                    cache: SlotCache | None = None) -> int | None:
    """Plan the reminders near ``now`` if the day, the rules or anything the plan is built
    from (the change counters) moved since the last planning; None when nothing did."""
    with session_scope(engine) as session:
        plans = active_plans(session)
        if not plans:
            return 0
        counters = changes.counters(session)  # before reading what they guard
        wanted = {"plans": [p.id for p in plans], "day": now.astimezone(rules.tz).date().isoformat(),
                  "rules": repr(rules), "counters": counters}
        if changes.mark(session, changes.REMINDERS_PLANNED) == wanted:
            return None
        calendar = working_calendar(session)
        added = plan_reminders(session, plans, now, rules, calendar, cache)
        added += plan_explanation_reminders(session, now, rules, calendar)
        changes.set_mark(session, changes.REMINDERS_PLANNED, wanted)
        return added


def refresh_schedule(engine: Engine, rules: ScheduleRules, now: datetime, *,
                     with_items: bool = True) -> int:
    """Store the items of periods begun since the last sync (when asked), then plan the
    reminders near ``now`` if anything changed. Returns the rows planned."""
    if with_items:
        sync_due(engine, rules.due, now.astimezone(rules.tz).date())
    return plan_if_changed(engine, rules, now) or 0


async def _sync_items(app: BotApplication, rules: ScheduleRules, today: date, *,
                      tell_coordinating: bool) -> None:
    """The item sync, beside the ticks (a first load must not hold up replies or sends); a stop
    ends it between two chunks. Once it stored something, a tick re-plans right away."""
    engine = app.bot_data.engine
    start = time.monotonic()
    try:
        result = await run_sync(sync_due, engine, rules.due, today, keep_going=lambda: app.running,
                                tell_coordinating=tell_coordinating)
    except Exception:
        log.exception("item sync failed; the next tick tries again")
        return
    took = time.monotonic() - start
    if result.added:
        log.info("items: %s stored in %.1f s%s", result.added, took,
                 "" if result.finished else " (stopped before the end)")
        give_back_memory()  # a first load's rows are gone; the process need not stay that big
    # A tick that waited SYNC_WAIT for this sync left the planning to the next one: wake it.
    if (result.added or took >= SYNC_WAIT) and app.running and app.job_queue is not None:
        wake_soon(app.job_queue)


def give_back_memory() -> None:
    """Collect, then hand the freed heap back to the system (glibc's ``malloc_trim``; a no-op
    elsewhere). Without it the high-water mark of one big load stays the process's size."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _start_item_sync(context: BotContext, rules: ScheduleRules, today: date) -> asyncio.Task[None]:
    """The running item sync, started if none is."""
    data = context.bot_data
    if data.item_sync is not None and not data.item_sync.done():
        return data.item_sync
    app = context.application
    tell = data.config.coordination_notices
    data.item_sync = app.create_task(_sync_items(app, rules, today, tell_coordinating=tell),  # type: ignore[arg-type]
                                     name="item-sync")
    return data.item_sync


async def _items_settled(sync: asyncio.Task[None]) -> bool:
    """Whether the item sync is done, waiting a moment for it (a sync with nothing to store
    takes milliseconds). The task is not cancelled when the wait ends."""
    await asyncio.wait({sync}, timeout=SYNC_WAIT)
    return sync.done()


async def tick(context: BotContext) -> None:
    """Sync items (beside), plan if something changed, send what is due, set the next wake-up."""
    data = context.bot_data
    lock = data.dispatch_lock
    if lock.locked():
        return  # a run is in progress; it will reschedule the wake-up itself
    async with lock:
        rules = context.config.rules
        now = utcnow()
        sync = _start_item_sync(context, rules, now.astimezone(rules.tz).date())
        # No planning while items are being stored: a slot planned from part of a person's
        # items, and again once the rest is in, would reach them as two messages. The sync
        # wakes the ticks when it is done; meanwhile what is planned already goes out.
        if await _items_settled(sync):
            await run_sync(plan_if_changed, context.engine, rules, now)
        await run_sync(plan_digests_now, context.engine, context.config, now)  # leaders' digests
        stats = await dispatch_due(context.bot, context.engine, rules,
                                   default_language=context.config.default_language,
                                   keep_going=lambda: context.application.running)
        if stats.sent or stats.failed or stats.blocked or stats.retried:
            log.info("dispatch: sent=%s retried=%s failed=%s blocked=%s", stats.sent, stats.retried,
                     stats.failed, stats.blocked)
        await _schedule_wake(context, rules, busy=bool(stats.sent or stats.retried))


async def _schedule_wake(context: BotContext, rules: ScheduleRules, *, busy: bool) -> None:
    job_queue = context.job_queue
    if job_queue is None:
        return
    now = utcnow()
    due = await run_sync(next_due, context.engine, now, rules)
    if due is None:
        return
    delay = (due - now).total_seconds()
    if delay > context.config.dispatch_interval:
        return  # the periodic tick comes first
    if delay <= 0 and not busy:
        # Due but not claimable now (another instance holds it, or the round limit was hit
        # without progress): leave it to the periodic tick rather than spin.
        return
    for job in job_queue.get_jobs_by_name(WAKE):
        job.schedule_removal()
    # A relative delay: the wake-up is measured on the same clock the ledger was read with.
    job_queue.run_once(tick, when=timedelta(seconds=max(0.5, delay + 0.2)), name=WAKE)  # type: ignore[arg-type]


def start(app: BotApplication) -> None:
    """Register the periodic tick; the first one runs right away."""
    job_queue: JobQueue[ContextTypes.DEFAULT_TYPE] | None = app.job_queue  # type: ignore[assignment]
    if job_queue is None:
        raise RuntimeError("the JobQueue is missing: install python-telegram-bot[job-queue]")
    interval = app.bot_data.config.dispatch_interval
    job_queue.run_repeating(tick, interval=interval, first=0.5, name=TICK,  # type: ignore[arg-type]
                            job_kwargs={"max_instances": 1, "coalesce": True,
                                        "misfire_grace_time": None})


def wake_soon(job_queue: JobQueue[Any]) -> None:
    """Rows were queued for now (a broadcast): run the dispatcher shortly."""
    for job in job_queue.get_jobs_by_name(WAKE):
        job.schedule_removal()
    job_queue.run_once(tick, when=timedelta(seconds=0.2), name=WAKE)


__all__ = ["plan_if_changed", "refresh_schedule", "start", "tick", "wake_soon"]

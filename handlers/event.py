"""/event: a coordinator records an approval or an election, which opens a deadline for every
agency that owes the event-driven task.

Flow (private chat, coordinators and admins only)::

    /event [PLAN] -> (several plans in force, none named: PLAN ev:p:<plan>)
           -> TASK (ev:t:<task>) -> DATE (ev:d:<task>:<yyyymmdd>, or typed)
           -> DAYS (ev:n:<task>:<yyyymmdd>:<days>, or typed)
           -> CONFIRM (ev:ok:<task>:<yyyymmdd>:<days>) -> recorded; ev:x or /cancel leaves

The plan is the task's own: every step checks that it is still in force. With one plan in force
/event lists its tasks at once, as it always did; with several, it asks which plan first (or
takes its number: ``/event 25/KH-UBND``).

Nothing lives in process memory. Every button carries the choices so far (``views.callbacks``)
and is checked again on the server (who presses, the task, the date, the days) by
``models.events``. The user's ``event_draft`` row holds the same choices, so that a typed date or
number of days finds its question after a restart or on another instance, and so that the
confirm button works once: recording deletes the matching draft in the same transaction. Typed
text reaches the draft through ``handlers.router`` and :func:`take_text` (True when this user's
draft waited for it).
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session
from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    filters,
)

from domain.access import NotAllowed
from handlers.common import is_private, plan_argument, private_only, show, today
from models import events
from models.db import run_sync
from models.registry import ChoosePlan, NoPlan
from models.tables import Plan
from models.types import utcnow
from scheduler.context import BotContext
from scheduler.deadlines import sync_events
from views import events as views
from views import refusals
from views import status as status_views
from views.callbacks import (
    BadCallbackData,
    CallbackData,
    EventCancel,
    EventConfirm,
    EventDate,
    EventDays,
    EventPlan,
    EventTask,
    decode,
    family,
)
from views.screen import Screen

PRIVATE = filters.ChatType.PRIVATE


def _clock(context: BotContext) -> events.Clock:
    config = context.config
    return events.Clock(today(context), utcnow(), timedelta(minutes=config.draft_timeout_minutes),
                        events.EventLimits(config.event_max_past_days, config.event_max_future_days))


async def event_command(update: Update, context: BotContext) -> None:
    """/event [PLAN]: the event-driven tasks to choose from (private chat; coordinators and
    admins); several plans in force and none named: which plan first."""
    plan_id = await plan_argument(update, context)
    if plan_id is None:  # no plan has the number typed: told so
        return
    await show(update, context, await _tasks(context, plan_id))


async def _tasks(context: BotContext, plan_id: int) -> Screen:
    try:
        return views.tasks_screen(await run_sync(events.start, context.engine, context.actor, plan_id))
    except NotAllowed:
        return views.recorders_only()
    except ChoosePlan as choice:
        return views.plan_choice(choice.plans)
    except NoPlan:  # the plan named is closed
        return status_views.no_such_plan()


async def on_button(update: Update, context: BotContext) -> None:
    """Any ``ev:`` button: checked again on the server, then the next step in the same message."""
    query = update.callback_query
    if query is None:
        return
    if not is_private(update):
        await show(update, context, refusals.not_allowed())
        return
    try:
        pressed = decode(query.data)
    except BadCallbackData:
        await show(update, context, refusals.changed())
        return
    try:
        screen = await _press(context, pressed)
    except NotAllowed:
        screen = refusals.not_allowed()
    except events.EventError as error:
        screen = views.refused(error)
    await show(update, context, screen)


async def _press(context: BotContext, pressed: CallbackData) -> Screen:
    engine, actor, clock = context.engine, context.actor, _clock(context)
    if isinstance(pressed, EventCancel):
        await run_sync(events.cancel, engine, actor)
        return views.cancelled()
    if isinstance(pressed, EventPlan):  # the plan chosen: checked again like the command
        return await _tasks(context, pressed.plan)
    if isinstance(pressed, EventConfirm):
        def sync(session: Session, plan: Plan) -> object:
            return sync_events(session, plan)

        recorded = await run_sync(events.confirm, engine, actor, clock, task_id=pressed.task_id,
                                  occurred_on=pressed.occurred_on, days=pressed.days, sync=sync)
        # The new items move the change counters: the next tick plans their reminders.
        return views.recorded_screen(recorded)
    if isinstance(pressed, EventTask):
        choice = await run_sync(events.choose, engine, actor, clock, task_id=pressed.task_id)
    elif isinstance(pressed, EventDate):
        choice = await run_sync(events.choose, engine, actor, clock, task_id=pressed.task_id,
                                occurred_on=pressed.occurred_on)
    elif isinstance(pressed, EventDays):
        choice = await run_sync(events.choose, engine, actor, clock, task_id=pressed.task_id,
                                occurred_on=pressed.occurred_on, days=pressed.days)
    else:
        return refusals.changed()
    return views.choice_screen(choice, clock.today)


async def take_text(update: Update, context: BotContext) -> bool:
    """Private text: the date or the days, when this user's draft waits for one. True when it
    took the text; False: not ours (other flows take it)."""
    message = update.effective_message
    if message is None or message.text is None or not is_private(update):
        return False
    clock = _clock(context)
    typed = await run_sync(events.take_typed, context.engine, context.actor, clock, message.text)
    if typed is None:
        return False
    await show(update, context, views.typed_screen(typed, clock.today))
    return True


async def cancel(update: Update, context: BotContext) -> bool:
    """/cancel while recording an event (the router asks): forget it. False: no draft waited."""
    if not await run_sync(events.cancel_typed, context.engine, context.actor, _clock(context)):
        return False
    await show(update, context, views.cancelled())
    return True


async def redirect(update: Update, context: BotContext) -> None:
    """/event in a group: the link to the private chat instead."""
    await private_only(update, context)


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """Group 0: the command and the buttons."""
    return [CommandHandler("event", event_command, filters=PRIVATE),
            CommandHandler("event", redirect, filters=~PRIVATE),
            CallbackQueryHandler(on_button, pattern=family("ev"))]


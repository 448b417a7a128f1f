"""/event: a coordinator records an approval or an election, which opens a deadline for every
agency that owes the event-driven task.

Flow (private chat, coordinators and admins only)::

    /event -> TASK (buttons) -> DATE (buttons or typed) -> DAYS (buttons or typed)
           -> CONFIRM (buttons) -> recorded; /cancel leaves at any step

The choices travel in the buttons' callback data; only the typed answers need the
conversation's state. Recording validates again, so nothing changes on a stale button.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.context import BotContext
from bot.i18n import format_date
from bot.i18n import gettext as _
from handlers.common import esc, reply
from models import events
from models.db import run_sync, session_scope
from models.members import active_member
from models.obligations import owing_agencies
from models.registry import current_plan
from models.tables import Item, MemberRole, Task
from models.types import utcnow
from scheduler.config import mark_items_dirty, schedule_rules
from scheduler.deadlines import sync_items

TASK, DATE, DAYS, CONFIRM = range(4)
DAY_CHOICES = (7, 15, 30, 60, 90)
_DATE_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_DATE_VN = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
ALLOWED_ROLES = (MemberRole.COORDINATOR.value, MemberRole.ADMIN.value)


@dataclass(frozen=True)
class TaskChoice:
    id: int
    code: str
    task: str


def _today(context: BotContext) -> date:
    return utcnow().astimezone(context.settings.tz).date()


def _limits(context: BotContext) -> events.EventLimits:
    return events.EventLimits(context.settings.event_max_past_days, context.settings.event_max_future_days)


def _may_record(context: BotContext, user_id: int) -> bool:
    if user_id in context.settings.admin_user_ids:
        return True
    with session_scope(context.engine) as session:
        member = active_member(session, user_id)
        return member is not None and member.role in ALLOWED_ROLES


def _choices(context: BotContext) -> list[TaskChoice]:
    with session_scope(context.engine) as session:
        plan = current_plan(session)
        if plan is None:
            return []
        return [TaskChoice(t.id or 0, t.code, t.task) for t in events.event_tasks(session, plan)]


def _task(context: BotContext, task_id: int) -> TaskChoice | None:
    with session_scope(context.engine) as session:
        task = session.get(Task, task_id)
        return TaskChoice(task.id or 0, task.code, task.task) if task is not None else None


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


def _date_problem(context: BotContext, day: date) -> str | None:
    limits, today = _limits(context), _today(context)
    if day < today - timedelta(days=limits.max_past_days):
        return _("That date is too far in the past: an event may be at most {n} days old.").format(
            n=limits.max_past_days)
    if day > today + timedelta(days=limits.max_future_days):
        return _("That date is too far ahead: an event may be at most {n} days in the future.").format(
            n=limits.max_future_days)
    return None


async def start(update: Update, context: BotContext) -> int:
    """Check the user may record events; show the event-driven tasks."""
    user = update.effective_user
    if user is None or not await run_sync(_may_record, context, user.id):
        await reply(update, _("Only coordinators and administrators can record events."))
        return ConversationHandler.END
    choices = await run_sync(_choices, context)
    if not choices:
        await reply(update, _("The plan has no event-driven tasks."))
        return ConversationHandler.END
    buttons = [[InlineKeyboardButton(f"{c.code} · {c.task[:50]}", callback_data=f"ev:t:{c.id}")]
               for c in choices]
    buttons.append([InlineKeyboardButton(_("Cancel"), callback_data="ev:x")])
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(_("Which task is the event for? (These tasks start after an approval "
                              "or around an election.)"), reply_markup=InlineKeyboardMarkup(buttons))
    return TASK


async def pick_task(update: Update, context: BotContext) -> int:
    """Remember the task; ask for the event's date."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    choice = await run_sync(_task, context, int(query.data.split(":")[2]))
    if choice is None:
        await query.edit_message_text(_("That task no longer exists. Send /event to start again."))
        return ConversationHandler.END
    assert context.user_data is not None
    context.user_data["event"] = {"task_id": choice.id, "code": choice.code}
    today = _today(context)
    buttons = [[InlineKeyboardButton(_("Today"), callback_data=f"ev:d:{today:%Y%m%d}"),
                InlineKeyboardButton(_("Yesterday"),
                                     callback_data=f"ev:d:{today - timedelta(days=1):%Y%m%d}")],
               [InlineKeyboardButton(_("Cancel"), callback_data="ev:x")]]
    await query.edit_message_text(
        _("Task <b>{code}</b>: {task}\n\nOn which day was it approved (or the election held)? "
          "Tap a button or type the date, e.g. 20/11/2026.").format(code=esc(choice.code),
                                                                    task=esc(choice.task[:300])),
        reply_markup=InlineKeyboardMarkup(buttons))
    return DATE


async def _ask_days(update: Update, context: BotContext, day: date) -> int:
    assert context.user_data is not None
    draft = context.user_data.get("event")
    if draft is None:
        await reply(update, _("This step has expired. Send /event to start again."))
        return ConversationHandler.END
    problem = _date_problem(context, day)
    if problem is not None:
        await reply(update, problem + "\n" + _("Type another date, or /cancel."))
        return DATE
    draft["date"] = day.isoformat()
    buttons = [[InlineKeyboardButton(str(n), callback_data=f"ev:n:{n}") for n in DAY_CHOICES],
               [InlineKeyboardButton(_("Cancel"), callback_data="ev:x")]]
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(_("Event date: {date}. How many days do the agencies have? Tap a button or "
                              "type a number (1-{max}).").format(date=format_date(day),
                                                                 max=events.MAX_DAYS_ALLOWED),
                            reply_markup=InlineKeyboardMarkup(buttons))
    return DAYS


async def date_button(update: Update, context: BotContext) -> int:
    """A date from a button."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    raw = query.data.split(":")[2]
    return await _ask_days(update, context, date(int(raw[:4]), int(raw[4:6]), int(raw[6:])))


async def date_text(update: Update, context: BotContext) -> int:
    """A typed date."""
    assert update.message is not None and update.message.text is not None
    day = parse_day(update.message.text)
    if day is None:
        await reply(update, _("That is not a date. Type it like 20/11/2026 (or 2026-11-20), or /cancel."))
        return DATE
    return await _ask_days(update, context, day)


def _owing(context: BotContext, task_id: int) -> int:
    with session_scope(context.engine) as session:
        return len(owing_agencies(session, [task_id]).get(task_id, []))


async def _confirm(update: Update, context: BotContext, days: int) -> int:
    assert context.user_data is not None
    draft = context.user_data.get("event")
    if draft is None or "date" not in draft:
        await reply(update, _("This step has expired. Send /event to start again."))
        return ConversationHandler.END
    if not 1 <= days <= events.MAX_DAYS_ALLOWED:
        await reply(update, _("The days allowed must be a number from 1 to {max}. Type another, or /cancel.")
                    .format(max=events.MAX_DAYS_ALLOWED))
        return DAYS
    draft["days"] = days
    day = date.fromisoformat(draft["date"])
    owing = await run_sync(_owing, context, draft["task_id"])
    buttons = [[InlineKeyboardButton(_("✅ Record"), callback_data="ev:ok"),
                InlineKeyboardButton(_("Cancel"), callback_data="ev:x")]]
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(
        _("Record this event?\n\nTask: <b>{code}</b>\nDate: {date}\nDays allowed: {days}\n"
          "Deadline: <b>{due}</b>\nAgencies that will owe a report: {owing}").format(
            code=esc(draft["code"]), date=format_date(day), days=days,
            due=format_date(day + timedelta(days=days)), owing=owing),
        reply_markup=InlineKeyboardMarkup(buttons))
    return CONFIRM


async def days_button(update: Update, context: BotContext) -> int:
    """Days allowed from a button."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    return await _confirm(update, context, int(query.data.split(":")[2]))


async def days_text(update: Update, context: BotContext) -> int:
    """Days allowed, typed."""
    assert update.message is not None and update.message.text is not None
    text = update.message.text.strip()
    if not text.isdigit():
        await reply(update, _("Type the number of days, e.g. 30, or /cancel."))
        return DAYS
    return await _confirm(update, context, int(text))


def _record(context: BotContext, draft: dict[str, object], actor: str) -> tuple[date, int]:
    with session_scope(context.engine) as session:
        plan = current_plan(session)
        if plan is None:
            raise events.EventError("no plan is loaded")
        task = session.get(Task, draft["task_id"])
        if task is None:
            raise events.EventError("the task no longer exists")
        today = _today(context)
        event = events.record_event(session, plan=plan, task_code=task.code,
                                    occurred_on=date.fromisoformat(str(draft["date"])),
                                    days_allowed=int(str(draft["days"])), today=today,
                                    limits=_limits(context), actor=actor)
        sync_items(session, plan, today, schedule_rules(context.settings).due)
        owing = len(session.exec(select(Item.id).where(Item.event_id == event.id)).all())
        return event.due_on, owing


async def confirm(update: Update, context: BotContext) -> int:
    """Record the event and open the items; the dispatcher plans their reminders next tick."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None and context.user_data is not None
    await query.answer()
    draft = context.user_data.pop("event", None)
    if draft is None or "days" not in draft:
        await query.edit_message_text(_("This step has expired. Send /event to start again."))
        return ConversationHandler.END
    try:
        due, owing = await run_sync(_record, context, draft, f"tg:{user.id}")
    except events.EventError as exc:
        await query.edit_message_text(_("Not recorded: {reason}").format(reason=esc(str(exc))))
        return ConversationHandler.END
    mark_items_dirty(context.bot_data)
    await query.edit_message_text(
        _("Recorded. Task <b>{code}</b> is now due on <b>{due}</b> for {owing} agencies; their focal "
          "points will be reminded.").format(code=esc(draft["code"]), due=format_date(due), owing=owing))
    return ConversationHandler.END


async def cancel(update: Update, context: BotContext) -> int:
    """Leave without recording anything."""
    if context.user_data is not None:
        context.user_data.pop("event", None)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(_("Cancelled: nothing was recorded."))
    else:
        await reply(update, _("Cancelled: nothing was recorded."))
    return ConversationHandler.END


async def not_private(update: Update, context: BotContext) -> None:
    """/event in a group: it is done in a private chat."""
    await reply(update, _("Send /event to me in a private chat."))


def handlers() -> list[ConversationHandler[BotContext] | CommandHandler[BotContext, None]]:
    private = filters.ChatType.PRIVATE
    typed = filters.TEXT & ~filters.COMMAND & private
    with warnings.catch_warnings():
        # The callback data carries the choices, so tracking per chat (not per message) is right.
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        conversation: ConversationHandler[BotContext] = ConversationHandler(
            entry_points=[CommandHandler("event", start, filters=private)],
            states={
                TASK: [CallbackQueryHandler(pick_task, pattern=r"^ev:t:\d+$")],
                DATE: [CallbackQueryHandler(date_button, pattern=r"^ev:d:\d{8}$"),
                       MessageHandler(typed, date_text)],
                DAYS: [CallbackQueryHandler(days_button, pattern=r"^ev:n:\d+$"),
                       MessageHandler(typed, days_text)],
                CONFIRM: [CallbackQueryHandler(confirm, pattern=r"^ev:ok$")],
            },
            fallbacks=[CallbackQueryHandler(cancel, pattern=r"^ev:x$"), CommandHandler("cancel", cancel)],
            name="event", allow_reentry=True)
    return [conversation, CommandHandler("event", not_private, filters=~private)]

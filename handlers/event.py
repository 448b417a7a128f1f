"""/event: a coordinator records an approval or an election, which opens a deadline for every
agency that owes the event-driven task.

Flow (private chat, coordinators and admins only)::

    /event -> TASK (ev:t:<task>) -> DATE (ev:d:<task>:<yyyymmdd>, or typed)
           -> DAYS (ev:n:<task>:<yyyymmdd>:<days>, or typed)
           -> CONFIRM (ev:ok:<task>:<yyyymmdd>:<days>) -> recorded; ev:x or /cancel leaves

Nothing lives in process memory. Every button carries the choices so far and is checked again
on the server (who presses, the task, the date, the days) by ``models.events``. The user's
``event_draft`` row holds the same choices, so that a typed date or number of days finds its
question after a restart or on another instance, and so that the confirm button works once:
recording deletes the matching draft in the same transaction. Typed text comes here (group
``handlers.order.EVENT_DRAFT``, before the other flows) only while this user's draft waits for a date or days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers.access import (
    NOT_ALLOWED,
    Refused,
    Screen,
    check_data_length,
    parse_data,
    redirect_to_private,
    refuse,
    show,
)
from handlers.common import reply
from models import events
from models.db import run_sync, session_scope
from models.members import active_member, is_admin
from models.obligations import owing_agencies
from models.registry import current_plan
from models.tables import EventDraft, Item, MemberRole, Plan, ReportDraft, Task
from models.types import utcnow
from scheduler.config import mark_items_dirty
from scheduler.context import BotContext
from scheduler.deadlines import sync_items
from views.html import esc
from views.i18n import format_date
from views.i18n import gettext as _

# After the broadcast draft (-10), before the flows of group 0: a private text message is taken
# only when this user's event draft waits for a date or a number of days.

DAY_CHOICES = (7, 15, 30, 60, 90)
ALLOWED_ROLES = (MemberRole.COORDINATOR.value, MemberRole.ADMIN.value)
Button = InlineKeyboardButton
_DATE_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_DATE_VN = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")


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


def _today(context: BotContext) -> date:
    return utcnow().astimezone(context.config.tz).date()


def _limits(context: BotContext) -> events.EventLimits:
    return events.EventLimits(context.config.event_max_past_days, context.config.event_max_future_days)


def _timeout(context: BotContext) -> timedelta:
    return timedelta(minutes=context.config.draft_timeout_minutes)


def _may_record(session: Session, context: BotContext, user_id: int) -> bool:
    if is_admin(session, user_id, context.config.admin_user_ids):
        return True
    member = active_member(session, user_id)
    return member is not None and member.role in ALLOWED_ROLES


def reason_text(error: events.EventError) -> str:
    """What ``models.events`` refused, in the user's language."""
    params = error.params
    if error.reason == "no_task":
        return _("That task no longer exists. Send /event to start again.")
    if error.reason == "not_event":
        return _("Task {code} is not event-driven: its deadlines come from its timeframe.").format(
            code=esc(params.get("code", "")))
    if error.reason == "too_old":
        return _("That date is too far in the past: an event may be at most {n} days old.").format(
            n=params.get("n"))
    if error.reason == "too_new":
        return _("That date is too far ahead: an event may be at most {n} days in the future.").format(
            n=params.get("n"))
    if error.reason == "days":
        return _("The days allowed must be a number from 1 to {max}.").format(max=params.get("max"))
    if error.reason == "stale":
        return _("This step has expired. Send /event to start again.")
    return _("This cannot be recorded; nothing was changed.")


# --- screens ------------------------------------------------------------------------------

def _ymd(day: date) -> str:
    return f"{day:%Y%m%d}"


def _day_of(raw: str) -> date:
    """The yyyymmdd of a button; anything else is forged."""
    try:
        if len(raw) == 8:
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        pass
    raise Refused(NOT_ALLOWED)


def _cancel_row() -> list[InlineKeyboardButton]:
    return [Button(_("Cancel"), callback_data="ev:x")]


def _date_screen(task: Task, today: date) -> Screen:
    tid = task.id or 0
    buttons = [[Button(_("Today"), callback_data=check_data_length(f"ev:d:{tid}:{_ymd(today)}")),
                Button(_("Yesterday"), callback_data=f"ev:d:{tid}:{_ymd(today - timedelta(days=1))}")],
               _cancel_row()]
    return Screen(
        _("Task <b>{code}</b>: {task}\n\nOn which day was it approved (or the election held)? "
          "Tap a button or type the date, e.g. 20/11/2026.").format(code=esc(task.code),
                                                                    task=esc(task.task[:300])),
        InlineKeyboardMarkup(buttons))


def _days_screen(task: Task, day: date) -> Screen:
    tid = task.id or 0
    buttons = [[Button(str(n), callback_data=check_data_length(f"ev:n:{tid}:{_ymd(day)}:{n}"))
                for n in DAY_CHOICES], _cancel_row()]
    return Screen(_("Event date: {date}. How many days do the agencies have? Tap a button or "
                    "type a number (1-{max}).").format(date=format_date(day), max=events.MAX_DAYS_ALLOWED),
                  InlineKeyboardMarkup(buttons))


def _confirm_screen(session: Session, task: Task, day: date, days: int) -> Screen:
    tid = task.id or 0
    owing = len(owing_agencies(session, [tid]).get(tid, []))
    buttons = [[Button(_("✅ Record"), callback_data=check_data_length(f"ev:ok:{tid}:{_ymd(day)}:{days}")),
                *_cancel_row()]]
    return Screen(
        _("Record this event?\n\nTask: <b>{code}</b>\nDate: {date}\nDays allowed: {days}\n"
          "Deadline: <b>{due}</b>\nAgencies that will owe a report: {owing}").format(
            code=esc(task.code), date=format_date(day), days=days,
            due=format_date(day + timedelta(days=days)), owing=owing),
        InlineKeyboardMarkup(buttons))


@dataclass(frozen=True)
class Start:
    allowed: bool
    tasks: list[tuple[int, str, str]]


def _start(context: BotContext, user_id: int) -> Start:
    """/event: may this user record events, and which tasks; a fresh start forgets the draft."""
    with session_scope(context.engine) as session:
        if not _may_record(session, context, user_id):
            return Start(False, [])
        events.clear_draft(session, user_id)
        plan = current_plan(session)
        if plan is None:
            return Start(True, [])
        return Start(True, [(t.id or 0, t.code, t.task) for t in events.event_tasks(session, plan)])


def _plan(session: Session) -> Plan:
    plan = current_plan(session)
    if plan is None:
        raise events.EventError("no plan is loaded")
    return plan


def _record(session: Session, context: BotContext, user_id: int, plan: Plan, task_id: int, day: date,
            days: int) -> Screen:
    today = _today(context)
    event = events.record_draft(session, user_id, plan=plan, task_id=task_id, occurred_on=day,
                                days_allowed=days, today=today, limits=_limits(context), now=utcnow(),
                                timeout=_timeout(context), actor=f"tg:{user_id}")
    sync_items(session, plan, today, context.config.rules.due)
    owing = len(session.exec(select(Item.id).where(Item.event_id == event.id)).all())
    task = session.get(Task, task_id)
    assert task is not None
    return Screen(_("Recorded. Task <b>{code}</b> is now due on <b>{due}</b> for {owing} agencies; their "
                    "focal points will be reminded.").format(code=esc(task.code),
                                                             due=format_date(event.due_on), owing=owing))


def _button(context: BotContext, user_id: int, data: str) -> Screen:
    """Any ``ev:`` button, checked again: who presses, then the choices it carries.
    :class:`Refused` or :class:`events.EventError` when it must change nothing."""
    kind = data.split(":")[1] if data.count(":") >= 1 else ""
    with session_scope(context.engine) as session:
        if not _may_record(session, context, user_id):
            raise Refused(NOT_ALLOWED)
        if kind == "x":
            parse_data(data, "ev", "w")
            events.clear_draft(session, user_id)
            return Screen(_("Cancelled: nothing was recorded."))
        shape = {"t": "wi", "d": "wii", "n": "wiii", "ok": "wiii"}.get(kind)
        if shape is None:
            raise Refused(NOT_ALLOWED)
        parts = parse_data(data, "ev", shape)[1:]
        task_id = int(parts[0])
        day = _day_of(parts[1]) if len(parts) > 1 else None
        days = int(parts[2]) if len(parts) > 2 else None
        plan, today, now = _plan(session), _today(context), utcnow()
        if kind == "ok":
            assert day is not None and days is not None
            return _record(session, context, user_id, plan, task_id, day, days)
        task, _draft = events.save_draft(session, user_id, plan=plan, task_id=task_id, occurred_on=day,
                                         days=days, today=today, limits=_limits(context), now=now)
        if day is None:
            return _date_screen(task, today)
        if days is None:
            return _days_screen(task, day)
        return _confirm_screen(session, task, day, days)


def _waiting(session: Session, context: BotContext, user_id: int) -> EventDraft | None:
    """The user's draft if it waits for typed text, and no report draft was touched since."""
    draft = events.open_draft(session, user_id, now=utcnow(), timeout=_timeout(context))
    if draft is None or draft.days is not None:
        return None
    member = active_member(session, user_id)
    if member is not None:
        report = session.exec(select(ReportDraft).where(ReportDraft.member_id == member.id)).first()
        if report is not None and report.updated_at > draft.updated_at:
            return None  # the user went on to a report (or a review) since: its text, not ours
    return draft


def _typed(context: BotContext, user_id: int, text: str) -> Screen | None:
    """Typed text for the draft's open question; None: not ours (other flows take it)."""
    with session_scope(context.engine) as session:
        draft = _waiting(session, context, user_id)
        if draft is None:
            return None
        if not _may_record(session, context, user_id):  # no longer a coordinator
            events.clear_draft(session, user_id)
            return None
        day, days = draft.occurred_on, None
        if day is None:
            day = parse_day(text)
            if day is None:
                return Screen(_("That is not a date. Type it like 20/11/2026 (or 2026-11-20), or /cancel."))
        else:
            typed = text.strip()
            if not (typed.isascii() and typed.isdigit()):
                return Screen(_("Type the number of days, e.g. 30, or /cancel."))
            days = int(typed) if len(typed) <= 6 else events.MAX_DAYS_ALLOWED + 1
        try:  # save_draft validates before it changes anything
            task, _draft = events.save_draft(
                session, user_id, plan=_plan(session), task_id=draft.task_id, occurred_on=day, days=days,
                today=_today(context), limits=_limits(context), now=utcnow())
        except events.EventError as error:
            if error.reason in ("too_old", "too_new"):
                return Screen(reason_text(error) + "\n" + _("Type another date, or /cancel."))
            if error.reason == "days":
                return Screen(_("The days allowed must be a number from 1 to {max}. Type another, or "
                                "/cancel.").format(max=events.MAX_DAYS_ALLOWED))
            events.clear_draft(session, user_id)
            return Screen(reason_text(error))
        if days is None:
            return _days_screen(task, day)
        return _confirm_screen(session, task, day, days)


def _cancel(context: BotContext, user_id: int) -> bool:
    with session_scope(context.engine) as session:
        waiting = events.open_draft(session, user_id, now=utcnow(), timeout=_timeout(context)) is not None
        events.clear_draft(session, user_id)
        return waiting


# --- handlers -----------------------------------------------------------------------------

async def event_command(update: Update, context: BotContext) -> None:
    """/event: the event-driven tasks to choose from (private chat; coordinators and admins)."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    if chat.type != "private":
        await redirect_to_private(update, context.bot.username)
        return
    start = await run_sync(_start, context, user.id)
    if not start.allowed:
        await reply(update, _("Only coordinators and administrators can record events."))
        return
    if not start.tasks:
        await reply(update, _("The plan has no event-driven tasks."))
        return
    buttons = [[Button(f"{code} · {task[:50]}", callback_data=check_data_length(f"ev:t:{tid}"))]
               for tid, code, task in start.tasks]
    buttons.append(_cancel_row())
    await chat.send_message(_("Which task is the event for? (These tasks start after an approval "
                              "or around an election.)"), reply_markup=InlineKeyboardMarkup(buttons))


async def on_button(update: Update, context: BotContext) -> None:
    """Any ``ev:`` button: checked again on the server, then the next step in the same message."""
    query, chat = update.callback_query, update.effective_chat
    if query is None:
        return
    if chat is None or chat.type != "private":
        await refuse(update, Refused(NOT_ALLOWED))
        return
    try:
        screen = await run_sync(_button, context, query.from_user.id, query.data or "")
    except Refused as refusal:
        await refuse(update, refusal)
        return
    except events.EventError as error:
        await query.answer(reason_text(error)[:200], show_alert=True)
        return
    if (query.data or "").startswith("ev:ok:"):
        mark_items_dirty(context.bot_data)  # the dispatcher plans the new items' reminders
    await show(update, screen)


async def on_text(update: Update, context: BotContext) -> None:
    """Private text: the date or the days, when this user's draft waits for one; else not ours."""
    user, message, chat = update.effective_user, update.effective_message, update.effective_chat
    if user is None or message is None or message.text is None or chat is None:
        return
    screen = await run_sync(_typed, context, user.id, message.text)
    if screen is None:
        return
    await chat.send_message(screen.text, reply_markup=screen.keyboard)
    raise ApplicationHandlerStop


async def on_cancel(update: Update, context: BotContext) -> None:
    """/cancel while recording an event: forget it; otherwise the other flows' /cancel answers."""
    user = update.effective_user
    if user is None or not await run_sync(_cancel, context, user.id):
        return
    await reply(update, _("Cancelled: nothing was recorded."))
    raise ApplicationHandlerStop


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """Group 0: the command and the buttons."""
    return [CommandHandler("event", event_command), CallbackQueryHandler(on_button, pattern=r"^ev:")]


def typed_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """Register in ``handlers.order.EVENT_DRAFT``: they stop later groups only when a draft took it."""
    private = filters.ChatType.PRIVATE
    return [CommandHandler("cancel", on_cancel, filters=private),
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, on_text)]

"""What /event shows: the event-driven tasks, the date and days questions, the confirmation, and
what ``models.events`` refused, in the user's language."""

from __future__ import annotations

from datetime import date, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from models.events import MAX_DAYS_ALLOWED, Choice, EventError, EventTasks, Recorded, Typed
from models.registry import PlanOption
from views.callbacks import (
    CallbackData,
    EventCancel,
    EventConfirm,
    EventDate,
    EventDays,
    EventPlan,
    EventTask,
    ymd,
)
from views.html import clip, clip_html, esc
from views.i18n import format_date
from views.i18n import gettext as _
from views.plans import plan_buttons, plan_lines, plan_mark
from views.screen import Screen

DAY_CHOICES = (7, 15, 30, 60, 90)


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


def _cancel_row() -> list[InlineKeyboardButton]:
    return [_button(_("Cancel"), EventCancel())]


def reason_text(error: EventError) -> str:
    """What ``models.events`` refused, in the user's language."""
    params = error.params
    if error.reason == "no_task":
        return _("That task no longer exists. Send /event to start again.")
    if error.reason == "not_event":
        return _("Task {code} is not event-driven: its deadlines come from its timeframe.").format(
            code=esc(clip(str(params.get("code", "")), 20)))
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


def refused(error: EventError) -> Screen:
    """A button's choice refused: an alert, nothing changed."""
    text = reason_text(error)
    return Screen(text, toast=text, alert=True)


def recorders_only() -> Screen:
    return Screen(_("Only coordinators and administrators can record events."))


def tasks_screen(found: EventTasks) -> Screen:
    if not found.tasks:
        return Screen(_("The plan has no event-driven tasks."))
    rows = [[_button(f"{clip(code, 20)} · {clip(task, 50)}", EventTask(tid))]
            for tid, code, task in found.tasks]
    rows.append(_cancel_row())
    text = _("Which task is the event for? (These tasks start after an approval or around an "
             "election.)")
    if found.plan:
        text = _("Plan: <b>{number}</b>").format(number=esc(clip(found.plan, 64))) + "\n" + text
    return Screen(text, InlineKeyboardMarkup(rows))


def plan_choice(plans: list[PlanOption]) -> Screen:
    """/event with several plans in force: which plan's event-driven tasks."""
    lines = [_("Several plans are in force. Which plan is the event for?"), "", *plan_lines(plans), "",
             _("Or name it after the command, e.g. <code>/event {number}</code>.").format(
                 number=esc(clip(plans[0].number, 64)) if plans else "")]
    rows = plan_buttons(plans, EventPlan)
    rows.append(_cancel_row())
    return Screen(clip_html("\n".join(lines)), InlineKeyboardMarkup(rows))


def _code(code: str, plan: str) -> str:
    """A task's code, after its plan's number when several plans are in force (HTML)."""
    return f"{plan_mark(plan)}{esc(clip(code, 20))}"


def choice_screen(choice: Choice, today: date) -> Screen:
    """The next question for the choices so far."""
    if choice.occurred_on is None:
        return date_screen(choice, today)
    if choice.days is None:
        return days_screen(choice, choice.occurred_on)
    return confirm_screen(choice, choice.occurred_on, choice.days)


def date_screen(choice: Choice, today: date) -> Screen:
    tid = choice.task_id
    buttons = [[_button(_("Today"), EventDate(tid, ymd(today))),
                _button(_("Yesterday"), EventDate(tid, ymd(today - timedelta(days=1))))],
               _cancel_row()]
    return Screen(
        _("Task <b>{code}</b>: {task}\n\nOn which day was it approved (or the election held)? "
          "Tap a button or type the date, e.g. 20/11/2026.").format(code=_code(choice.code, choice.plan),
                                                                    task=esc(clip(choice.task, 300))),
        InlineKeyboardMarkup(buttons))


def days_screen(choice: Choice, day: date) -> Screen:
    buttons = [[_button(str(n), EventDays(choice.task_id, ymd(day), n)) for n in DAY_CHOICES], _cancel_row()]
    return Screen(_("Event date: {date}. How many days do the agencies have? Tap a button or "
                    "type a number (1-{max}).").format(date=format_date(day), max=MAX_DAYS_ALLOWED),
                  InlineKeyboardMarkup(buttons))


def confirm_screen(choice: Choice, day: date, days: int) -> Screen:
    buttons = [[_button(_("✅ Record"), EventConfirm(choice.task_id, ymd(day), days)), *_cancel_row()]]
    return Screen(
        _("Record this event?\n\nTask: <b>{code}</b>\nDate: {date}\nDays allowed: {days}\n"
          "Deadline: <b>{due}</b>\nAgencies that will owe a report: {owing}").format(
            code=_code(choice.code, choice.plan), date=format_date(day), days=days,
            due=format_date(day + timedelta(days=days)), owing=choice.owing),
        InlineKeyboardMarkup(buttons))


def recorded_screen(recorded: Recorded) -> Screen:
    return Screen(_("Recorded. Task <b>{code}</b> is now due on <b>{due}</b> for {owing} agencies; their "
                    "focal points will be reminded.").format(code=_code(recorded.code, recorded.plan),
                                                             due=format_date(recorded.due_on),
                                                             owing=recorded.owing))


def cancelled() -> Screen:
    return Screen(_("Cancelled: nothing was recorded."))


def typed_screen(typed: Typed, today: date) -> Screen:
    """The answer to typed text: the next question, or what to type instead."""
    if typed.outcome == "choice" and typed.choice is not None:
        return choice_screen(typed.choice, today)
    if typed.outcome == "not_date":
        return Screen(_("That is not a date. Type it like 20/11/2026 (or 2026-11-20), or /cancel."))
    if typed.outcome == "not_days":
        return Screen(_("Type the number of days, e.g. 30, or /cancel."))
    error = typed.error or EventError("?")
    if typed.outcome == "retry" and error.reason == "days":
        return Screen(_("The days allowed must be a number from 1 to {max}. Type another, or "
                        "/cancel.").format(max=MAX_DAYS_ALLOWED))
    if typed.outcome == "retry":
        return Screen(reason_text(error) + "\n" + _("Type another date, or /cancel."))
    return Screen(reason_text(error))

"""The reporting conversation (see reports.mmd): /report, the rp:/rn: buttons of reminders and
/tasks, the draft's buttons, /cancel, and the typed text and files that fill a draft (which
reach it through ``handlers.router``).

No conversation state in memory: every step reads the member's draft from the database, so a
restart or another instance continues where the user was. Each handler: decode the update, call
one ``models.reporting`` function (one transaction), render one ``views.reports`` screen, show it.
Every button is checked again on the server (who presses it, the draft's step, the item's agency).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from telegram import Message, Update
from telegram.error import Forbidden
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from domain.access import Action, NotAllowed, allows
from handlers.common import answer, clock, decoded, is_private, private_only, show
from models import reporting
from models import reports as svc
from models.db import run_sync
from scheduler.context import BotContext
from views import refusals
from views import reports as views
from views.callbacks import BadCallbackData, DraftStep, ReportAnew, ReportItem, ReportList, any_of
from views.screen import Screen

log = logging.getLogger(__name__)


async def outcome(context: BotContext, work: Callable[..., Any], *args: Any, invite: bool = True,
                  **kwargs: Any) -> Screen:
    """Run one reporting service off the event loop and render what it came to; refusals of
    the access policy and of the draft's rules are screens too (``invite``: strangers are told
    how to join; otherwise "not allowed")."""
    minutes = context.config.draft_timeout_minutes
    try:
        result = await run_sync(work, *args, **kwargs)
    except NotAllowed as error:
        return views.not_allowed_screen(error) if invite else views.refused_screen(error, minutes)
    except svc.ReportError as error:
        return views.refused_screen(error, minutes)
    return views.outcome_screen(result, clock(context).today, minutes)


async def report_command(update: Update, context: BotContext) -> None:
    """/report: continue the report in progress, or pick one of the agency's open items."""
    if await private_only(update, context):
        return
    if context.actor.is_member and not allows(context.actor, Action.REPORT):
        await show(update, context, views.reporters_only())
        return
    code = " ".join(context.args or [])[:40]
    screen = await outcome(context, reporting.report_menu, context.engine, context.actor, clock(context),
                           code=code)
    screen.toast = None
    await show(update, context, screen)


async def list_button(update: Update, context: BotContext) -> None:
    """rk:<page>:<fresh>: a page of the items to report on (a reminder's "all N tasks" opens it
    as a new message; the list's own ‹ › turn it in place)."""
    query = update.callback_query
    pressed = await decoded(update, context)
    if query is None or pressed is None:
        return
    if not isinstance(pressed, ReportList) or pressed.page < 0 or not is_private(update):
        await show(update, context, refusals.changed() if is_private(update) else refusals.not_allowed())
        return
    screen = await outcome(context, reporting.report_menu, context.engine, context.actor, clock(context),
                           page=pressed.page)
    screen.new_message = bool(pressed.fresh) and screen.toast is None
    await show(update, context, screen)


async def cancel_command(update: Update, context: BotContext) -> None:
    """/cancel (through ``handlers.router``): discard the report in progress."""
    if await private_only(update, context):
        return
    screen = await outcome(context, reporting.cancel, context.engine, context.actor)
    screen.toast = None
    await show(update, context, screen)


async def report_button(update: Update, context: BotContext) -> None:
    """rp:<item> / rn:<item>: start (or continue) a report; from a group, in the private chat."""
    query = update.callback_query
    pressed = await decoded(update, context)
    if query is None or pressed is None:
        return
    if not isinstance(pressed, ReportItem | ReportAnew):
        await show(update, context, refusals.changed())
        return
    screen = await outcome(context, reporting.begin, context.engine, context.actor, pressed.item_id,
                           clock(context), force=isinstance(pressed, ReportAnew))
    if is_private(update):
        # The form is a new message: the reminder or list it came from stays as it was.
        screen.new_message = screen.toast is None
        await show(update, context, screen)
        return
    if screen.toast is not None:  # refused: say so on the button only
        await answer(query, screen.toast)
        return
    try:
        await context.bot.send_message(query.from_user.id, screen.text, reply_markup=screen.markup)
    except Forbidden:
        await answer(query, views.private_only_text(context.bot.username))
        return
    await answer(query, views.opened_in_private())


async def draft_button(update: Update, context: BotContext) -> None:
    """d:<draft>:<step>:<action>: one of the draft's buttons (private chat only)."""
    query = update.callback_query
    pressed = await decoded(update, context)
    if query is None or pressed is None:
        return
    if not isinstance(pressed, DraftStep) or not is_private(update):
        await show(update, context, views.refused_screen(NotAllowed(), 0))
        return
    await show(update, context, await outcome(context, reporting.press, context.engine, context.actor,
                                              pressed.draft_id, pressed.step, pressed.action,
                                              clock(context), invite=False,
                                              coordination=context.config.coordination_notices))


async def take_text(update: Update, context: BotContext, message: Message) -> None:
    """Typed text: the member's report draft's answer, or a report in their own words (a reply
    to a reminder means the reminder's items)."""
    assert message.text is not None
    await show(update, context, await outcome(context, reporting.take_text, context.engine, context.actor,
                                              message.text, clock(context), replied=replied_items(message)))


def replied_items(message: Message) -> tuple[int, ...]:
    """The items of the bot's message this one replies to (its report buttons)."""
    replied = message.reply_to_message
    markup = replied.reply_markup if replied is not None else None
    if markup is None:
        return ()
    items = []
    for row in markup.inline_keyboard:
        for key in row:
            if isinstance(key.callback_data, str) and ReportItem.owns(key.callback_data):
                try:
                    items.append(ReportItem.unpack(key.callback_data).item_id)
                except BadCallbackData:
                    continue
    return tuple(items)


async def take_file(update: Update, context: BotContext, file: svc.EvidenceFile) -> None:
    """A document or photo: evidence for the member's draft."""
    await show(update, context, await outcome(context, reporting.take_file, context.engine, context.actor,
                                              file, clock(context)))


def evidence_file(message: Message) -> svc.EvidenceFile | None:
    if message.document is not None:
        doc = message.document
        return svc.EvidenceFile("document", doc.file_id, doc.file_unique_id, doc.file_name or "",
                                doc.mime_type or "", doc.file_size)
    if message.photo:
        photo = message.photo[-1]
        return svc.EvidenceFile("photo", photo.file_id, photo.file_unique_id, "", "image/jpeg",
                                photo.file_size)
    return None


async def unknown_button(update: Update, context: BotContext) -> None:
    """A button no handler knows (an old version's, or forged): say so, change nothing."""
    await show(update, context, refusals.changed())


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """Commands and buttons; typed text and files come through ``handlers.router``."""
    return [
        CommandHandler("report", report_command),
        CallbackQueryHandler(report_button, pattern=any_of(ReportItem, ReportAnew)),
        CallbackQueryHandler(draft_button, pattern=any_of(DraftStep)),
        CallbackQueryHandler(list_button, pattern=any_of(ReportList)),
    ]


def fallback_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """Buttons nobody else took; register last (it catches all callback data)."""
    return [CallbackQueryHandler(unknown_button)]

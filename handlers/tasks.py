"""/tasks: what the user's agency owes in the open periods, most urgent first, a page at a time
(‹ › edit the message in place); each item's button opens it with its current report."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from domain.access import NotAllowed
from handlers.common import decoded, is_private, private_only, show, today
from models import reporting
from models.db import run_sync
from scheduler.context import BotContext
from views import refusals
from views import reports as views
from views.callbacks import TaskItem, TasksPage, any_of
from views.screen import Screen


async def _page(context: BotContext, page: int) -> Screen:
    try:
        listing = await run_sync(reporting.tasks, context.engine, context.actor, page, today(context))
    except NotAllowed as error:
        return views.not_allowed_screen(error)
    return views.tasks_screen(listing, today(context))


async def tasks_command(update: Update, context: BotContext) -> None:
    """/tasks: the first page of the agency's list."""
    if await private_only(update, context):
        return
    screen = await _page(context, 0)
    screen.toast = None
    await show(update, context, screen)


async def on_button(update: Update, context: BotContext) -> None:
    """tk:<page> (another page, in place) and ti:<item>:<page> (one item with its report)."""
    query = update.callback_query
    pressed = await decoded(update, context)
    if query is None or pressed is None:
        return
    if not is_private(update):
        await show(update, context, refusals.not_allowed())
        return
    if isinstance(pressed, TasksPage | TaskItem) and pressed.page < 0:  # no button says that
        await show(update, context, refusals.changed())
        return
    if isinstance(pressed, TasksPage):
        await show(update, context, await _page(context, pressed.page))
        return
    if not isinstance(pressed, TaskItem):
        await show(update, context, refusals.changed())
        return
    try:
        card = await run_sync(reporting.task_card, context.engine, context.actor, pressed.item_id,
                              pressed.page)
    except NotAllowed:
        await show(update, context, views.refused_screen(NotAllowed(), 0))
        return
    await show(update, context, views.task_card_screen(card, today(context)))


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [CommandHandler("tasks", tasks_command),
            CallbackQueryHandler(on_button, pattern=any_of(TasksPage, TaskItem))]

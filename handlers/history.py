"""A task's history (the 📜 button of task views and of the /status drill-down) and /audit, the
audit log in chat for admins. Each: parse, one service call (models.history), one view."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from domain.access import NotAllowed
from handlers.common import show
from models import history
from models.db import run_sync
from scheduler.context import BotContext
from views import history as views
from views import refusals
from views.callbacks import AuditLogPage, BadCallbackData, HistoryPage
from views.screen import Screen


async def history_button(update: Update, context: BotContext) -> None:
    """Show the item's versions as a new message (the task view stays); its pages in place."""
    query = update.callback_query
    if query is None:
        return
    try:
        button = HistoryPage.unpack(query.data)
    except BadCallbackData:
        await show(update, context, refusals.changed())
        return
    try:
        found = await run_sync(history.item_history, context.engine, context.actor, button.item_id)
        screen = views.history_screen(found, button.page, context.config.tz)
        screen.new_message = query.message is None or not _is_history(query.message)
    except NotAllowed:
        screen = refusals.not_allowed()
    except history.Gone:
        screen = views.history_gone()
    await show(update, context, screen)


def _is_history(message: object) -> bool:
    """Whether the pressed button sits on a history message (its pages turn in place)."""
    markup = getattr(message, "reply_markup", None)
    rows = markup.inline_keyboard if markup is not None else ()
    datas = [b.callback_data for row in rows for b in row if isinstance(b.callback_data, str)]
    return bool(datas) and all(HistoryPage.owns(d) for d in datas)


async def audit_command(update: Update, context: BotContext) -> None:
    """/audit: the newest entries of the audit log (admins)."""
    await show(update, context, await _audit(context, 0))


async def audit_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    try:
        button = AuditLogPage.unpack(query.data)
    except BadCallbackData:
        await show(update, context, refusals.changed())
        return
    await show(update, context, await _audit(context, button.page))


async def _audit(context: BotContext, page: int) -> Screen:
    try:
        found = await run_sync(history.audit_page, context.engine, context.actor, page)
    except NotAllowed:
        return refusals.not_allowed()
    return views.audit_screen(found, context.config.tz)


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [CallbackQueryHandler(history_button, pattern=HistoryPage.owns),
            CommandHandler("audit", audit_command),
            CallbackQueryHandler(audit_button, pattern=AuditLogPage.owns)]

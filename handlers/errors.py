"""The one global error handler: log with the traceback, tell the admins, apologise to the user."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, TelegramError

from models.db import run_sync, session_scope
from models.members import admin_chat_ids
from scheduler.context import BotContext
from views.html import esc
from views.i18n import gettext as _

log = logging.getLogger(__name__)


def _admins(context: BotContext) -> list[int]:
    with session_scope(context.engine) as session:
        return admin_chat_ids(session, context.config.admin_user_ids)


async def on_error(update: object, context: BotContext) -> None:
    """Log every unhandled error; admins get a one-line summary, the user an apology."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("unhandled error (update %s)", update_id, exc_info=error)
    if isinstance(error, NetworkError):
        return  # transient; PTB retries polling by itself
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await update.effective_chat.send_message(
                _("Sorry, something went wrong. The administrators have been told."))
        except TelegramError:
            log.warning("could not apologise to chat %s", update.effective_chat.id)
    summary = f"⚠️ {esc(type(error).__name__)}: {esc(str(error))[:300]} (update {update_id})"
    for chat_id in await run_sync(_admins, context):
        try:
            await context.bot.send_message(chat_id, summary)
        except Forbidden:
            log.warning("admin %s cannot be told about errors (blocked the bot)", chat_id)
        except TelegramError:
            log.warning("could not tell admin %s about an error", chat_id)

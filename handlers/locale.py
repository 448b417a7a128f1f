"""Sets the language of each update before any other handler runs."""

from __future__ import annotations

from telegram import Update
from telegram.ext import TypeHandler

from models.db import run_sync, session_scope
from models.members import member_by_telegram_id
from scheduler.context import BotContext
from views.i18n import negotiate, set_locale


def _chosen_language(context: BotContext, user_id: int) -> str | None:
    with session_scope(context.engine) as session:
        member = member_by_telegram_id(session, user_id)
        return member.language if member else None


async def apply_locale(update: object, context: BotContext) -> None:
    """Vietnamese unless the member chose otherwise or their Telegram speaks English."""
    if not isinstance(update, Update):
        return
    user = update.effective_user
    chosen = await run_sync(_chosen_language, context, user.id) if user else None
    set_locale(negotiate(chosen=chosen, telegram_language_code=user.language_code if user else None,
                         default=context.config.default_language))


def handler() -> TypeHandler[Update, BotContext, None]:
    return TypeHandler(Update, apply_locale)

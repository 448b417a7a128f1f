"""Who sent the update and in which language to answer: loaded once per update, before any other
handler (group ``handlers.order.IDENTITY``), into ``context.actor`` and the locale ContextVar."""

from __future__ import annotations

from telegram import Update
from telegram.ext import TypeHandler

from domain.access import Actor
from models.db import run_sync, session_scope
from models.members import load_actor
from scheduler.context import BotContext
from views.i18n import negotiate, set_locale


def _load(context: BotContext, user_id: int) -> Actor:
    with session_scope(context.engine) as session:
        return load_actor(session, user_id, context.config.admin_user_ids)


async def identify(update: object, context: BotContext) -> None:
    """Vietnamese unless the member chose otherwise or their Telegram speaks English."""
    if not isinstance(update, Update):
        return
    user = update.effective_user
    context.actor = await run_sync(_load, context, user.id) if user else Actor(0)
    set_locale(negotiate(chosen=context.actor.language,
                         telegram_language_code=user.language_code if user else None,
                         default=context.config.default_language))


def handler() -> TypeHandler[Update, BotContext, None]:
    return TypeHandler(Update, identify)

"""/help (what to do, in three lines, and the commands of the person's role) and /language (the
member's language, stored; inline buttons)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from domain.access import NotAllowed
from handlers.common import show
from handlers.gate import role_of
from handlers.menus import ensure_menu
from models.db import run_sync
from models.language import set_language
from scheduler.context import BotContext
from views import help as views
from views import refusals
from views.callbacks import BadCallbackData, LanguageChoice
from views.i18n import current_locale, set_locale


async def help_command(update: Update, context: BotContext) -> None:
    await show(update, context, views.help_screen(role_of(context)))


async def language_command(update: Update, context: BotContext) -> None:
    await show(update, context, views.language_screen(current_locale()))


async def language_button(update: Update, context: BotContext) -> None:
    """Store the choice, then answer (and set the menu) in the new language."""
    query = update.callback_query
    if query is None:
        return
    try:
        choice = LanguageChoice.unpack(query.data)
        language = await run_sync(set_language, context.engine, context.actor, choice.language)
    except (BadCallbackData, ValueError):
        await show(update, context, refusals.changed())
        return
    except NotAllowed:
        await show(update, context, views.members_only_language())
        return
    set_locale(language)
    await ensure_menu(update, context, force=True)
    await show(update, context, views.language_set_screen(language))


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [CommandHandler("help", help_command), CommandHandler("language", language_command),
            CallbackQueryHandler(language_button, pattern=LanguageChoice.owns)]

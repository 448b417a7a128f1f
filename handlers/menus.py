"""Each member's own command menu (``BotCommandScopeChat``), in their language and for their
role: set once per process for each member when their first update comes (after a registration,
a role or language change, or a restart), and at once when they choose a language."""

from __future__ import annotations

import logging

from telegram import BotCommandScopeChat, Update
from telegram.error import TelegramError

from domain.access import Actor
from scheduler.context import BotContext
from views.i18n import current_locale
from views.menus import menu_for

log = logging.getLogger(__name__)


def _role(actor: Actor) -> str | None:
    if actor.is_member:
        return actor.role
    return "admin" if actor.is_admin else None


async def ensure_menu(update: Update, context: BotContext, *, force: bool = False,
                      role: str | None = None, language: str | None = None) -> None:
    """Set the private chat's menu if what it shows (role, language) changed since this process
    last set it; ``role`` / ``language``: what they are now, if not what this update began with
    (someone who just registered)."""
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        return
    wanted = (role or _role(context.actor), language or current_locale())
    known = context.bot_data.menus_set
    if not force and known.get(chat.id, (None, wanted[1])) == wanted and wanted[0] is None:
        return  # someone not registered: the default menu (bot/app.py) is theirs
    if not force and known.get(chat.id) == wanted:
        return
    known[chat.id] = wanted
    try:
        await context.bot.set_my_commands(menu_for(wanted[1], wanted[0]), scope=BotCommandScopeChat(chat.id))
    except TelegramError as exc:  # the menu is a convenience: never fail the update for it
        log.info("could not set the menu of chat %s: %s", chat.id, exc)
        known.pop(chat.id, None)

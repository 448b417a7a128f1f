"""/start (/help and /language: handlers/help.py)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from handlers.common import reply
from models.admin import agency_name
from models.db import run_sync
from scheduler.context import BotContext
from views.help import greeting_text
from views.html import esc
from views.i18n import gettext as _


def _greeting(first_name: str, agency: str | None, role: str | None) -> str:
    if agency is None or role is None:
        return _(
            "Hello, {name}! I am dondoc, the reminder bot for the provincial plan's tasks.\n\n"
            "You are not registered yet. Ask the Department of Home Affairs (your coordinator) "
            "for an invitation link, then open it here."
        ).format(name=esc(first_name))
    return greeting_text(role, first_name, agency or "-")


async def start(update: Update, context: BotContext) -> None:
    """Greet the user; say how to get invited if they are not registered."""
    user = update.effective_user
    if user is None:
        return
    actor = context.actor
    agency = await run_sync(agency_name, context.engine, actor) if actor.is_member else None
    await reply(update, _greeting(user.first_name, agency, actor.role if actor.is_member else None))


def handlers() -> list[CommandHandler[BotContext, None]]:
    return [CommandHandler("start", start)]

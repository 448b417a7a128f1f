"""/start and /help."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from handlers.common import reply
from models.admin import agency_name
from models.db import run_sync
from scheduler.context import BotContext
from views.html import esc
from views.i18n import gettext as _
from views.menus import commands_for


def _greeting(first_name: str, agency: str | None) -> str:
    if agency is None:
        return _(
            "Hello, {name}! I am dondoc, the reminder bot for the provincial plan's tasks.\n\n"
            "You are not registered yet. Ask the Department of Home Affairs (your coordinator) "
            "for an invitation link, then open it here."
        ).format(name=esc(first_name))
    return _(
        "Hello, {name}! You are registered for <b>{agency}</b>.\n"
        "Send /help to see what I can do."
    ).format(name=esc(first_name), agency=esc(agency or "-"))


async def start(update: Update, context: BotContext) -> None:
    """Greet the user; say how to get invited if they are not registered."""
    user = update.effective_user
    if user is None:
        return
    actor = context.actor
    agency = await run_sync(agency_name, context.engine, actor) if actor.is_member else None
    await reply(update, _greeting(user.first_name, agency))


async def help_command(update: Update, context: BotContext) -> None:
    """List what the bot does, and the commands this user may use."""
    actor = context.actor
    role = actor.role if actor.is_member else ("admin" if actor.is_admin else None)
    lines = [f"/{name} – {esc(_(description))}" for name, description in commands_for(role)]
    intro = _("<b>dondoc</b> keeps the plan's task registry and reminds each agency before its "
              "deadlines.")
    await reply(update, intro + "\n\n" + "\n".join(lines))


def handlers() -> list[CommandHandler[BotContext, None]]:
    return [CommandHandler("start", start), CommandHandler("help", help_command)]

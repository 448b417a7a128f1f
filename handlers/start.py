"""/start and /help."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from handlers.common import reply
from models.db import run_sync, session_scope
from models.members import active_member, agency_of
from scheduler.context import BotContext
from views.html import esc
from views.i18n import gettext as _
from views.menus import commands_for


def _greeting(context: BotContext, user_id: int, first_name: str) -> str:
    with session_scope(context.engine) as session:
        member = active_member(session, user_id)
        if member is None:
            return _(
                "Hello, {name}! I am dondoc, the reminder bot for the provincial plan's tasks.\n\n"
                "You are not registered yet. Ask the Department of Home Affairs (your coordinator) "
                "for an invitation link, then open it here."
            ).format(name=esc(first_name))
        agency = agency_of(session, member)
        return _(
            "Hello, {name}! You are registered for <b>{agency}</b>.\n"
            "Send /help to see what I can do."
        ).format(name=esc(first_name), agency=esc(agency.name if agency else "-"))


async def start(update: Update, context: BotContext) -> None:
    """Greet the user; say how to get invited if they are not registered."""
    user = update.effective_user
    if user is None:
        return
    await reply(update, await run_sync(_greeting, context, user.id, user.first_name))


def _role(context: BotContext, user_id: int) -> str | None:
    with session_scope(context.engine) as session:
        member = active_member(session, user_id)
        if member is not None:
            return member.role
    return "admin" if user_id in context.config.admin_user_ids else None


async def help_command(update: Update, context: BotContext) -> None:
    """List what the bot does, and the commands this user may use."""
    user = update.effective_user
    role = await run_sync(_role, context, user.id) if user else None
    lines = [f"/{name} – {esc(_(description))}" for name, description in commands_for(role)]
    intro = _("<b>dondoc</b> keeps the plan's task registry and reminds each agency before its "
              "deadlines.")
    await reply(update, intro + "\n\n" + "\n".join(lines))


def handlers() -> list[CommandHandler[BotContext, None]]:
    return [CommandHandler("start", start), CommandHandler("help", help_command)]

"""/targets: administrators list the plan's numeric targets (``/targets 2026``: one year's) and
add one by typing it after the command (``/targets 5.2c 2026 60%``), shown for confirmation
first. The typed target waits in the admin's ``target_draft`` row, so the confirm button works
after a restart and only once; each press is checked again on the server (models.targets)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from domain.access import NotAllowed
from domain.targets import TargetInputError
from domain.text import normalize
from handlers.common import decoded, private_only, show
from models import targets
from models.db import run_sync
from models.registry import NoPlan
from models.types import utcnow
from scheduler.context import BotContext
from views import refusals
from views import targets as views
from views.callbacks import TargetConfirm, TargetDiscard, family
from views.screen import Screen

PRIVATE = filters.ChatType.PRIVATE


async def targets_command(update: Update, context: BotContext) -> None:
    """/targets [year] lists; /targets <code> <year> <value> previews a new target."""
    message = update.effective_message
    if message is None or message.text is None or await private_only(update, context):
        return
    words = normalize(message.text, single_line=True, what="target").split(maxsplit=1)
    line = words[1].strip() if len(words) > 1 else ""
    await show(update, context, await _typed(context, line))


async def _typed(context: BotContext, line: str) -> Screen:
    engine, actor = context.engine, context.actor
    try:
        if not line or line.isdigit():
            year = int(line) if line else None
            return views.overview_screen(await run_sync(targets.overview, engine, actor, year))
        return views.preview_screen(await run_sync(targets.preview, engine, actor, line, now=utcnow()))
    except NotAllowed:
        return views.admins_only()
    except TargetInputError as error:
        return views.input_refused(error)
    except targets.TargetError as error:
        return views.refused(error)
    except NoPlan:
        return views.no_plan()


async def on_button(update: Update, context: BotContext) -> None:
    """✅ Add it / ✖ Cancel under a preview."""
    button = await decoded(update, context)
    if button is None:
        return
    engine, actor = context.engine, context.actor
    try:
        if isinstance(button, TargetConfirm):
            screen = views.added_screen(await run_sync(targets.confirm, engine, actor, button.draft_id))
        elif isinstance(button, TargetDiscard):
            await run_sync(targets.discard, engine, actor, button.draft_id)
            screen = views.discarded_screen()
        else:
            screen = refusals.changed()
    except NotAllowed:
        screen = refusals.not_allowed()
    except targets.TargetError as error:
        screen = views.refused(error)
    await show(update, context, screen)


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """Group 0: the command and its two buttons."""
    return [CommandHandler("targets", targets_command),
            CallbackQueryHandler(on_button, pattern=family("tg"))]

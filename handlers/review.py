"""/review: coordinators verify done reports in their scope, oldest first, one at a time (the
evidence files are sent again by file id, then the card with Approve / Return). Return asks for a
reason, which the coordinator types (``handlers.router`` brings it to the report draft); the
agency's focal points then get it with a button to resubmit. Leaders look at the waiting reports
of their scope, a page at a time, but cannot verify them. Every press is checked again on the
server: the role, the scope, and that the version is still the one waiting."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from domain.access import NotAllowed
from handlers.common import clock, decoded, is_private, private_only, show, today
from models import reporting
from models import reports as svc
from models.db import run_sync
from scheduler.context import BotContext
from views import refusals
from views import reports as views
from views.callbacks import ReviewAction, ReviewNext, ReviewPage, any_of
from views.screen import Screen


async def _queue(context: BotContext, page: int = 0) -> Screen:
    try:
        found = await run_sync(reporting.review, context.engine, context.actor, page)
    except NotAllowed as error:
        if error.reason in ("not_member", "inactive"):
            return views.not_allowed_screen(error)
        return views.verifiers_only()
    return views.review_screen(found, today(context))


async def review_command(update: Update, context: BotContext) -> None:
    """/review: the next report to verify (or the waiting ones, for leaders)."""
    if await private_only(update, context):
        return
    screen = await _queue(context)
    screen.toast = None
    await show(update, context, screen)


async def review_button(update: Update, context: BotContext) -> None:
    """rv:<report>:<version>:<a|r>, rq (next) and rl:<page>."""
    query = update.callback_query
    pressed = await decoded(update, context)
    if query is None or pressed is None:
        return
    if not is_private(update):
        await show(update, context, views.refused_screen(NotAllowed(), 0))
        return
    if isinstance(pressed, ReviewNext):
        await show(update, context, await _queue(context))
        return
    if isinstance(pressed, ReviewPage) and pressed.page >= 0:
        screen = await _queue(context, pressed.page)
        screen.new_message = False
        await show(update, context, screen)
        return
    if not isinstance(pressed, ReviewAction):
        await show(update, context, refusals.changed())
        return
    minutes = context.config.draft_timeout_minutes
    try:
        decided = await run_sync(reporting.decide, context.engine, context.actor, pressed.report_id,
                                 pressed.version, pressed.action, clock(context))
    except NotAllowed:
        await show(update, context, views.refused_screen(NotAllowed(), minutes))
        return
    except svc.ReportError as error:
        await show(update, context, views.refused_screen(error, minutes))
        return
    await show(update, context, views.decided_screen(decided))


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [CommandHandler("review", review_command),
            CallbackQueryHandler(review_button, pattern=any_of(ReviewAction, ReviewNext, ReviewPage))]

"""/calendar: a member's private calendar link (``/ical/<token>.ics``), a new one on request
(the old one stops working), or revoked. Private chats only: the link is a secret."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from domain.access import NotAllowed
from handlers.common import decoded, private_only, show
from models import calendar_feeds
from models.db import run_sync
from models.types import utcnow
from scheduler.context import BotContext
from views import calendar as views
from views import refusals
from views.callbacks import CalendarNew, CalendarRevoke, family
from views.screen import Screen


async def calendar_command(update: Update, context: BotContext) -> None:
    """The member's link: made now if they have none, else what to do with the one they have."""
    if await private_only(update, context):
        return
    await show(update, context, await _screen(context, None))


async def on_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    button = await decoded(update, context)
    if query is None or button is None:
        return
    if not isinstance(button, CalendarNew | CalendarRevoke):
        await show(update, context, refusals.changed())
        return
    await show(update, context, await _screen(context, button))


async def _screen(context: BotContext, button: CalendarNew | CalendarRevoke | None) -> Screen:
    base = context.config.web_base_url
    if not base:
        return views.not_offered()
    engine, actor = context.engine, context.actor
    try:
        if isinstance(button, CalendarRevoke):
            return views.revoked(await run_sync(calendar_feeds.revoke_links, engine, actor, utcnow()))
        if button is None:
            current = await run_sync(calendar_feeds.current_link, engine, actor)
            if current is not None:
                return views.existing_link(current.created_at)
        link = await run_sync(calendar_feeds.new_link, engine, actor, utcnow())
    except NotAllowed:
        return views.members_only()
    assert link.token is not None
    return views.new_link(views.feed_url(base, link.token))


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [CommandHandler("calendar", calendar_command),
            CallbackQueryHandler(on_button, pattern=family("cal"))]

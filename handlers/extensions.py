"""Extension requests in the private chat ("⏳ Xin gia hạn").

Flow of a focal point::

    ⏳ (xa:<item>, on the task card and overdue reminders) -> DATE (typed, e.g. 30/6/2027)
        -> REASON (typed) -> CONFIRM (xa:ok:<draft>) -> sent; xa:x or /cancel leaves

Flow of a coordinator, from the request's notice (a ledger row)::

    xd:<request>:a  approve at once
    xd:<request>:s  -> the date granted instead (typed)  -> decided
    xd:<request>:r  -> the reason for refusing (typed)   -> decided

The typed steps live in the member's ``extension_draft`` row (``models.drafts`` finds it for
``handlers.router``); every press and every typed answer is checked again on the server by
``models.extensions``. Decisions and requests reach the other side through the ledger.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from domain.access import NotAllowed
from domain.extensions import ExtensionRefused
from handlers.common import clock, decoded_in_private, is_private, show
from models import extensions as svc
from models.db import run_sync
from scheduler.context import BotContext
from views import extensions as views
from views import refusals
from views.callbacks import (
    CallbackData,
    ExtensionAsk,
    ExtensionCancel,
    ExtensionDecide,
    ExtensionSend,
    any_of,
)
from views.screen import Screen


async def on_button(update: Update, context: BotContext) -> None:
    """xa:<item>, xa:ok:<draft>, xa:x and xd:<request>:<a|s|r>."""
    pressed = await decoded_in_private(update, context)
    if pressed is None:
        return
    try:
        screen = await _press(context, pressed)
    except NotAllowed:
        screen = refusals.not_allowed()
    except ExtensionRefused as error:
        screen = views.refused_screen(error)
    await show(update, context, screen)


async def _press(context: BotContext, pressed: CallbackData) -> Screen:
    engine, actor, limits = context.engine, context.actor, context.config.extension_limits
    if isinstance(pressed, ExtensionAsk):
        asking = await run_sync(svc.ask, engine, actor, pressed.item_id, clock(context), limits)
        screen = views.asking_screen(asking)
        screen.new_message = True  # the card or the reminder stays as it was
        return screen
    if isinstance(pressed, ExtensionSend):
        return views.sent_screen(await run_sync(svc.confirm, engine, actor, clock(context), limits,
                                                pressed.draft_id))
    if isinstance(pressed, ExtensionCancel):
        await run_sync(svc.cancel, engine, actor, clock(context))
        return views.cancelled_screen()
    if isinstance(pressed, ExtensionDecide):
        done = await run_sync(svc.press, engine, actor, clock(context), pressed.request_id, pressed.action)
        if isinstance(done, svc.Asking):
            screen = views.asking_screen(done)
            screen.new_message = True  # the notice keeps its buttons for a change of mind
            return screen
        return views.decided_screen(done)
    return refusals.changed()


async def take_text(update: Update, context: BotContext) -> bool:
    """Private text for the member's open extension question. False: none waits (not ours)."""
    message = update.effective_message
    if message is None or message.text is None or not is_private(update):
        return False
    try:
        typed = await run_sync(svc.take_typed, context.engine, context.actor, clock(context),
                               context.config.extension_limits, message.text)
    except NotAllowed:
        await show(update, context, refusals.not_allowed())
        return True
    if typed is None:
        return False
    await show(update, context, views.typed_screen(typed))
    return True


async def cancel(update: Update, context: BotContext) -> bool:
    """/cancel while an extension draft is open (the router asks). False: none was."""
    if not await run_sync(svc.cancel, context.engine, context.actor, clock(context)):
        return False
    screen = views.cancelled_screen()
    screen.toast = None
    await show(update, context, screen)
    return True


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [CallbackQueryHandler(on_button, pattern=any_of(ExtensionAsk, ExtensionSend, ExtensionCancel,
                                                           ExtensionDecide))]

"""Joining by invitation (``/start <token>``) and creating invitations (``/invite``).

``/invite`` (admins, private chat) is stateless: each choice travels in the next button's data
(``views.callbacks.Invite*``), and every press is checked again on the server by
``models.admin`` (an admin? the agency still there? a role and a number the bot offers?)::

    /invite -> agency (iv:a:<agency>, pages iv:p:<page>) -> role (iv:r:<agency>:<role>)
            -> uses (iv:u:<agency>:<role>:<n>) -> the invitation link

In groups, ``/invite`` and ``/start <token>`` answer only with a link to the private chat.
"""

from __future__ import annotations

import dataclasses

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from domain.access import NotAllowed
from handlers.common import is_private, show
from handlers.menus import ensure_menu
from models import admin
from models.db import run_sync
from models.invitations import RedeemStatus
from scheduler.context import BotContext
from views import members as views
from views import onboarding as onboarding_views
from views import refusals
from views.callbacks import (
    BadCallbackData,
    CallbackData,
    InviteAgency,
    InvitePage,
    InviteRole,
    InviteUses,
    decode,
    family,
)
from views.i18n import negotiate
from views.screen import Screen


def forged(pressed: CallbackData) -> bool:
    """No button of the bot carries a negative id, page or count."""
    return any(isinstance(v, int) and v < 0 for v in dataclasses.astuple(pressed))


# --- /start <token> -----------------------------------------------------------------------

async def start_with_token(update: Update, context: BotContext) -> None:
    """Register the user with the invitation in the /start parameter."""
    user = update.effective_user
    if not is_private(update) or user is None:
        await show(update, context, views.private_only(context.bot.username))
        return
    language = negotiate(chosen=None, telegram_language_code=user.language_code,
                         default=context.config.default_language)
    result = await run_sync(admin.redeem, context.engine, token=(context.args or [""])[0],
                            telegram_user_id=user.id, full_name=user.full_name, username=user.username,
                            language=language)
    await show(update, context, onboarding_views.redeemed(result, user.full_name))
    if result.status is RedeemStatus.OK:  # their own command menu, for their role, at once
        await ensure_menu(update, context, role=result.role, language=language)


# --- /invite ------------------------------------------------------------------------------

async def invite(update: Update, context: BotContext) -> None:
    """Start a new invitation (admins, private chat): show the agencies."""
    if not is_private(update):
        await show(update, context, views.private_only(context.bot.username))
        return
    try:
        picker = await run_sync(admin.invite_agencies, context.engine, context.actor, 0)
    except NotAllowed:
        await show(update, context, views.admins_only_invite())
        return
    await show(update, context, views.invite_agencies(picker))


async def on_invite_button(update: Update, context: BotContext) -> None:
    """Any ``iv:`` button: checked again on the server, then the next step in the same message."""
    if update.callback_query is None:
        return
    try:
        pressed = decode(update.callback_query.data)
        screen = refusals.not_allowed() if forged(pressed) else await _invite_step(context, pressed)
    except (BadCallbackData, NotAllowed):
        screen = refusals.not_allowed()
    except admin.Stale:
        screen = views.changed()
    await show(update, context, screen)


async def _invite_step(context: BotContext, pressed: CallbackData) -> Screen:
    engine, actor = context.engine, context.actor
    if isinstance(pressed, InvitePage):
        return views.invite_agencies(await run_sync(admin.invite_agencies, engine, actor, pressed.page))
    if isinstance(pressed, InviteAgency):
        return views.invite_roles(await run_sync(admin.invite_agency, engine, actor, pressed.agency_id))
    if isinstance(pressed, InviteRole):
        return views.invite_uses(await run_sync(admin.invite_agency, engine, actor, pressed.agency_id,
                                                pressed.role))
    if isinstance(pressed, InviteUses):
        done = await run_sync(admin.invite, engine, actor, pressed.agency_id, pressed.role, pressed.uses)
        return views.invited(done, context.bot.username, context.config.tz)
    raise NotAllowed("forged")


# --- strangers ----------------------------------------------------------------------------

async def stranger_text(update: Update, context: BotContext) -> None:
    """Text from someone not registered: say how to get invited (members get no answer here)."""
    if context.actor.is_member:
        return
    await show(update, context, onboarding_views.stranger())


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """Register before ``start.handlers()``: ``/start <token>`` must win over plain ``/start``."""
    return [
        CommandHandler("start", start_with_token, has_args=True),
        CommandHandler("invite", invite),
        CallbackQueryHandler(on_invite_button, pattern=family("iv")),
    ]

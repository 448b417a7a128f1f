"""``/members``: admins list members and move one to another agency, change a role, deactivate
or reactivate one. Every change has a confirm step.

The buttons carry what the admin saw (``mb:mo:<member>:<agency seen>:<new agency>``,
``views.callbacks.Member*``); ``models.admin`` checks again that the presser is an admin and that
the member is still in that state, else "this has changed" and nothing is done::

    /members -> list (mb:p:<page>) -> member (mb:v:<id>)
        -> move:  mb:m:<id>:<cur>:<page> -> mb:ma:<id>:<cur>:<new> -> mb:mo:<id>:<cur>:<new>
        -> role:  mb:r:<id>:<cur>        -> mb:ra:<id>:<cur>:<new> -> mb:ro:<id>:<cur>:<new>
        -> deactivate: mb:d:<id> -> mb:do:<id>;  reactivate: mb:e:<id> -> mb:eo:<id>
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from domain.access import NotAllowed
from handlers.common import is_private, show
from handlers.onboarding import forged
from models import admin
from models.admin import Confirm, MemberCard, Picker, RoleChoice
from models.db import run_sync
from scheduler.context import BotContext
from views import members as views
from views import refusals
from views.callbacks import (
    BadCallbackData,
    CallbackData,
    MemberDeactivate,
    MemberDeactivateConfirm,
    MemberMove,
    MemberMoveConfirm,
    MemberMoveTo,
    MemberReactivate,
    MemberReactivateConfirm,
    MemberRole,
    MemberRoleConfirm,
    MemberRoleTo,
    MemberShow,
    MembersList,
    decode,
    family,
)
from views.screen import Screen


async def members_command(update: Update, context: BotContext) -> None:
    """The member list (admins, private chat)."""
    if not is_private(update):
        await show(update, context, views.private_only(context.bot.username))
        return
    try:
        page = await run_sync(admin.members_page, context.engine, context.actor, 0)
    except NotAllowed:
        await show(update, context, views.admins_only_members())
        return
    await show(update, context, views.members_page(page))


async def on_member_button(update: Update, context: BotContext) -> None:
    """Any ``mb:`` button: checked again on the server, then the next step in the same message."""
    if update.callback_query is None:
        return
    try:
        pressed = decode(update.callback_query.data)
        screen = refusals.not_allowed() if forged(pressed) else await _step(context, pressed)
    except (BadCallbackData, NotAllowed):
        screen = refusals.not_allowed()
    except admin.Stale:
        screen = views.changed()
    await show(update, context, screen)


def _render(result: Picker | Confirm | MemberCard | RoleChoice) -> Screen:
    if isinstance(result, Picker):
        return views.move_picker(result)
    if isinstance(result, Confirm):
        return views.confirm(result)
    if isinstance(result, RoleChoice):
        return views.role_choice(result)
    return views.member_card(result)


async def _step(context: BotContext, pressed: CallbackData) -> Screen:
    engine, actor = context.engine, context.actor
    if isinstance(pressed, MembersList):
        return views.members_page(await run_sync(admin.members_page, engine, actor, pressed.page))
    if isinstance(pressed, MemberShow):
        return views.member_card(await run_sync(admin.member_card, engine, actor, pressed.member_id))
    if isinstance(pressed, MemberMove):
        return _render(await run_sync(admin.move, engine, actor, pressed.member_id, pressed.current, None,
                                      page=pressed.page))
    if isinstance(pressed, MemberMoveTo | MemberMoveConfirm):
        return _render(await run_sync(admin.move, engine, actor, pressed.member_id, pressed.current,
                                      pressed.target, confirmed=isinstance(pressed, MemberMoveConfirm)))
    if isinstance(pressed, MemberRole):
        return _render(await run_sync(admin.change_role, engine, actor, pressed.member_id, pressed.current,
                                      None))
    if isinstance(pressed, MemberRoleTo | MemberRoleConfirm):
        return _render(await run_sync(admin.change_role, engine, actor, pressed.member_id, pressed.current,
                                      pressed.new, confirmed=isinstance(pressed, MemberRoleConfirm)))
    if isinstance(pressed, MemberDeactivate | MemberDeactivateConfirm | MemberReactivate
                  | MemberReactivateConfirm):
        active = isinstance(pressed, MemberReactivate | MemberReactivateConfirm)
        confirmed = isinstance(pressed, MemberDeactivateConfirm | MemberReactivateConfirm)
        return _render(await run_sync(admin.set_active, engine, actor, pressed.member_id, active,
                                      confirmed=confirmed))
    raise NotAllowed("forged")


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [CommandHandler("members", members_command),
            CallbackQueryHandler(on_member_button, pattern=family("mb"))]

"""Group chats: the bot introduces itself when added, an admin registers the group (``/group``:
purpose and language), removals, lost rights and supergroup migrations are recorded, ``/groups``
lists them.

Etiquette: in groups the bot answers only commands addressed to it (PTB's CommandHandler already
ignores ``/cmd@otherbot``), keeps answers short and never shows one person's items; personal
flows are sent to the private chat (``handlers.common.private_only``).
"""

from __future__ import annotations

from telegram import ChatMember, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from domain.access import NotAllowed
from handlers.common import private_only, show
from models import groups
from models.db import run_sync
from scheduler.context import BotContext
from views import groups as views
from views import refusals
from views.callbacks import BadCallbackData, GroupClass, GroupLanguage, GroupPurpose, decode, family
from views.i18n import SUPPORTED

GROUPS = filters.ChatType.GROUPS
PRIVATE = filters.ChatType.PRIVATE


# --- the bot's own membership ---------------------------------------------------------------

def _is_in(member: ChatMember) -> bool:
    if member.status in (ChatMember.LEFT, ChatMember.BANNED):
        return False
    return member.status != ChatMember.RESTRICTED or bool(getattr(member, "is_member", True))


def _can_post(member: ChatMember) -> bool:
    if member.status == ChatMember.RESTRICTED:
        return bool(getattr(member, "can_send_messages", False))
    return True


async def my_chat_member(update: Update, context: BotContext) -> None:
    """The bot was added to, removed from, or restricted in a group."""
    change = update.my_chat_member
    if change is None or change.chat.type not in (change.chat.GROUP, change.chat.SUPERGROUP):
        return
    new = change.new_chat_member
    membership = groups.Membership(
        chat_id=change.chat.id, title=change.chat.title or "", chat_type=change.chat.type,
        was_in=_is_in(change.old_chat_member), is_in=_is_in(new), can_post=_can_post(new),
        status=str(new.status), by_user_id=change.from_user.id)
    outcome = await run_sync(groups.membership_changed, context.engine, membership)
    if outcome == "joined" and membership.can_post:
        await show(update, context, views.hello(context.bot.username))


async def migrated(update: Update, context: BotContext) -> None:
    """A group became a supergroup: its registration and queued messages follow the new id."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        await run_sync(groups.migrate_by_id, context.engine, message.chat.id, message.migrate_to_chat_id)
    elif message.migrate_from_chat_id:
        await run_sync(groups.migrate_by_id, context.engine, message.migrate_from_chat_id, message.chat.id)


# --- /group ---------------------------------------------------------------------------------

async def group_command(update: Update, context: BotContext) -> None:
    """Register this group: what it is for, then its language (admins only)."""
    chat = update.effective_chat
    if chat is None:
        return
    try:
        started = await run_sync(groups.start_registration, context.engine, context.actor,
                                 chat_id=chat.id, title=chat.title or "", chat_type=chat.type,
                                 target=" ".join(context.args or []))
    except NotAllowed:
        await show(update, context, views.admins_only_register())
        return
    await show(update, context, views.started(started))


async def group_elsewhere(update: Update, context: BotContext) -> None:
    """/group in a private chat: it is sent in the group to register."""
    await show(update, context, views.only_in_groups())


async def group_button(update: Update, context: BotContext) -> None:
    """A /group button; re-checks on the server that the presser is an active admin."""
    query = update.callback_query
    if query is None:
        return
    try:
        button = decode(query.data)
    except BadCallbackData:
        button = None
    if query.message is None or button is None:
        await show(update, context, refusals.changed())
        return
    if isinstance(button, GroupPurpose):
        choice = groups.Choice(purpose=button.purpose)
    elif isinstance(button, GroupClass):
        choice = groups.Choice(class_id=button.class_id)
    elif isinstance(button, GroupLanguage) and button.language in SUPPORTED:
        choice = groups.Choice(language=button.language)
    else:
        await show(update, context, refusals.changed())
        return
    try:
        chosen = await run_sync(groups.choose, context.engine, context.actor, query.message.chat.id,
                                choice)
    except NotAllowed:
        await show(update, context, views.admins_only_button())
        return
    await show(update, context, views.chosen(chosen, context.bot.username))


# --- /groups --------------------------------------------------------------------------------

async def groups_command(update: Update, context: BotContext) -> None:
    """List the groups the bot knows (admins, private chat)."""
    try:
        lines = await run_sync(groups.overview, context.engine, context.actor)
    except NotAllowed:
        await show(update, context, views.admins_only_list())
        return
    await show(update, context, views.groups_list(lines))


async def redirect(update: Update, context: BotContext) -> None:
    """A private-only command sent in a group: the link to the private chat instead."""
    await private_only(update, context)


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [
        ChatMemberHandler(my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, migrated),
        CommandHandler("group", group_command, filters=GROUPS),
        CommandHandler("group", group_elsewhere, filters=~GROUPS),
        CommandHandler("groups", groups_command, filters=PRIVATE),
        CommandHandler("groups", redirect, filters=~PRIVATE),
        CallbackQueryHandler(group_button, pattern=family("grp")),
    ]

"""Group chats: the bot introduces itself when added, an admin registers the group (``/group``:
purpose and language), removals, lost rights and supergroup migrations are recorded, ``/groups``
lists them.

Etiquette: in groups the bot answers only commands addressed to it (PTB's CommandHandler already
ignores ``/cmd@otherbot``), keeps answers short and never shows one person's items; personal
flows are sent to the private chat with a ``https://t.me/<bot>`` link.
"""

from __future__ import annotations

from telegram import (
    ChatMember,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers.common import reply
from models import groups
from models.db import run_sync, session_scope
from models.tables import Agency, AgencyClass, ChatPurpose
from scheduler.context import BotContext
from views.html import esc
from views.i18n import N_, SUPPORTED
from views.i18n import gettext as _

GROUP_CHATS = (ChatType.GROUP, ChatType.SUPERGROUP)
PURPOSE_LABELS = {
    ChatPurpose.FOCAL_POINTS.value: N_("All focal points"),
    ChatPurpose.AGENCY_CLASS.value: N_("An agency class"),
    ChatPurpose.AGENCY.value: N_("One agency"),
    ChatPurpose.LEADERS.value: N_("Leaders"),
}
LANGUAGE_LABELS = {"vi": "Tiếng Việt", "en": "English"}


def bot_link(context: BotContext) -> str:
    return f"https://t.me/{context.bot.username}"


async def to_private(update: Update, context: BotContext) -> None:
    """In a group, a personal flow is offered in the private chat instead."""
    await reply(update, _("Let's do this in a private chat: {link}").format(link=bot_link(context)))


def in_group(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type in GROUP_CHATS


def actor(user_id: int) -> str:
    return f"telegram:{user_id}"


# --- the bot's own membership ---------------------------------------------------------------

def _is_in(member: ChatMember) -> bool:
    if member.status in (ChatMember.LEFT, ChatMember.BANNED):
        return False
    return member.status != ChatMember.RESTRICTED or bool(getattr(member, "is_member", True))


def _can_post(member: ChatMember) -> bool:
    if member.status == ChatMember.RESTRICTED:
        return bool(getattr(member, "can_send_messages", False))
    return True


def _membership_changed(context: BotContext, change: ChatMemberUpdated) -> str:
    """Record the change; returns ``joined``, ``left``, ``muted``, ``unmuted`` or ``same``."""
    chat, old, new = change.chat, change.old_chat_member, change.new_chat_member
    who = actor(change.from_user.id)
    with session_scope(context.engine) as session:
        if not _is_in(new):
            reason = "kicked" if new.status == ChatMember.BANNED else "left"
            return "left" if groups.bot_left(session, chat.id, reason=reason, actor=who) else "same"
        if not _is_in(old) or groups.chat_by_telegram_id(session, chat.id) is None:
            groups.bot_joined(session, chat_id=chat.id, title=chat.title or "", chat_type=chat.type,
                              can_post=_can_post(new), actor=who)
            return "joined"
        can_post = _can_post(new)
        before = groups.chat_by_telegram_id(session, chat.id)
        changed = before is not None and before.can_post != can_post
        groups.set_can_post(session, chat.id, can_post, reason=str(new.status), actor=who)
        if not changed:
            return "same"
        return "unmuted" if can_post else "muted"


async def my_chat_member(update: Update, context: BotContext) -> None:
    """The bot was added to, removed from, or restricted in a group."""
    change = update.my_chat_member
    if change is None or change.chat.type not in GROUP_CHATS:
        return
    outcome = await run_sync(_membership_changed, context, change)
    if outcome == "joined" and _can_post(change.new_chat_member):
        await context.bot.send_message(change.chat.id, _(
            "Hello! I am dondoc, the reminder bot for the provincial plan's tasks.\n"
            "A dondoc administrator can register this group with /group@{bot}: what it is for "
            "and its language. Here I answer only commands addressed to me.").format(
                bot=context.bot.username))


def _migrate(context: BotContext, old_id: int, new_id: int) -> None:
    with session_scope(context.engine) as session:
        groups.migrate(session, old_id, new_id, actor="system")


async def migrated(update: Update, context: BotContext) -> None:
    """A group became a supergroup: its registration and queued messages follow the new id."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        await run_sync(_migrate, context, message.chat.id, message.migrate_to_chat_id)
    elif message.migrate_from_chat_id:
        await run_sync(_migrate, context, message.migrate_from_chat_id, message.chat.id)


# --- /group ---------------------------------------------------------------------------------

def _may_manage(context: BotContext, user_id: int) -> bool:
    with session_scope(context.engine) as session:
        return groups.may_manage(session, user_id, context.config.admin_user_ids)


def purpose_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(_(label), callback_data=f"grp:p:{purpose}")]
                                 for purpose, label in PURPOSE_LABELS.items()])


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(LANGUAGE_LABELS[lang], callback_data=f"grp:l:{lang}")
                                  for lang in SUPPORTED]])


def _ensure_and_register_target(context: BotContext, chat_id: int, title: str, chat_type: str,
                                user_id: int, query: str) -> str | None:
    """``/group <agency or class>``: register at once; returns the name, or None if unknown."""
    with session_scope(context.engine) as session:
        groups.ensure_group(session, chat_id=chat_id, title=title, chat_type=chat_type)
        found = groups.find_agency_or_class(session, query)
        if isinstance(found, Agency):
            groups.register(session, chat_id, purpose=ChatPurpose.AGENCY.value, agency_id=found.id,
                            actor=actor(user_id))
        elif isinstance(found, AgencyClass):
            groups.register(session, chat_id, purpose=ChatPurpose.AGENCY_CLASS.value, class_id=found.id,
                            actor=actor(user_id))
        return found.name if found is not None else None


def _ensure(context: BotContext, chat_id: int, title: str, chat_type: str) -> None:
    with session_scope(context.engine) as session:
        groups.ensure_group(session, chat_id=chat_id, title=title, chat_type=chat_type)


async def group_command(update: Update, context: BotContext) -> None:
    """Register this group: what it is for, then its language (admins only)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    if chat.type not in GROUP_CHATS:
        await reply(update, _("Send /group inside the group you want to register."))
        return
    if not await run_sync(_may_manage, context, user.id):
        await reply(update, _("Only a dondoc administrator can register this group."))
        return
    query = " ".join(context.args or [])
    if query:
        name = await run_sync(_ensure_and_register_target, context, chat.id, chat.title or "",
                              chat.type, user.id, query)
        if name is None:
            await reply(update, _("No agency or agency class is called “{name}”.").format(name=esc(query)))
            return
        await chat.send_message(_("This group is for {name}. Its language?").format(name=esc(name)),
                                reply_markup=language_keyboard())
        return
    await run_sync(_ensure, context, chat.id, chat.title or "", chat.type)
    await chat.send_message(_("What is this group for?"), reply_markup=purpose_keyboard())


def _choose(context: BotContext, chat_id: int, user_id: int, kind: str, value: str) -> str:
    """Apply a /group button; returns what to show next: ``language``, ``classes``,
    ``agency_hint``, ``done`` or ``invalid``."""
    with session_scope(context.engine) as session:
        try:
            if kind == "p":
                if value == ChatPurpose.AGENCY.value:
                    return "agency_hint"
                if value == ChatPurpose.AGENCY_CLASS.value:
                    return "classes"
                groups.register(session, chat_id, purpose=value, actor=actor(user_id))
                return "language"
            if kind == "c":
                groups.register(session, chat_id, purpose=ChatPurpose.AGENCY_CLASS.value,
                                class_id=int(value), actor=actor(user_id))
                return "language"
            if kind == "l" and value in SUPPORTED:
                groups.set_language(session, chat_id, value, actor=actor(user_id))
                return "done"
        except ValueError:
            return "invalid"
    return "invalid"


def _classes(context: BotContext) -> list[tuple[int, str]]:
    with session_scope(context.engine) as session:
        return [(c.id or 0, c.name) for c in groups.agency_classes(session)]


def _summary(context: BotContext, chat_id: int) -> str:
    with session_scope(context.engine) as session:
        line = next((g for g in groups.list_groups(session) if g.chat_id == chat_id), None)
    if line is None:
        return ""
    return _("Registered: {purpose}{target}, language {language}. Members of dondoc will get the "
             "group's announcements here.").format(
        purpose=_(PURPOSE_LABELS.get(line.purpose or "", "-")),
        target=f" ({esc(line.target)})" if line.target else "",
        language=LANGUAGE_LABELS.get(line.language or "", "-"))


async def group_button(update: Update, context: BotContext) -> None:
    """A /group button; re-checks on the server that the presser is an active admin."""
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    if not await run_sync(_may_manage, context, query.from_user.id):
        await query.answer(_("Only a dondoc administrator can do this."), show_alert=True)
        return
    _prefix, kind, value = query.data.split(":", 2)
    outcome = await run_sync(_choose, context, query.message.chat.id, query.from_user.id, kind, value)
    await query.answer()
    if outcome == "classes":
        rows = [[InlineKeyboardButton(name, callback_data=f"grp:c:{cid}")]
                for cid, name in await run_sync(_classes, context)]
        await _edit(query.edit_message_text(_("Which agency class?"),
                                            reply_markup=InlineKeyboardMarkup(rows)))
    elif outcome == "agency_hint":
        await _edit(query.edit_message_text(_(
            "Send /group@{bot} followed by the agency's code or name, e.g. /group@{bot} SNV.").format(
                bot=context.bot.username)))
    elif outcome == "language":
        await _edit(query.edit_message_text(_("Its language?"), reply_markup=language_keyboard()))
    elif outcome == "done":
        await _edit(query.edit_message_text(await run_sync(_summary, context, query.message.chat.id)))
    else:
        await _edit(query.edit_message_text(_("That choice is no longer valid. Send /group again.")))


async def _edit(awaitable: object) -> None:
    try:
        await awaitable  # type: ignore[misc]
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


# --- /groups --------------------------------------------------------------------------------

def _groups_text(context: BotContext) -> str:
    with session_scope(context.engine) as session:
        lines = groups.list_groups(session)
    if not lines:
        return _("The bot is in no group yet. Add it to a group, then send /group there.")
    out = ["<b>" + _("Groups") + "</b>"]
    for g in lines:
        if not g.active:
            state = _("removed")
        elif not g.can_post:
            state = _("cannot post")
        elif g.purpose is None:
            state = _("not registered")
        else:
            state = _(PURPOSE_LABELS[g.purpose]) + (f" ({esc(g.target)})" if g.target else "")
        language = LANGUAGE_LABELS.get(g.language or "", "")
        out.append(f"• {esc(g.title) or g.chat_id}: {state}" + (f", {language}" if language else ""))
    return "\n".join(out)


async def groups_command(update: Update, context: BotContext) -> None:
    """List the groups the bot knows (admins, private chat)."""
    user = update.effective_user
    if user is None:
        return
    if not await run_sync(_may_manage, context, user.id):
        await reply(update, _("Only a dondoc administrator can see the groups."))
        return
    if in_group(update):
        await to_private(update, context)
        return
    await reply(update, await run_sync(_groups_text, context))


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [
        ChatMemberHandler(my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, migrated),
        CommandHandler("group", group_command),
        CommandHandler("groups", groups_command),
        CallbackQueryHandler(group_button, pattern=r"^grp:[pcl]:[\w-]{1,40}$"),
    ]

"""Before the flows (group ``handlers.order.GATE``): what no flow should have to check itself.

- In a group, a command not addressed to the bot (``/status`` rather than ``/status@bot``) is
  not answered: several bots may share the group. A personal command addressed to the bot
  (``/tasks@bot``) is answered with a deep link to the private chat, and goes no further.
- In the private chat, a deactivated member is told so, whatever they send or press.
- ``/start help`` (where that deep link leads) shows /help.
- Each member's own command menu is set when it no longer matches their role and language.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.constants import ChatType, MessageEntityType
from telegram.ext import ApplicationHandlerStop, BaseHandler, TypeHandler

from handlers.common import answer
from handlers.menus import ensure_menu
from scheduler.context import BotContext
from views import help as views

# Commands that make sense in a group (addressed to the bot); every other one is personal.
GROUP_COMMANDS = frozenset({"status", "chart", "group", "groups"})
HELP_LINK = "help"  # the deep link's /start parameter


def command_of(message: Message) -> tuple[str, str | None] | None:
    """(command, the bot it is addressed to or None) of a message that starts with a command."""
    entity = next((e for e in message.entities if e.offset == 0 and e.type == MessageEntityType.BOT_COMMAND),
                  None)
    if entity is None or not message.text:
        return None
    word = message.parse_entity(entity)[1:]
    name, _at, target = word.partition("@")
    return name.lower(), (target or None)


def role_of(context: BotContext) -> str | None:
    actor = context.actor
    if actor.is_member:
        return actor.role
    return "admin" if actor.is_admin else None


async def gate(update: Update, context: BotContext) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    message = update.message
    if chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
        found = command_of(message) if message is not None else None
        if found is None:
            return
        name, target = found
        username = context.bot.username
        if target is None or not username or target.lower() != username.lower():
            raise ApplicationHandlerStop  # someone else's, or everyone's: not ours to answer
        if name not in GROUP_COMMANDS:
            await chat.send_message(views.go_private(name, username))
            raise ApplicationHandlerStop
        return
    if chat.type != ChatType.PRIVATE:
        return
    actor = context.actor
    if actor.deactivated and not actor.is_admin:
        query = update.callback_query
        if query is not None:
            await answer(query, views.deactivated_text(), alert=True)
        else:
            await chat.send_message(views.deactivated_text())
        raise ApplicationHandlerStop
    await ensure_menu(update, context)
    if message is not None and (message.text or "").split() == ["/start", HELP_LINK]:
        await chat.send_message(views.help_screen(role_of(context)).text)
        raise ApplicationHandlerStop


def handler() -> BaseHandler[Update, BotContext, None]:
    return TypeHandler(Update, gate)

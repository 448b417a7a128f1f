"""/broadcast: compose an announcement (text, optionally one document), choose who gets it, see a
preview with the number of recipients, confirm; then live progress and a final report.

The draft is a ``broadcast`` row (status ``draft``, ``step`` = the open question), so a restart
loses nothing. Flow::

    /broadcast -> [text] --message/document--> [audience] --button--> [preview] --Send--> queued
                                                   |  "one agency…" -> [agency] --name--^
    preview: toggle "received" button, change audience, cancel

A message reaches the draft through ``handlers.router`` and :func:`take_text` (True when this
sender's draft took it).
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    filters,
)

from domain.access import NotAllowed
from handlers.common import answer, decoded, is_private, private_only, send, show, wake_dispatcher
from models import broadcasts
from models.db import run_sync
from scheduler import broadcast_progress
from scheduler.context import BotContext
from views import broadcasts as views
from views import refusals
from views.callbacks import (
    BroadcastAudience,
    BroadcastCancel,
    BroadcastChange,
    BroadcastReceived,
    BroadcastRetry,
    BroadcastSend,
    BroadcastToggleAck,
    BroadcastWho,
    CallbackData,
    family,
)
from views.entities import entities_html
from views.screen import Screen

PRIVATE = filters.ChatType.PRIVATE


async def broadcast_command(update: Update, context: BotContext) -> None:
    """Start a broadcast (admins and coordinators, private chat)."""
    try:
        broadcast_id = await run_sync(broadcasts.begin, context.engine, context.actor)
    except NotAllowed:
        await show(update, context, views.senders_only())
        return
    await show(update, context, views.ask_text(broadcast_id))


# --- composing ----------------------------------------------------------------------------

def _content(message: Message) -> broadcasts.Content:
    """The message as the draft keeps it: HTML re-escaped from its entities (never PTB's
    ``text_html``, which leaves attributes unescaped), and the document if there is one."""
    document = message.document
    if document is not None:
        return broadcasts.Content(entities_html(message.caption, message.caption_entities),
                                  file_id=document.file_id, file_name=document.file_name or "",
                                  file_size=document.file_size)
    return broadcasts.Content(entities_html(message.text, message.entities), plain=message.text or "")


async def take_text(update: Update, context: BotContext) -> bool:
    """A private message: the waiting draft's text or document, or the agency typed for it.
    True when this sender's draft took it; False: not ours (other flows take it)."""
    message = update.effective_message
    if message is None or not is_private(update) or (message.text is None and message.document is None):
        return False
    step = await run_sync(broadcasts.take_message, context.engine, context.actor, _content(message))
    if step is None:
        return False
    await _show_all(update, context, views.step_screens(step))
    return True


async def cancel(update: Update, context: BotContext) -> bool:
    """/cancel while writing a broadcast: the draft cancelled, as its Cancel button does.
    False: no draft of this sender is open (another flow's /cancel)."""
    step = await run_sync(broadcasts.cancel_open, context.engine, context.actor)
    if step is None:
        return False
    await _show_all(update, context, views.step_screens(step))
    return True


async def _show_all(update: Update, context: BotContext, screens: list[Screen]) -> None:
    """The first screen answers the update; the others follow as new messages."""
    chat = update.effective_chat
    await show(update, context, screens[0])
    for screen in screens[1:]:
        if chat is not None:
            await send(context, chat.id, screen)


# --- buttons ------------------------------------------------------------------------------

async def button(update: Update, context: BotContext) -> None:
    """Every ``bc:`` button. Who may press what is checked on the server, by models.broadcasts."""
    query = update.callback_query
    pressed = await decoded(update, context)
    if query is None or pressed is None:
        return
    try:
        await _press(update, context, pressed)
    except NotAllowed:
        await show(update, context, views.senders_only())
    except broadcasts.NotSender:
        await show(update, context, views.sender_only())


async def _press(update: Update, context: BotContext, pressed: CallbackData) -> None:
    query, engine, actor = update.callback_query, context.engine, context.actor
    assert query is not None
    if isinstance(pressed, BroadcastReceived):
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        outcome = await run_sync(broadcasts.received, engine, actor, pressed.broadcast_id,
                                 chat_id=chat_id, name=query.from_user.full_name)
        await show(update, context, views.received_toast(outcome))
    elif isinstance(pressed, BroadcastAudience):
        step = await run_sync(broadcasts.choose_audience, engine, actor, pressed.broadcast_id, pressed.code)
        await _show_all(update, context, views.audience_chosen(step))
    elif isinstance(pressed, BroadcastToggleAck):
        step = await run_sync(broadcasts.toggle_ack, engine, actor, pressed.broadcast_id)
        await _show_all(update, context, views.ack_toggled(step))
    elif isinstance(pressed, BroadcastChange):
        step = await run_sync(broadcasts.change_audience, engine, actor, pressed.broadcast_id)
        await _show_all(update, context, views.step_screens(step))
    elif isinstance(pressed, BroadcastCancel):
        step = await run_sync(broadcasts.cancel, engine, actor, pressed.broadcast_id)
        await _show_all(update, context, views.step_screens(step))
    elif isinstance(pressed, BroadcastSend):
        await _send(update, context, pressed.broadcast_id)
    elif isinstance(pressed, BroadcastRetry):
        count = await run_sync(broadcasts.retry, engine, actor, pressed.broadcast_id)
        await show(update, context, views.requeued_toast(count))
        if count:
            wake_dispatcher(context)
    elif isinstance(pressed, BroadcastWho):
        # The check, then the progress message shown again now (scheduler/broadcast_progress).
        await run_sync(broadcasts.check_sender, engine, actor, pressed.broadcast_id)
        await answer(query, None)
        await broadcast_progress.refresh(context.bot, engine, pressed.broadcast_id,
                                         context.config.default_language, force=True)
    else:
        await show(update, context, refusals.changed())


async def _send(update: Update, context: BotContext, broadcast_id: int) -> None:
    """Confirm: queue every recipient in one transaction; a second tap queues nothing."""
    query = update.callback_query
    assert query is not None
    if query.message is None:  # no control message to turn into the progress: press again there
        await show(update, context, refusals.changed())
        return
    done = await run_sync(broadcasts.send, context.engine, context.actor, broadcast_id,
                          progress_chat_id=query.message.chat.id,
                          progress_message_id=query.message.message_id)
    await show(update, context, views.confirmed_screen(done.outcome, broadcast_id, done.recipients))
    if done.outcome == "queued":
        wake_dispatcher(context)


async def redirect(update: Update, context: BotContext) -> None:
    """/broadcast in a group: the link to the private chat instead."""
    await private_only(update, context)


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [
        CommandHandler("broadcast", broadcast_command, filters=PRIVATE),
        CommandHandler("broadcast", redirect, filters=~PRIVATE),
        CallbackQueryHandler(button, pattern=family("bc")),
    ]


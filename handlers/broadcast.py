"""/broadcast: compose an announcement (text, optionally one document), choose who gets it, see a
preview with the number of recipients, confirm; then live progress and a final report.

The draft is a ``broadcast`` row (status ``draft``, ``step`` = the open question), so a restart
loses nothing. Flow::

    /broadcast -> [text] --message/document--> [audience] --button--> [preview] --Send--> queued
                                                   |  "one agency…" -> [agency] --name--^
    preview: toggle "received" button, change audience, cancel
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers.common import reply
from handlers.groups import _edit, in_group, to_private
from models import broadcasts, groups
from models.db import run_sync, session_scope
from models.tables import Agency, Broadcast, BroadcastStatus
from scheduler import broadcast_progress
from scheduler.context import BotContext
from views import broadcasts as broadcast_text
from views.html import esc
from views.i18n import format_number
from views.i18n import gettext as _

# Runs before the other flows' handlers; a message is taken only when a draft waits for it.


AUDIENCES: dict[str, dict[str, Any]] = {
    "g": {"kind": "groups"},
    "gf": {"kind": "groups", "purpose": "focal_points"},
    "gl": {"kind": "groups", "purpose": "leaders"},
    "rf": {"kind": "role", "role": "focal_point"},
    "rl": {"kind": "role", "role": "leader"},
    "rc": {"kind": "role", "role": "coordinator"},
    "e": {"kind": "everyone"},
}


def _may(context: BotContext, user_id: int) -> bool:
    with session_scope(context.engine) as session:
        return broadcasts.may_broadcast(session, user_id, context.config.admin_user_ids)


def _start(context: BotContext, user_id: int) -> int:
    with session_scope(context.engine) as session:
        draft = broadcasts.start_draft(session, user_id)
        assert draft.id is not None
        return draft.id


def cancel_markup(broadcast_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(_("Cancel"), callback_data=f"bc:no:{broadcast_id}")]])


async def broadcast_command(update: Update, context: BotContext) -> None:
    """Start a broadcast (admins and coordinators, private chat)."""
    user = update.effective_user
    if user is None:
        return
    if in_group(update):
        await to_private(update, context)
        return
    if not await run_sync(_may, context, user.id):
        await reply(update, _("Only administrators and coordinators can send announcements."))
        return
    broadcast_id = await run_sync(_start, context, user.id)
    await reply_markup(update, _(
        "📢 New announcement. Send its text (up to {text} characters), or one document with a "
        "caption (up to {caption} characters, file up to 50 MB).").format(
            text=format_number(broadcasts.MAX_TEXT), caption=format_number(broadcasts.MAX_CAPTION)),
        cancel_markup(broadcast_id))


async def reply_markup(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> Message | None:
    chat = update.effective_chat
    return await chat.send_message(text, reply_markup=markup) if chat else None


# --- composing ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    broadcast_id: int
    step: str


def _open_step(context: BotContext, user_id: int) -> Step | None:
    with session_scope(context.engine) as session:
        draft = broadcasts.open_draft(session, user_id)
        if draft is None or draft.id is None or draft.step not in ("text", "agency"):
            return None
        return Step(draft.id, draft.step)


def problem_text(problem: str) -> str:
    if problem == "empty":
        return _("The text is empty. Send the announcement's text.")
    if problem == "too_long":
        return _("The text is too long: at most {n} characters (formatting included). "
                 "Shorten it, or send it as a document.").format(n=format_number(broadcasts.MAX_TEXT))
    if problem == "caption_too_long":
        return _("A document's caption can have at most {n} characters. Shorten it, or send the "
                 "text alone.").format(n=format_number(broadcasts.MAX_CAPTION))
    return _("The document is over 50 MB: Telegram does not let bots send it. Send a smaller "
             "file, or a link in the text.")


def _store_content(context: BotContext, broadcast_id: int, message: Message) -> str | None:
    document = message.document
    text = (message.caption_html if document else message.text_html) or ""
    problem = broadcasts.content_problem(text, has_document=document is not None,
                                         file_size=document.file_size if document else None)
    if problem:
        return problem
    with session_scope(context.engine) as session:
        draft = session.get(Broadcast, broadcast_id)
        if draft is None or draft.status != BroadcastStatus.DRAFT.value:
            return "gone"
        broadcasts.set_content(draft, text, file_id=document.file_id if document else None,
                               file_name=document.file_name or "" if document else "",
                               file_size=document.file_size if document else None)
    return None


def audience_keyboard(broadcast_id: int) -> InlineKeyboardMarkup:
    def button(label: str, code: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=f"bc:a:{broadcast_id}:{code}")

    return InlineKeyboardMarkup([
        [button(_("All groups"), "g"), button(_("Focal points' groups"), "gf"),
         button(_("Leaders' groups"), "gl")],
        [button(_("Focal points"), "rf"), button(_("Leaders"), "rl"), button(_("Coordinators"), "rc")],
        [button(_("One agency or class…"), "x")],
        [button(_("Everyone"), "e")],
        [InlineKeyboardButton(_("Cancel"), callback_data=f"bc:no:{broadcast_id}")],
    ])


async def compose_message(update: Update, context: BotContext) -> None:
    """A message in private chat: the draft's text/document, or the agency typed for it."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    step = await run_sync(_open_step, context, user.id)
    if step is None:
        return  # not ours: other flows handle it
    if step.step == "text":
        problem = await run_sync(_store_content, context, step.broadcast_id, message)
        if problem:
            await message.reply_text(problem_text(problem), reply_markup=cancel_markup(step.broadcast_id))
        else:
            await message.reply_text(_("Who should receive it?"),
                                     reply_markup=audience_keyboard(step.broadcast_id))
    else:
        await _agency_typed(update, context, step.broadcast_id, message.text or "")
    raise ApplicationHandlerStop


def _set_agency(context: BotContext, broadcast_id: int, text: str) -> bool:
    with session_scope(context.engine) as session:
        found = groups.find_agency_or_class(session, text)
        draft = session.get(Broadcast, broadcast_id)
        if found is None or draft is None:
            return False
        kind = "agency" if isinstance(found, Agency) else "class"
        draft.audience, draft.step = json.dumps({"kind": kind, "id": found.id}), "preview"
        return True


async def _agency_typed(update: Update, context: BotContext, broadcast_id: int, text: str) -> None:
    if not await run_sync(_set_agency, context, broadcast_id, text):
        await reply_markup(update, _("No agency or agency class is called “{name}”. Send its code "
                                     "or full name.").format(name=esc(text.strip())),
                           cancel_markup(broadcast_id))
        return
    await send_preview(update, context, broadcast_id)


# --- the preview --------------------------------------------------------------------------

@dataclass(frozen=True)
class Preview:
    text: str
    document: str | None
    control: str
    empty: bool
    ack: bool


def _preview(context: BotContext, broadcast_id: int) -> Preview | None:
    with session_scope(context.engine) as session:
        draft = session.get(Broadcast, broadcast_id)
        if draft is None or draft.status != BroadcastStatus.DRAFT.value:
            return None
        spec = broadcasts.audience_of(draft)
        audience = broadcasts.resolve(session, spec)
        kind, detail = broadcasts.audience_label(session, spec)
        if not audience.recipients:
            draft.step = "audience"
            return Preview("", None, _("Nobody would receive it: {audience} has no reachable "
                                       "recipient. Choose another audience.").format(
                audience=broadcast_text.audience_name(kind, detail)), True, draft.ack_enabled)
        draft.step = "preview"
        control = broadcast_text.preview_text(kind=kind, detail=detail, audience=audience,
                                              ack=draft.ack_enabled)
        return Preview(draft.text, draft.document_file_id, control, False, draft.ack_enabled)


def preview_keyboard(broadcast_id: int, ack: bool) -> InlineKeyboardMarkup:
    toggle = _("“Received” button: turn off") if ack else _("“Received” button: turn on")
    return InlineKeyboardMarkup([
        [InlineKeyboardButton("📤 " + _("Send"), callback_data=f"bc:ok:{broadcast_id}")],
        [InlineKeyboardButton(toggle, callback_data=f"bc:k:{broadcast_id}")],
        [InlineKeyboardButton(_("Change recipients"), callback_data=f"bc:ch:{broadcast_id}"),
         InlineKeyboardButton(_("Cancel"), callback_data=f"bc:no:{broadcast_id}")],
    ])


async def send_preview(update: Update, context: BotContext, broadcast_id: int) -> None:
    """The message exactly as recipients get it, then the counts and the Send button."""
    chat = update.effective_chat
    preview = await run_sync(_preview, context, broadcast_id)
    if chat is None or preview is None:
        return
    if preview.empty:
        await chat.send_message(preview.control, reply_markup=audience_keyboard(broadcast_id))
        return
    if preview.document:
        await chat.send_document(preview.document, caption=preview.text or None)
    else:
        await chat.send_message(preview.text)
    await chat.send_message(preview.control, reply_markup=preview_keyboard(broadcast_id, preview.ack))


# --- buttons ------------------------------------------------------------------------------

def _draft_action(context: BotContext, broadcast_id: int, user_id: int, action: str,
                  code: str = "") -> str:
    """Apply a draft button; ``ok``, ``gone`` (not a draft of this user any more) or ``agency``."""
    with session_scope(context.engine) as session:
        draft = broadcasts.own_draft(session, broadcast_id, user_id)
        if draft is None or draft.status != BroadcastStatus.DRAFT.value:
            return "gone"
        if action == "a":
            if code == "x":
                draft.step = "agency"
                return "agency"
            if code not in AUDIENCES:
                return "gone"
            draft.audience, draft.step = json.dumps(AUDIENCES[code]), "preview"
        elif action == "k":
            draft.ack_enabled = not draft.ack_enabled
        elif action == "ch":
            draft.step = "audience"
        elif action == "no":
            draft.status = BroadcastStatus.CANCELLED.value
        return "ok"


def _confirm(context: BotContext, broadcast_id: int, user_id: int, chat_id: int,
             message_id: int) -> broadcasts.Confirmed:
    with session_scope(context.engine) as session:
        return broadcasts.confirm(session, broadcast_id, user_id, progress_chat_id=chat_id,
                                  progress_message_id=message_id)


def _requeue(context: BotContext, broadcast_id: int, user_id: int) -> int | None:
    with session_scope(context.engine) as session:
        found = session.get(Broadcast, broadcast_id)
        if found is None or found.sender_user_id != user_id:
            return None
        return broadcasts.requeue_failed(session, broadcast_id)


def _acknowledge(context: BotContext, broadcast_id: int, user_id: int, chat_id: int, name: str) -> str:
    with session_scope(context.engine) as session:
        return broadcasts.acknowledge(session, broadcast_id, telegram_user_id=user_id,
                                      chat_id=chat_id, name=name)


def _sender_of(context: BotContext, broadcast_id: int) -> int | None:
    with session_scope(context.engine) as session:
        found = session.get(Broadcast, broadcast_id)
        return found.sender_user_id if found else None


def wake_dispatcher(context: BotContext) -> None:
    from scheduler import jobs

    if context.job_queue is not None:
        jobs.wake_soon(context.job_queue)


async def button(update: Update, context: BotContext) -> None:
    """Every ``bc:`` button. Who may press what is checked here, on the server."""
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    parts = query.data.split(":")
    action, broadcast_id, user = parts[1], int(parts[2]), query.from_user
    if action == "ack":
        outcome = await run_sync(_acknowledge, context, broadcast_id, user.id, query.message.chat.id,
                                 user.full_name)
        await query.answer({"new": _("Thank you: your confirmation is recorded."),
                            "again": _("You had already confirmed. Thank you.")}.get(
            outcome, _("This announcement does not collect confirmations.")))
        return
    if not await run_sync(_may, context, user.id):
        await query.answer(_("Only administrators and coordinators can send announcements."),
                           show_alert=True)
        return
    if action in ("rt", "who"):
        await _after(update, context, action, broadcast_id)
        return
    if action == "ok":
        await _send(update, context, broadcast_id)
        return
    outcome = await run_sync(_draft_action, context, broadcast_id, user.id, action,
                             parts[3] if len(parts) > 3 else "")
    await query.answer()
    if outcome == "gone":
        await _edit(query.edit_message_text(_("This draft is closed. Send /broadcast to start again.")))
    elif outcome == "agency":
        await _edit(query.edit_message_text(_("Send the code or the name of the agency or agency class.")))
    elif action == "no":
        await _edit(query.edit_message_text(_("Cancelled. Nothing was sent.")))
    elif action == "ch":
        await _edit(query.edit_message_text(_("Who should receive it?"),
                                            reply_markup=audience_keyboard(broadcast_id)))
    elif action == "k":
        preview = await run_sync(_preview, context, broadcast_id)
        if preview is not None and not preview.empty:
            await _edit(query.edit_message_text(preview.control,
                                                reply_markup=preview_keyboard(broadcast_id, preview.ack)))
    else:
        await _edit(query.edit_message_reply_markup(None))
        await send_preview(update, context, broadcast_id)


async def _send(update: Update, context: BotContext, broadcast_id: int) -> None:
    """Confirm: queue every recipient in one transaction; a second tap queues nothing."""
    query = update.callback_query
    assert query is not None and query.message is not None
    done = await run_sync(_confirm, context, broadcast_id, query.from_user.id,
                          query.message.chat.id, query.message.message_id)
    if done.outcome == "already":
        await query.answer(_("Already sent: nothing was sent twice."), show_alert=True)
        return
    if done.outcome == "unknown":
        await query.answer(_("This draft is closed. Send /broadcast to start again."), show_alert=True)
        return
    await query.answer()
    if done.outcome == "empty":
        await _edit(query.edit_message_text(_("Nobody would receive it any more. Choose another audience."),
                                            reply_markup=audience_keyboard(broadcast_id)))
        return
    await _edit(query.edit_message_text("📤 " + _("Sending the announcement…") + "\n" + _(
        "Sent {done} / {total}").format(done=format_number(0), total=format_number(done.recipients))))
    wake_dispatcher(context)


async def _after(update: Update, context: BotContext, action: str, broadcast_id: int) -> None:
    """The final report's buttons (the sender only): retry the failed, who received it."""
    query = update.callback_query
    assert query is not None
    if await run_sync(_sender_of, context, broadcast_id) != query.from_user.id:
        await query.answer(_("Only the sender can do this."), show_alert=True)
        return
    if action == "rt":
        count = await run_sync(_requeue, context, broadcast_id, query.from_user.id) or 0
        await query.answer(_("{n} messages queued again.").format(n=format_number(count)))
        if count:
            wake_dispatcher(context)
        return
    await query.answer()
    await broadcast_progress.refresh(context.bot, context.engine, broadcast_id,
                                     context.config.default_language, force=True)


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [
        CommandHandler("broadcast", broadcast_command),
        CallbackQueryHandler(button, pattern=r"^bc:(a|k|ok|ch|no|ack|rt|who):\d{1,12}(:\w{1,4})?$"),
    ]


def compose_handler() -> BaseHandler[Update, BotContext, None]:
    """Register in ``handlers.order.BROADCAST_DRAFT``: it stops later groups only when it took the message."""
    private = filters.ChatType.PRIVATE
    return MessageHandler(private & ((filters.TEXT & ~filters.COMMAND) | filters.Document.ALL),
                          compose_message)

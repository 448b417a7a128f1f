"""What every handler uses: the day, showing a Screen (edit or send), private-only replies."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from telegram import CallbackQuery, InputFile, Message, Update
from telegram.constants import CallbackQueryLimit, ChatType
from telegram.error import BadRequest

from domain.periods import Period
from models import reports as svc
from models import status as status_service
from models.db import run_sync
from models.reporting import Clock
from models.rollup import choose_period
from models.types import MAX_ROW_ID, utcnow
from scheduler import jobs
from scheduler.context import BotContext
from views import refusals
from views import reports as report_views
from views import status as status_views
from views.callbacks import BadCallbackData, CallbackData, decode
from views.html import clip
from views.screen import Attachment, Screen

log = logging.getLogger(__name__)


async def reply(update: Update, text: str) -> Message | None:
    """Answer in the chat the update came from."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text)


def today(context: BotContext) -> date:
    return utcnow().astimezone(context.config.tz).date()


def timeout(context: BotContext) -> timedelta:
    return timedelta(minutes=context.config.draft_timeout_minutes)


def clock(context: BotContext) -> Clock:
    """Now, today and the drafts' timeout, as the reporting services take them."""
    now = utcnow()
    return Clock(now, now.astimezone(context.config.tz).date(), timeout(context))


def fail(error: svc.ReportError, context: BotContext) -> Screen:
    text = report_views.error_text(error, timeout_minutes=context.config.draft_timeout_minutes)
    return Screen(text, toast=text)


# --------------------------------------------------------------------------- showing


def _words(context: BotContext) -> tuple[str | None, str]:
    """A ``/command [period] [plan]`` argument list: the period (the first word without a
    ``/``) and the plan's number (the first word with one, as in ``25/KH-UBND``)."""
    args = list(context.args or [])
    return (next((a for a in args if "/" not in a), None), next((a for a in args if "/" in a), ""))


async def period_argument(update: Update, context: BotContext) -> Period | None:
    """The period a ``/command [period]`` asks for (today's quarter without one); None: the
    argument named no period and the person was told so."""
    try:
        return choose_period(_words(context)[0], today(context), context.config.rules.due)
    except ValueError:
        await show(update, context, status_views.unknown_period())
        return None


async def plan_argument(update: Update, context: BotContext) -> int | None:
    """The plan a ``/command [period] NUMBER`` names, as its id (0: none named, so the only plan
    in force, or the choice); None: no plan has that number and the person was told so."""
    number = _words(context)[1]
    if not number:
        return 0
    try:
        return await run_sync(status_service.plan_id_of, context.engine, number)
    except status_service.Gone:
        await show(update, context, status_views.no_such_plan())
        return None


async def show(update: Update, context: BotContext, screen: Screen) -> None:
    """Answer the button (editing its message in place) or the message (with a new one); files
    go first. The one place that answers, edits, and handles "message is not modified"."""
    query = update.callback_query
    chat = update.effective_chat
    target = chat.id if chat is not None else (query.from_user.id if query is not None else None)
    if target is not None:
        for attachment in screen.files:
            await _send_file(context, target, attachment)
    if query is not None:
        await answer(query, screen.toast, alert=screen.alert)
        if screen.text and (screen.toast is None or screen.markup is not None or screen.new_message
                            or screen.edit):
            await _edit_or_send(query, context, screen)
    elif chat is not None and screen.text:  # no text: the files were the answer
        await chat.send_message(screen.text, reply_markup=screen.markup)
    if screen.queued:
        wake_dispatcher(context)


def wake_dispatcher(context: BotContext) -> None:
    """Rows were queued on the ledger for now (notices, a broadcast): run the dispatcher soon,
    if this process runs one (its clock is started); otherwise the next tick sends them."""
    queue = context.job_queue
    if queue is not None and queue.get_jobs_by_name(jobs.TICK):
        jobs.wake_soon(queue)


async def send(context: BotContext, chat_id: int, screen: Screen) -> Message | None:
    """``screen`` as new messages in ``chat_id`` (files first), whatever update is answered: for
    the screens after the first when one update shows several (a broadcast's preview)."""
    for attachment in screen.files:
        await _send_file(context, chat_id, attachment)
    if not screen.text:
        return None
    return await context.bot.send_message(chat_id, screen.text, reply_markup=screen.markup)


async def answer(query: CallbackQuery, text: str | None, *, alert: bool = False) -> None:
    """Answer a button press (stops its spinner); ``text`` clipped to what Telegram shows."""
    limit = CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH
    try:
        await query.answer(clip(text, limit) if text else None, show_alert=alert)
    except BadRequest as exc:  # too old: the user still sees the message we edit below
        log.info("callback answer refused: %s", exc)


async def edit(message: Message, screen: Screen) -> None:
    """Put ``screen`` in ``message``; an unchanged message is not an error."""
    try:
        await message.edit_text(screen.text, reply_markup=screen.markup)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def _edit_or_send(query: CallbackQuery, context: BotContext, screen: Screen) -> None:
    message = query.message
    if screen.new_message or not isinstance(message, Message):
        target = message.chat.id if message is not None else query.from_user.id
        await context.bot.send_message(target, screen.text, reply_markup=screen.markup)
        return
    await edit(message, screen)


async def _send_file(context: BotContext, chat_id: int, attachment: Attachment) -> None:
    document = (InputFile(attachment.content, filename=attachment.filename)
                if attachment.content is not None else attachment.file_id)
    if document is None:
        return
    try:
        if attachment.kind == "photo":
            await context.bot.send_photo(chat_id, document, caption=attachment.caption)
        else:
            await context.bot.send_document(chat_id, document, caption=attachment.caption)
    except BadRequest as exc:  # a file Telegram no longer has: the card lists it anyway
        log.warning("could not send file %s: %s", attachment.file_id or attachment.filename, exc)


async def decoded(update: Update, context: BotContext) -> CallbackData | None:
    """The pressed button's data, decoded with the codec; None when there is no callback query,
    or (answered "this has changed") when the data is no button of ours."""
    query = update.callback_query
    if query is None:
        return None
    try:
        return decode(query.data)
    except BadCallbackData:
        await show(update, context, refusals.changed())
        return None


async def decoded_in_private(update: Update, context: BotContext) -> CallbackData | None:
    """:func:`decoded`, for buttons that only work in the private chat (drafts, files): pressed
    in a group (a forwarded message), the presser is told "not allowed" and None comes back."""
    pressed = await decoded(update, context)
    if pressed is None:
        return None
    if not is_private(update):
        await show(update, context, refusals.not_allowed())
        return None
    return pressed


def is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE


async def private_only(update: Update, context: BotContext) -> bool:
    """In a group, answer with a link to the private chat; True if the caller should stop."""
    if is_private(update):
        return False
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(report_views.private_only_text(context.bot.username))
    return True


def ints(parts: list[str]) -> list[int] | None:
    try:
        values = [int(p) for p in parts]
    except ValueError:
        return None
    return values if all(0 <= v <= MAX_ROW_ID for v in values) else None



"""The one global error handler: log with the traceback, tell the admins (at most once per kind
of error per 10 minutes, with a count of the rest), apologise to the user.

A NUL character in what someone sent is not a failure: the models refuse it
(:class:`domain.text.NulCharacter`, before anything is written), and the sender is told so."""

from __future__ import annotations

import hashlib
import logging
import traceback
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import Forbidden, NetworkError, TelegramError
from telegram.ext import ApplicationHandlerStop

from domain.text import NulCharacter
from models.alerts import ALERT_INTERVAL, AlertRecipient, alert_recipients, claim_alert
from models.db import run_sync, session_scope
from models.types import utcnow
from scheduler.context import BotContext
from views.alerts import error_alert_text, nul_refused_text
from views.i18n import gettext as _
from views.i18n import use_locale

log = logging.getLogger(__name__)

_ROOT = Path(__file__).resolve().parents[1]
MAX_KIND = 128  # error_alert.kind
# Used only while the database cannot be reached (then its dedup state cannot be either).
_offline_alerts: dict[str, datetime] = {}


def error_kind(error: BaseException) -> str:
    """What makes two errors "the same kind": the exception type and the innermost place in
    dondoc's own code it came through (file and function, not the line, so that a kind
    survives small edits). Stable across restarts and instances."""
    frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    ours = [f for f in frames if f.filename.startswith(str(_ROOT)) and "site-packages" not in f.filename]
    place = ""
    if ours or frames:
        frame = (ours or frames)[-1]
        path = Path(frame.filename)
        where = path.relative_to(_ROOT) if path.is_relative_to(_ROOT) else Path(path.name)
        place = f" at {where.as_posix()}:{frame.name}"
    kind = f"{type(error).__module__}.{type(error).__qualname__}{place}"
    if len(kind) > MAX_KIND:
        digest = hashlib.sha256(kind.encode()).hexdigest()[:16]
        kind = f"{kind[:MAX_KIND - 17]}#{digest}"
    return kind


def _claim(context: BotContext, kind: str, now: datetime) -> tuple[int | None, list[AlertRecipient]]:
    with session_scope(context.engine) as session:
        suppressed = claim_alert(session, kind, now=now)
        if suppressed is None:
            return None, []
        return suppressed, alert_recipients(session, context.config.admin_user_ids)


def _claim_offline(context: BotContext, kind: str, now: datetime) -> tuple[int | None, list[AlertRecipient]]:
    """The database is down: limit alerts in this process, to the configured admins."""
    last = _offline_alerts.get(kind)
    if last is not None and now - last < ALERT_INTERVAL:
        return None, []
    _offline_alerts[kind] = now
    return 0, [AlertRecipient(chat_id, None) for chat_id in sorted(context.config.admin_user_ids)]


async def _tell_admins(context: BotContext, error: BaseException, update_id: int | None) -> None:
    kind, now = error_kind(error), utcnow()
    try:
        suppressed, recipients = await run_sync(_claim, context, kind, now)
    except SQLAlchemyError as exc:
        log.warning("error alerts: database unreachable (%s); limiting alerts in this process", exc)
        suppressed, recipients = _claim_offline(context, kind, now)
    if suppressed is None:
        log.info("error alert for %s held back (one per %s)", kind, ALERT_INTERVAL)
        return
    for recipient in recipients:
        with use_locale(recipient.language or context.config.default_language):
            text = error_alert_text(error_type=type(error).__name__, detail=str(error),
                                    update_id=update_id, suppressed=suppressed,
                                    interval_minutes=int(ALERT_INTERVAL.total_seconds() // 60))
        try:
            await context.bot.send_message(recipient.chat_id, text)
        except Forbidden:
            log.warning("admin %s cannot be told about errors (blocked the bot)", recipient.chat_id)
        except TelegramError:
            log.warning("could not tell admin %s about an error", recipient.chat_id)


async def _answer(update: object, text: str) -> None:
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await update.effective_chat.send_message(text)
        except TelegramError:
            log.warning("could not answer chat %s", update.effective_chat.id)


async def on_error(update: object, context: BotContext) -> None:
    """Log every unhandled error; admins get a one-line summary, the user an apology."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, NulCharacter):
        log.warning("refused a NUL character (update %s): %s", update_id, error)
        await _answer(update, nul_refused_text())
        raise ApplicationHandlerStop  # one answer: later handler groups do not see this message
    log.error("unhandled error (update %s)", update_id, exc_info=error)
    if isinstance(error, NetworkError) or error is None:
        return  # transient; PTB retries polling by itself
    await _answer(update, _("Sorry, something went wrong. The administrators have been told."))
    await _tell_admins(context, error, update_id)

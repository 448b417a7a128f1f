"""Live progress of broadcasts: one message per broadcast, edited at most every ~2 s, turned into
the final report when every ledger row is settled.

Everything is read from the database at each look (the ledger rows are the truth, the progress
message's ids are on the broadcast row), so after a restart the same message goes on being
edited. A compare-and-set on ``broadcast.progress_at`` lets one instance edit at a time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, update
from sqlmodel import Session, col
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes, JobQueue

from models import broadcasts
from models.db import run_sync, session_scope
from models.tables import Broadcast, BroadcastStatus, Member
from models.types import utcnow
from scheduler.context import BotApplication, BotContext
from views import broadcasts as broadcast_text
from views.i18n import use_locale

log = logging.getLogger(__name__)

JOB = "broadcast-progress"
EVERY = 5.0  # seconds between looks, and the least time between two edits of one message


@dataclass(frozen=True)
class Shown:
    broadcast_id: int
    chat_id: int
    message_id: int | None
    text: str
    markup: InlineKeyboardMarkup | None
    pending: bool


def _language(session: Session, broadcast: Broadcast, default: str) -> str:
    member = session.get(Member, broadcast.sender_id) if broadcast.sender_id else None
    return (member.language if member and member.language else None) or default


def render(engine: Engine, broadcast_id: int, now: datetime, default_language: str, *,
           force: bool = False) -> Shown | None:
    """What the progress message should say now, or None when nothing needs editing."""
    with session_scope(engine) as session:
        broadcast = session.get(Broadcast, broadcast_id)
        if broadcast is None:
            return None
        p = broadcasts.progress(session, broadcast_id)
        final = p.settled and broadcast.status in broadcasts.OPEN
        if final:
            flipped = session.execute(update(Broadcast).where(
                col(Broadcast.id) == broadcast_id, col(Broadcast.status).in_(broadcasts.OPEN))
                .values(status=BroadcastStatus.DONE.value, finished_at=now, progress_at=now,
                        progress_shown=p.key()))
            if not flipped.rowcount:  # type: ignore[attr-defined]
                return None  # another instance finished it
        elif not force:
            if p.key() == broadcast.progress_shown or broadcast.status not in broadcasts.OPEN:
                return None
            if not broadcasts.take_progress_turn(session, broadcast_id, now, EVERY * 0.9):
                return None
            broadcast.progress_shown, broadcast.status = p.key(), BroadcastStatus.SENDING.value
        with use_locale(_language(session, broadcast, default_language)):
            if broadcast.status == BroadcastStatus.DONE.value or final:
                acks = broadcasts.acks_by_agency(session, broadcast_id) if broadcast.ack_enabled else None
                text, markup = broadcast_text.final_text(p, acks), broadcast_text.final_markup(broadcast, p)
            else:
                text, markup = broadcast_text.progress_text(p), None
        return Shown(broadcast_id, broadcast.progress_chat_id or broadcast.sender_user_id,
                     broadcast.progress_message_id, text, markup, bool(p.pending))


def _open_ids(engine: Engine) -> list[int]:
    with session_scope(engine) as session:
        return [b.id for b in broadcasts.open_broadcasts(session) if b.id is not None]


def _store_message(engine: Engine, broadcast_id: int, chat_id: int, message_id: int) -> None:
    with session_scope(engine) as session:
        session.execute(update(Broadcast).where(col(Broadcast.id) == broadcast_id)
                        .values(progress_chat_id=chat_id, progress_message_id=message_id))


async def show(bot: Bot, engine: Engine, shown: Shown) -> None:
    """Edit the progress message; if it is gone, post a new one and remember it."""
    if shown.message_id is not None:
        try:
            await bot.edit_message_text(shown.text, chat_id=shown.chat_id,
                                        message_id=shown.message_id, reply_markup=shown.markup)
            return
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return
            log.info("progress message of broadcast %s cannot be edited (%s): posting a new one",
                     shown.broadcast_id, exc.message)
        except Forbidden:
            return  # the sender blocked the bot: nobody to show it to
    try:
        message = await bot.send_message(shown.chat_id, shown.text, reply_markup=shown.markup)
    except TelegramError as exc:
        log.warning("cannot show progress of broadcast %s: %s", shown.broadcast_id, exc)
        return
    await run_sync(_store_message, engine, shown.broadcast_id, shown.chat_id, message.message_id)


async def refresh(bot: Bot, engine: Engine, broadcast_id: int, default_language: str, *,
                  force: bool = False) -> Shown | None:
    shown = await run_sync(render, engine, broadcast_id, utcnow(), default_language, force=force)
    if shown is not None:
        await show(bot, engine, shown)
    return shown


async def watch(context: BotContext) -> None:
    """Look at every open broadcast: edit its progress, finish it, keep the dispatcher awake."""
    from scheduler import jobs

    pending = False
    for broadcast_id in await run_sync(_open_ids, context.engine):
        shown = await refresh(context.bot, context.engine, broadcast_id,
                              context.config.default_language)
        pending = pending or shown is None or shown.pending
    if pending and not context.bot_data.dispatch_lock.locked() and context.job_queue is not None:
        jobs.wake_soon(context.job_queue)


def start(app: BotApplication) -> None:
    job_queue: JobQueue[ContextTypes.DEFAULT_TYPE] | None = app.job_queue  # type: ignore[assignment]
    if job_queue is None:
        return
    job_queue.run_repeating(watch, interval=EVERY, first=1.0, name=JOB,  # type: ignore[arg-type]
                            job_kwargs={"max_instances": 1, "coalesce": True,
                                        "misfire_grace_time": None})

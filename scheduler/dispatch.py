"""The dispatcher: claims due ledger rows, sends them, records the outcome.

The ledger (``delivery``) is the only truth. A claim marks rows ``sending`` in its own committed
transaction; the outcome is committed right after Telegram answers. If the process dies in
between, the claim's lease runs out and the rows are sent again: that is the single window in
which a duplicate is possible (at most one per crash). With PostgreSQL, claims lock rows with
``FOR UPDATE SKIP LOCKED``, so concurrent instances never claim the same row.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from domain.rules import ScheduleRules
from domain.slots import is_quiet, shift_out_of_quiet
from models.broadcasts import copies as broadcast_copies
from models.db import run_sync, session_scope
from models.groups import migrate_by_id, note_send_error
from models.ledger import REVIEW_NOTICE, queue_notices, reachable_coordinators
from models.tables import (
    OPEN_STATES,
    Agency,
    Delivery,
    DeliveryState,
    Item,
    Member,
    Report,
    Task,
)
from models.types import utcnow
from scheduler.digests import DIGEST, digest_language, render_digest
from views.broadcasts import broadcast_messages
from views.reminders import (
    ReminderLine,
    render_reminder,
    render_review_notice,
    render_unreachable_notice,
)

log = logging.getLogger(__name__)

CLAIM_LIMIT = 200
# Network errors and 5xx are retried with backoff (5 s doubling to 10 min): about 2.5 hours
# of attempts before a message is given up as failed. 429s never count as attempts.
MAX_ATTEMPTS = 20
NOTICE = "notice"
BROADCAST = "broadcast"
QUIET_KINDS = ("reminder", NOTICE, "digest")


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Outgoing:
    """One message to send: the rows it settles, and what it says."""

    chat_id: int
    row_ids: list[int]
    member_id: int | None
    text: str
    markup: InlineKeyboardMarkup | None
    document: str | None = None  # a file_id: sent as a document with ``text`` as caption
    silent: bool = False  # sent without a notification sound
    keys: list[str] = field(default_factory=list)  # the ledger keys, for the logs
    # Who claimed the rows and when: the send goes out only if the claim still stands.
    claimed_by: str = ""
    claimed_at: datetime | None = None


@dataclass
class DispatchStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    blocked: int = 0
    errors: list[str] = field(default_factory=list)


# --- database steps (run in a worker thread) ----------------------------------------------

def _tidy(session: Session, now: datetime, rules: ScheduleRules) -> None:
    """Collapse reminders missed beyond the grace window, recover expired claims, and drop
    reminders whose item was reported meanwhile."""
    pending = col(Delivery.state) == DeliveryState.PENDING.value
    session.execute(update(Delivery).where(
        pending, col(Delivery.kind) == "reminder", col(Delivery.slot_at) < now - rules.grace)
        .values(state=DeliveryState.SKIPPED.value, last_error="missed by more than the grace window"))
    session.execute(update(Delivery).where(
        col(Delivery.state) == DeliveryState.SENDING.value, col(Delivery.claimed_at) < now - rules.lease)
        .values(state=DeliveryState.PENDING.value, claimed_by=None))
    closed = select(Item.id).where(col(Item.state).not_in(OPEN_STATES))
    session.execute(update(Delivery).where(
        pending, col(Delivery.kind) == "reminder", col(Delivery.item_id).in_(closed))
        .values(state=DeliveryState.SKIPPED.value, last_error="item no longer open"))


CLAIM_CHATS = 50  # PostgreSQL claims whole chats: this many at a time


def _due_query(now: datetime, rules: ScheduleRules) -> Any:
    query = select(Delivery).where(col(Delivery.state) == DeliveryState.PENDING.value,
                                   col(Delivery.next_attempt_at) <= now)
    if is_quiet(now.astimezone(rules.tz), rules.policy):
        query = query.where(col(Delivery.kind).not_in(QUIET_KINDS))
    return query


def _claim_rows_one_instance(session: Session, now: datetime, rules: ScheduleRules) -> list[Delivery]:
    """SQLite: one instance per file, so a plain read is a claim."""
    query = _due_query(now, rules).order_by(col(Delivery.chat_id), col(Delivery.next_attempt_at))
    rows = list(session.exec(query.limit(CLAIM_LIMIT)))
    if len(rows) == CLAIM_LIMIT and rows[0].chat_id != rows[-1].chat_id:
        # The limit may have cut the last person's rows in two: leave theirs for the next round,
        # so that they get one message, not two.
        rows = [r for r in rows if r.chat_id != rows[-1].chat_id]
    return rows


def _claim_rows_shared(session: Session, now: datetime, rules: ScheduleRules) -> list[Delivery]:
    """PostgreSQL, where several instances may claim at once: a chat is claimed whole, under a
    transaction-scoped advisory lock on its id, so one person's rows never end up in two
    instances' messages; the rows are also locked (FOR UPDATE) against other writers."""
    due = _due_query(now, rules).subquery()
    # Chats another instance is claiming right now still look pending: try past them.
    candidates = list(session.exec(select(due.c.chat_id).distinct().order_by(due.c.chat_id)
                                   .limit(CLAIM_CHATS * 4)))
    won: list[int] = []
    for chat in candidates:
        if session.execute(select(func.pg_try_advisory_xact_lock(chat))).scalar():
            won.append(chat)
            if len(won) == CLAIM_CHATS:
                break
    if not won:
        return []
    query = (_due_query(now, rules).where(col(Delivery.chat_id).in_(won))
             .order_by(col(Delivery.chat_id), col(Delivery.next_attempt_at)).with_for_update())
    return list(session.exec(query))


def _claim_rows(session: Session, now: datetime, rules: ScheduleRules, instance: str) -> list[Delivery]:
    if session.get_bind().dialect.name == "postgresql":
        rows = _claim_rows_shared(session, now, rules)
    else:
        rows = _claim_rows_one_instance(session, now, rules)
    for row in rows:
        row.state, row.claimed_by, row.claimed_at = DeliveryState.SENDING.value, instance, now
        row.attempts += 1
    session.flush()
    return rows


def _reminder_lines(session: Session, item_ids: list[int]) -> dict[int, ReminderLine]:
    query = (select(Item, Task, Agency).join(Task, col(Task.id) == Item.task_id)
             .join(Agency, col(Agency.id) == Item.agency_id).where(col(Item.id).in_(item_ids)))
    return {item.id: ReminderLine(item.id, task.code, task.task, agency.name, item.due_on)
            for item, task, agency in session.exec(query) if item.id is not None}


def _language(member: Member | None, default: str) -> str:
    return member.language if member is not None and member.language else default


def _build(session: Session, rows: list[Delivery], now: datetime, rules: ScheduleRules,
           default_language: str) -> list[Outgoing]:
    lines = _reminder_lines(session, [r.item_id for r in rows if r.item_id is not None])
    members = {m.id: m for m in session.exec(
        select(Member).where(col(Member.id).in_([r.member_id for r in rows if r.member_id])))}
    today = now.astimezone(rules.tz).date()
    groups: dict[tuple[int, str], list[Delivery]] = defaultdict(list)
    for row in rows:
        groups[(row.chat_id, row.kind if row.kind != "reminder" else f"r:{row.audience}")].append(row)
    out = []
    for (chat_id, group), members_rows in groups.items():
        first = members_rows[0]
        member = members.get(first.member_id)
        language = _language(member, default_language)
        if group.startswith("r:"):
            found = [lines[r.item_id] for r in members_rows if r.item_id in lines]
            unique = list({ln.item_id: ln for ln in found}.values())
            message = render_reminder(unique, audience=first.audience, language=language, today=today)
            out.append(Outgoing(chat_id, [r.id for r in members_rows if r.id], first.member_id,
                                message.text, message.markup))
        elif first.kind == NOTICE:
            out.extend(_notice(session, r, language) for r in members_rows)
        elif first.kind == DIGEST:
            out.extend(o for r in members_rows for o in _digest(session, r, member, default_language, rules))
        elif first.kind == BROADCAST:
            # Not held back by quiet hours (the sender is watching it go out), but silent then.
            quiet = is_quiet(now.astimezone(rules.tz), rules.policy)
            out.extend(Outgoing(m.chat_id, [m.row_id], m.member_id, m.text, m.markup,
                                document=m.document, silent=quiet)
                       for m in broadcast_messages(broadcast_copies(session, members_rows, default_language)))
    return out


def _digest(session: Session, row: Delivery, member: Member | None, default_language: str,
            rules: ScheduleRules) -> list[Outgoing]:
    """A leaders' digest, rendered now in the recipient's language (scheduler/digests.py)."""
    language = digest_language(session, row, member, default_language)
    text = render_digest(session, row, language, rules.tz)
    return [Outgoing(row.chat_id, [row.id], row.member_id, text, None)] if text and row.id else []


def _notice(session: Session, row: Delivery, language: str) -> Outgoing:
    assert row.id is not None
    if row.slot_kind == REVIEW_NOTICE:
        return Outgoing(row.chat_id, [row.id], row.member_id, _review_notice(session, row, language), None)
    subject = session.get(Member, row.ref_id) if row.ref_id else None
    agency = session.get(Agency, subject.agency_id) if subject and subject.agency_id else None
    text = render_unreachable_notice(member_name=subject.full_name if subject else "?",
                                     agency=agency.name if agency else "-", language=language)
    assert row.id is not None
    return Outgoing(row.chat_id, [row.id], row.member_id, text, None)


def _review_notice(session: Session, row: Delivery, language: str) -> str:
    found = session.exec(select(Task.code, Agency.name).select_from(Report)
                         .join(Item, col(Item.id) == Report.item_id)
                         .join(Task, col(Task.id) == Item.task_id)
                         .join(Agency, col(Agency.id) == Item.agency_id)
                         .where(col(Report.id) == row.ref_id)).first()
    code, agency = found if found is not None else ("?", "-")
    return render_review_notice(code=code, agency=agency, language=language)


def claim(engine: Engine, now: datetime, rules: ScheduleRules, instance: str,
          default_language: str) -> list[Outgoing]:
    """Tidy the ledger and claim what is due now, already rendered (one committed transaction)."""
    with session_scope(engine) as session:
        # Its own short transaction: row locks taken here are not held through the claim.
        _tidy(session, now, rules)
    with session_scope(engine) as session:
        rows = _claim_rows(session, now, rules, instance)
        if not rows:
            return []
        outgoing = _build(session, rows, now, rules, default_language)
        rendered = {rid for o in outgoing for rid in o.row_ids}
        key_of = {row.id: row.key for row in rows}
        for out in outgoing:
            out.keys = [key_of[rid] for rid in out.row_ids if rid in key_of]
            out.claimed_by, out.claimed_at = instance, now
        for row in rows:
            if row.id not in rendered:  # e.g. its item vanished: nothing to say
                row.state, row.last_error = DeliveryState.SKIPPED.value, "nothing to render"
        return outgoing


def _set(session: Session, ids: list[int], **values: object) -> None:
    session.execute(update(Delivery).where(col(Delivery.id).in_(ids)).values(**values))


def record_sent(engine: Engine, out: Outgoing, message_id: int, now: datetime) -> None:
    with session_scope(engine) as session:
        _set(session, out.row_ids, state=DeliveryState.SENT.value, message_id=message_id, sent_at=now,
             last_error="")


def record_retry(engine: Engine, out: Outgoing, at: datetime, error: str, *,
                 counts: bool = True) -> None:
    """Back to pending for a later attempt; after MAX_ATTEMPTS it is failed instead.

    ``counts=False`` (Telegram asked us to slow down) does not use up an attempt."""
    with session_scope(engine) as session:
        rows = list(session.exec(select(Delivery).where(col(Delivery.id).in_(out.row_ids))))
        for row in rows:
            if not counts:
                row.attempts = max(0, row.attempts - 1)
            exhausted = counts and row.attempts >= MAX_ATTEMPTS
            row.state = DeliveryState.FAILED.value if exhausted else DeliveryState.PENDING.value
            row.next_attempt_at, row.last_error, row.claimed_by = at, error[:500], None


def record_failed(engine: Engine, out: Outgoing, error: str) -> None:
    with session_scope(engine) as session:
        _set(session, out.row_ids, state=DeliveryState.FAILED.value, last_error=error[:500])


def record_blocked(engine: Engine, out: Outgoing, error: str, now: datetime) -> None:
    """The user blocked the bot: stop sending to them and tell the coordinators once."""
    with session_scope(engine) as session:
        _set(session, out.row_ids, state=DeliveryState.BLOCKED.value, last_error=error[:500])
        member = session.get(Member, out.member_id) if out.member_id else None
        if member is None:
            return
        if member.unreachable_at is None:
            member.unreachable_at = now
        # Everything else queued for them would fail the same way.
        session.execute(update(Delivery).where(
            col(Delivery.member_id) == member.id, col(Delivery.state) == DeliveryState.PENDING.value)
            .values(state=DeliveryState.BLOCKED.value, last_error="recipient unreachable"))
        _queue_unreachable_notices(session, member, now)


def _queue_unreachable_notices(session: Session, member: Member, now: datetime) -> None:
    assert member.id is not None
    queue_notices(session, key=f"unreachable:{member.id}", detail="", subject_id=member.id,
                  recipients=reachable_coordinators(session, besides=member.id), now=now)


def next_due(engine: Engine, now: datetime | None = None,
             rules: ScheduleRules | None = None) -> datetime | None:
    """When the earliest pending row becomes sendable (to wake the dispatcher then).

    During quiet hours reminders and notices wait for the quiet hours' end, so that is when
    they become sendable (not the slot they missed)."""
    pending = col(Delivery.state) == DeliveryState.PENDING.value
    earliest = func.min(Delivery.next_attempt_at)
    with session_scope(engine) as session:
        if now is None or rules is None or not is_quiet(now.astimezone(rules.tz), rules.policy):
            return session.exec(select(earliest).where(pending)).one()
        loud = session.exec(select(earliest).where(pending, col(Delivery.kind).not_in(QUIET_KINDS))).one()
        quiet = session.exec(select(earliest).where(pending, col(Delivery.kind).in_(QUIET_KINDS))).one()
    if quiet is not None:
        quiet = max(quiet, shift_out_of_quiet(now.astimezone(rules.tz), rules.policy))
    found = [d for d in (loud, quiet) if d is not None]
    return min(found) if found else None


# --- sending ------------------------------------------------------------------------------

def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _retry_after(exc: RetryAfter) -> float:
    """Seconds Telegram asked us to wait (read without PTB 22's int/timedelta transition warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return _seconds(exc.retry_after)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 5 * 2 ** max(0, attempts - 1)))


def still_mine(engine: Engine, out: Outgoing, now: datetime) -> bool:
    """Renew the claim on ``out``'s rows if it still stands; False if it lapsed meanwhile.

    A claim lapses when its rows wait longer than the lease (a slow batch, long 429 pauses)
    and another claim, of this instance or another, has taken them back: then that claim
    sends them, and this one must not. Renewing right before the send means the lease only
    has to cover one send."""
    if out.claimed_at is None:
        return True
    with session_scope(engine) as session:
        result = session.execute(
            update(Delivery).where(col(Delivery.id).in_(out.row_ids),
                                   col(Delivery.state) == DeliveryState.SENDING.value,
                                   col(Delivery.claimed_by) == out.claimed_by,
                                   col(Delivery.claimed_at) == out.claimed_at)
            .values(claimed_at=now))
        renewed = result.rowcount == len(out.row_ids)  # type: ignore[attr-defined]
        if not renewed:
            session.rollback()
        return renewed


async def _send_one(bot: Bot, engine: Engine, out: Outgoing, stats: DispatchStats) -> float:
    """Send one message and record the outcome; returns seconds to pause (429) or 0."""
    if not await run_sync(still_mine, engine, out, utcnow()):
        log.info("claim of %s lapsed; left to the claim that took it over", out.keys,
                 extra={"ledger_key": ",".join(out.keys), "chat_id": out.chat_id})
        return 0.0
    try:
        if out.document:
            message = await bot.send_document(out.chat_id, out.document, caption=out.text or None,
                                              reply_markup=out.markup,
                                              disable_notification=out.silent or None)
        else:
            message = await bot.send_message(out.chat_id, out.text, reply_markup=out.markup,
                                             disable_notification=out.silent or None)
    except TelegramError as exc:
        _log_outcome(out, exc)
        return await _record_error(engine, out, exc, stats)
    else:
        await run_sync(record_sent, engine, out, message.message_id, utcnow())
        stats.sent += 1
        _log_outcome(out, None)
    return 0.0


def _log_outcome(out: Outgoing, error: TelegramError | None) -> None:
    extra = {"ledger_key": ",".join(out.keys), "chat_id": out.chat_id}
    if error is None:
        log.debug("sent %s to %s", out.keys, out.chat_id, extra=extra)
    else:
        log.warning("send of %s to %s failed: %s", out.keys, out.chat_id, error, extra=extra)


async def _record_error(engine: Engine, out: Outgoing, exc: TelegramError,
                        stats: DispatchStats) -> float:
    """Record what Telegram's refusal means for these rows; returns seconds to pause (429)."""
    if isinstance(exc, ChatMigrated):  # the group became a supergroup: its rows follow, sent again now
        await run_sync(migrate_by_id, engine, out.chat_id, exc.new_chat_id)
        await run_sync(record_retry, engine, out, utcnow(), str(exc), counts=False)
        stats.retried += 1
    elif isinstance(exc, RetryAfter):
        delay = _retry_after(exc)
        await run_sync(record_retry, engine, out, utcnow() + timedelta(seconds=delay), str(exc),
                       counts=False)
        stats.retried += 1
        return float(delay)
    elif isinstance(exc, Forbidden):
        await run_sync(record_blocked, engine, out, exc.message, utcnow())
        await run_sync(note_send_error, engine, out.chat_id, exc.message)  # a group we left?
        stats.blocked += 1
    elif isinstance(exc, BadRequest):
        await run_sync(record_failed, engine, out, exc.message)
        await run_sync(note_send_error, engine, out.chat_id, exc.message)
        stats.failed += 1
        stats.errors.append(exc.message)
    else:  # 5xx, timeouts, connection errors (NetworkError and the rest): back off and retry
        attempts = await run_sync(_attempts, engine, out)
        await run_sync(record_retry, engine, out, utcnow() + _backoff(attempts), str(exc))
        stats.retried += 1
    return 0.0


def _attempts(engine: Engine, out: Outgoing) -> int:
    with session_scope(engine) as session:
        return max((r.attempts for r in session.exec(
            select(Delivery).where(col(Delivery.id).in_(out.row_ids)))), default=1)


# Messages in flight at once. The rate limiter still spaces them (30 a second, 20 a minute per
# group); overlapping them hides each one's round trip and bookkeeping, so the limiter, not the
# dispatcher, sets the pace.
IN_FLIGHT = 1


class _Batch:
    """One claimed batch being sent: per chat in order, chats side by side."""

    def __init__(self, outgoing: list[Outgoing]) -> None:
        self.waiting: dict[int, list[Outgoing]] = defaultdict(list)
        for out in outgoing:
            self.waiting[out.chat_id].append(out)
        self.pause = 0.0
        self.stopped = False

    def unsent(self) -> list[Outgoing]:
        return [out for outs in self.waiting.values() for out in outs]


async def _send_chat(bot: Bot, engine: Engine, batch: _Batch, chat_id: int, stats: DispatchStats,
                     slots: asyncio.Semaphore, keep_going: Callable[[], bool] | None) -> None:
    queue = batch.waiting[chat_id]
    while queue:
        async with slots:
            if batch.pause or batch.stopped:
                return  # the rest is given back by the caller
            if keep_going is not None and not keep_going():
                batch.stopped = True
                return
            out = queue.pop(0)
            pause = await _send_one(bot, engine, out, stats)
            batch.pause = max(batch.pause, pause)


async def _send_batch(bot: Bot, engine: Engine, outgoing: list[Outgoing], stats: DispatchStats,
                      keep_going: Callable[[], bool] | None) -> _Batch:
    batch = _Batch(outgoing)
    slots = asyncio.Semaphore(IN_FLIGHT)
    await asyncio.gather(*(_send_chat(bot, engine, batch, chat_id, stats, slots, keep_going)
                           for chat_id in list(batch.waiting)))
    return batch


async def dispatch_due(bot: Bot, engine: Engine, rules: ScheduleRules, *, default_language: str,
                       instance: str | None = None, max_rounds: int = 50,
                       keep_going: Callable[[], bool] | None = None) -> DispatchStats:
    """Send everything due now, batch after batch, honouring Telegram's pauses.

    The next batch is claimed while the current one is being sent, so the limiter never idles.
    ``keep_going`` is asked before each message; when it says no (the bot is stopping), the
    rows claimed but not sent are given back at once, so a restart sends them without waiting
    for the lease to run out. After a 429 the unsent rest is given back for after the pause."""
    stats = DispatchStats()
    me = instance or instance_name()

    def claim_next() -> asyncio.Task[list[Outgoing]]:
        return asyncio.ensure_future(run_sync(claim, engine, utcnow(), rules, me, default_language))

    upcoming: asyncio.Task[list[Outgoing]] | None = claim_next()
    rounds = 0
    while upcoming is not None:
        outgoing = await upcoming
        upcoming = None
        if not outgoing and rounds:
            # Claimed ahead of the last batch: look once more for rows that batch queued
            # (e.g. coordinators' notices about a blocked user).
            outgoing = await claim_next()
        if not outgoing:
            break
        rounds += 1
        if rounds < max_rounds:
            upcoming = claim_next()
        batch = await _send_batch(bot, engine, outgoing, stats, keep_going)
        if not (batch.pause or batch.stopped):
            continue
        held = batch.unsent()
        if upcoming is not None:
            held += await upcoming
            upcoming = None
        await run_sync(_release, engine, held, utcnow() + timedelta(seconds=batch.pause))
        if batch.stopped:
            break
        await asyncio.sleep(batch.pause)
        if rounds < max_rounds:
            upcoming = claim_next()
    return stats


def _release(engine: Engine, held: list[Outgoing], at: datetime) -> None:
    """Claimed but not sent: back to pending (the attempt does not count). Only rows whose
    claim still stands are touched: a lapsed claim's rows belong to whoever took them over."""
    if not held:
        return
    with session_scope(engine) as session:
        for out in held:
            rows = session.exec(select(Delivery).where(
                col(Delivery.id).in_(out.row_ids), col(Delivery.state) == DeliveryState.SENDING.value,
                col(Delivery.claimed_by) == out.claimed_by, col(Delivery.claimed_at) == out.claimed_at))
            for row in rows:
                row.state, row.claimed_by, row.next_attempt_at = DeliveryState.PENDING.value, None, at
                row.attempts = max(0, row.attempts - 1)

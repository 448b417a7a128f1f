"""The dispatcher: claim (commit), then render (no locks held), then send, recording each outcome.

The ledger (``delivery``, every statement in models/ledger.py) is the only truth. A claim marks
rows ``sending`` in its own committed transaction; rendering reads in a session of its own
(scheduler/outgoing.py). Right before each send one transaction records the previous message as
sent and renews the claim of this one (:func:`models.ledger.advance`): if the process dies
after Telegram accepted a message and before that commit, the claim's lease runs out and that
one message is sent again; that is the only duplicate possible (at most one per crash). With
PostgreSQL, claims take whole chats under an advisory lock and lock their rows, so concurrent
instances never claim the same row.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
)

from domain.rules import ScheduleRules
from domain.slots import is_quiet, shift_out_of_quiet
from models import ledger
from models.db import run_sync
from models.groups import migrate_by_id, note_send_error
from models.ledger import Held, Renewal, Sent
from models.types import utcnow
from scheduler.outgoing import Outgoing, RenderCache, render
from scheduler.pacing import bulk_args, retry_after

log = logging.getLogger(__name__)

__all__ = ["DispatchStats", "Outgoing", "claim", "dispatch_due", "instance_name", "next_due"]


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class DispatchStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    blocked: int = 0
    dropped: int = 0  # notices gone stale before their turn came
    errors: list[str] = field(default_factory=list)


def claim(engine: Engine, now: datetime, rules: ScheduleRules, instance: str,
          default_language: str, cache: RenderCache | None = None) -> list[Outgoing]:
    """Tidy the ledger, claim what is due now (committed), then render it (no locks held).
    Rows with nothing to say are settled as skipped."""
    ledger.tidy(engine, now, grace=rules.grace, lease=rules.lease)
    claimed = ledger.claim(engine, now, instance, quiet=is_quiet(now.astimezone(rules.tz), rules.policy))
    if not claimed.rows:
        return []
    outgoing, empty = render(engine, claimed, now, rules, default_language, cache or RenderCache())
    for held in empty:  # e.g. its item or report vanished
        ledger.skip(engine, held, "nothing to render")
    return outgoing


def next_due(engine: Engine, now: datetime | None = None,
             rules: ScheduleRules | None = None) -> datetime | None:
    """When the earliest pending row becomes sendable (to wake the dispatcher then); during
    quiet hours reminders, notices and digests wait for the quiet hours' end."""
    quiet_until = None
    if now is not None and rules is not None and is_quiet(now.astimezone(rules.tz), rules.policy):
        quiet_until = shift_out_of_quiet(now.astimezone(rules.tz), rules.policy)
    return ledger.next_due(engine, quiet_until=quiet_until)


# --- sending ------------------------------------------------------------------------------

def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 5 * 2 ** max(0, attempts - 1)))


def _log_outcome(out: Outgoing, error: TelegramError | None) -> None:
    if error is None and not log.isEnabledFor(logging.DEBUG):
        return
    extra = {"ledger_key": ",".join(out.keys), "chat_id": out.chat_id}
    if error is None:
        log.debug("sent %s to %s", out.keys, out.chat_id, extra=extra)
    else:
        log.warning("send of %s to %s failed: %s", out.keys, out.chat_id, error, extra=extra)


class Sender:
    """Sends claimed messages one after the other. The outcome "sent" of one message is recorded
    in the transaction that renews the claim of the next (one commit per message); whatever is
    left unrecorded is committed by :meth:`flush`."""

    def __init__(self, bot: Bot, engine: Engine, stats: DispatchStats) -> None:
        self.bot, self.engine, self.stats = bot, engine, stats
        self.unrecorded: Sent | None = None
        self.lane = bulk_args(bot)  # behind replies to people (scheduler/pacing.py)

    async def flush(self) -> None:
        if self.unrecorded is not None:
            await run_sync(ledger.settle_sent, self.engine, self.unrecorded)
            self.unrecorded = None

    async def send(self, out: Outgoing) -> float:
        """Send one message if its claim still stands; returns seconds to pause (429) or 0."""
        now = utcnow()
        renewal = await run_sync(ledger.advance, self.engine, self.unrecorded, out.held, now, out.check)
        self.unrecorded = None
        if renewal is not Renewal.MINE:
            extra = {"ledger_key": ",".join(out.keys), "chat_id": out.chat_id}
            if renewal is Renewal.STALE:
                log.info("notice %s went stale before it was sent; dropped", out.keys, extra=extra)
                self.stats.dropped += 1
            else:
                log.info("claim of %s lapsed; left to the claim that took it over", out.keys, extra=extra)
            return 0.0
        out.held = Held(out.held.ids, out.held.by, now)  # renewed
        try:
            if out.document:
                message = await self.bot.send_document(out.chat_id, out.document, caption=out.text or None,
                                                       reply_markup=out.markup,
                                                       disable_notification=out.silent or None,
                                                       **self.lane)
            else:
                message = await self.bot.send_message(out.chat_id, out.text, reply_markup=out.markup,
                                                      disable_notification=out.silent or None,
                                                      **self.lane)
        except TelegramError as exc:
            _log_outcome(out, exc)
            return await self._refused(out, exc)
        self.unrecorded = Sent(out.held.ids, message.message_id, utcnow())
        self.stats.sent += 1
        _log_outcome(out, None)
        return 0.0

    async def _refused(self, out: Outgoing, exc: TelegramError) -> float:
        """Record what Telegram's refusal means for these rows; returns seconds to pause (429)."""
        engine, stats = self.engine, self.stats
        if isinstance(exc, ChatMigrated):  # the group became a supergroup: its rows follow, sent again now
            await run_sync(migrate_by_id, engine, out.chat_id, exc.new_chat_id)
            await run_sync(ledger.retry, engine, out.held, utcnow(), str(exc), counts=False)
            stats.retried += 1
        elif isinstance(exc, RetryAfter):  # not an attempt: Telegram asked us to slow down
            delay = retry_after(exc)
            await run_sync(ledger.retry, engine, out.held, utcnow() + timedelta(seconds=delay), str(exc),
                           counts=False)
            stats.retried += 1
            return float(delay)
        elif isinstance(exc, Forbidden):  # blocked by the person, or a group we left
            await run_sync(ledger.block, engine, out.row_ids, out.member_id, exc.message, utcnow())
            await run_sync(note_send_error, engine, out.chat_id, exc.message)
            stats.blocked += 1
        elif isinstance(exc, BadRequest):
            await run_sync(ledger.fail, engine, out.row_ids, exc.message)
            await run_sync(note_send_error, engine, out.chat_id, exc.message)
            stats.failed += 1
            stats.errors.append(exc.message)
        else:  # 5xx, timeouts, connection errors (NetworkError and the rest): back off and retry
            await run_sync(ledger.retry, engine, out.held, utcnow() + _backoff(out.attempts), str(exc))
            stats.retried += 1
        return 0.0


def _round_robin(outgoing: list[Outgoing]) -> list[Outgoing]:
    """Per chat in order, chats taking turns (one person's second message does not hold up
    everyone else's first behind that chat's pacing)."""
    queues: dict[int, list[Outgoing]] = {}
    for out in outgoing:
        queues.setdefault(out.chat_id, []).append(out)
    order: list[Outgoing] = []
    depth = 0
    while len(order) < len(outgoing):
        order += [q[depth] for q in queues.values() if depth < len(q)]
        depth += 1
    return order


@dataclass
class _Outcome:
    pause: float = 0.0  # a 429: seconds to wait
    stopped: bool = False  # the bot is stopping
    unsent: list[Outgoing] = field(default_factory=list)


async def _send_batch(sender: Sender, outgoing: list[Outgoing],
                      keep_going: Callable[[], bool] | None) -> _Outcome:
    order = _round_robin(outgoing)
    try:
        for index, out in enumerate(order):
            if keep_going is not None and not keep_going():
                return _Outcome(stopped=True, unsent=order[index:])
            pause = await sender.send(out)
            if pause:
                return _Outcome(pause=pause, unsent=order[index + 1:])
        return _Outcome()
    finally:
        await sender.flush()


async def _pause(seconds: float, keep_going: Callable[[], bool] | None) -> bool:
    """Wait ``seconds``, looking every quarter second whether the bot is stopping (False then)."""
    until = time.monotonic() + seconds
    while (left := until - time.monotonic()) > 0:
        if keep_going is not None and not keep_going():
            return False
        await asyncio.sleep(min(left, 0.25))
    return keep_going is None or keep_going()


async def _through_pauses(sender: Sender, outcome: _Outcome, keep_going: Callable[[], bool] | None,
                          *, lease: timedelta) -> _Outcome:
    """Telegram asked for a pause (429): wait it out holding the batch, claimed and rendered,
    then go on with it. Giving it back and claiming and rendering it again after every pause
    cost seconds each time (with one send in ten refused, a wave on PostgreSQL went out at 2 a
    second). The batch is given back only when the bot stops, or when its oldest claim would be
    older than half the lease by the pause's end (so no other claim takes it over meanwhile; if
    one did, the renewal before each send would see it and leave the row to it)."""
    while outcome.pause and not outcome.stopped:
        if outcome.unsent:
            claimed = min(out.held.at for out in outcome.unsent)
            if utcnow() + timedelta(seconds=outcome.pause) >= claimed + lease / 2:
                break
        if not await _pause(outcome.pause, keep_going):
            return _Outcome(stopped=True, unsent=outcome.unsent)
        if not outcome.unsent:
            return _Outcome()
        outcome = await _send_batch(sender, outcome.unsent, keep_going)
    return outcome


async def dispatch_due(bot: Bot, engine: Engine, rules: ScheduleRules, *, default_language: str,
                       instance: str | None = None, max_rounds: int = 50,
                       keep_going: Callable[[], bool] | None = None) -> DispatchStats:
    """Send everything due now, batch after batch, honouring Telegram's pauses.

    The next batch is claimed (and rendered) while the current one is being sent, so the limiter
    never idles. ``keep_going`` is asked before each message; when it says no (the bot is
    stopping), the rows claimed but not sent are given back at once, so a restart sends them
    without waiting for the lease to run out. After a 429 the batch is held through the pause
    and sent on (:func:`_through_pauses`); a pause too long to hold it through gives the unsent
    rest back for after the pause."""
    stats = DispatchStats()
    me = instance or instance_name()
    cache = RenderCache()  # a broadcast, a digest, a notice: rendered once per language and run
    sender = Sender(bot, engine, stats)

    def claim_next() -> asyncio.Task[list[Outgoing]]:
        return asyncio.ensure_future(run_sync(claim, engine, utcnow(), rules, me, default_language, cache))

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
        outcome = await _send_batch(sender, outgoing, keep_going)
        outcome = await _through_pauses(sender, outcome, keep_going, lease=rules.lease)
        if not (outcome.pause or outcome.stopped):
            continue
        held = [out.held for out in outcome.unsent]
        if upcoming is not None:
            held += [out.held for out in await upcoming]
            upcoming = None
        await run_sync(ledger.give_back, engine, held, utcnow() + timedelta(seconds=outcome.pause))
        if outcome.stopped or not await _pause(outcome.pause, keep_going):
            break
        if rounds < max_rounds:
            upcoming = claim_next()
    return stats

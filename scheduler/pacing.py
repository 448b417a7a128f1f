"""Telegram's flood limits, kept strictly, with replies to people ahead of bulk sends.

:class:`Pacer` is a :class:`telegram.ext.BaseRateLimiter`. Every request that names a chat
waits for a *beat*; beats are ``1 / MESSAGES_PER_SECOND`` apart, so no one-second window holds
more than 30 of them (``telegram.constants.FloodLimit.MESSAGES_PER_SECOND``), and a group gets
at most one beat per ``GROUP_SPACING_SECONDS`` (under ``FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP``).
Requests that name no chat (answering a button, getMe, setMyCommands) are not paced, as in
PTB's own ``AIORateLimiter``; getUpdates never reaches a rate limiter.

Two lanes share the beats:

* **reply** (the default): whatever is sent while handling an update. Served first, and
  round-robin between chats, so one chatty person's answers do not hold up everyone else's.
* **bulk**: the dispatcher's reminders, notices, digests and broadcasts, marked with
  ``rate_limit_args={"lane": "bulk"}`` (see :func:`bulk_args`). A bulk request gets a beat only
  when no reply is waiting for one.

One task (the *pump*) hands out the beats: it sleeps until the next beat holding no lock, and
requests arriving meanwhile only queue. A beat is set from the previous beat, not from the
pump's (always slightly late) wake-up, so lateness does not add up over thousands of messages
(it did: 5% over a 5,000-message broadcast); after a quiet spell, or a wake-up later than a
quarter of a beat (the event loop was busy), the beat restarts from now, so no burst of saved-up
beats is ever released.

A 429 (:class:`telegram.error.RetryAfter`) stops every lane for ``retry_after`` seconds. A reply
is then tried again (up to ``max_retries`` times); a bulk request is not: the error goes back to
the dispatcher, which gives its rows back to the ledger for after the pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram import Bot
from telegram.constants import FloodLimit
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter, ExtBot
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)

# Slightly under Telegram's figures, so that jitter of a few milliseconds between our clock
# and the server's never squeezes 31 into a second or 21 into a minute.
MESSAGES_PER_SECOND = FloodLimit.MESSAGES_PER_SECOND - 0.5  # 29.5
GROUP_SPACING_SECONDS = 60 / FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP + 0.05  # 3.05 s: 19.7 a minute
MAX_RETRIES = 3
LATE = 0.25  # of a beat: a wake-up later than this restarts the beat from now

REPLY = "reply"
BULK = "bulk"
Lane = str
RateLimitArgs = dict[str, Any]
JSONDict = dict[str, Any]


def bulk_args(bot: Bot) -> dict[str, Any]:
    """The keyword arguments that put a send in the bulk lane; none for a bot without a limiter
    (``rate_limit_args`` is refused then)."""
    if isinstance(bot, ExtBot) and isinstance(bot.rate_limiter, Pacer):
        return {"rate_limit_args": {"lane": BULK}}
    return {}


def retry_after(exc: RetryAfter) -> float:
    """Seconds Telegram asked us to wait (read without PTB 22's int/timedelta transition warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: float | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@dataclass
class _Ticket:
    chat: int | str
    group: int | str | None  # the chat, when it is a group (limited per minute too)
    lane: Lane
    granted: asyncio.Future[None]


@dataclass
class _Queues:
    """Waiting tickets: replies per chat (served round-robin), bulk in order."""

    replies: OrderedDict[int | str, deque[_Ticket]] = field(default_factory=OrderedDict)
    bulk: deque[_Ticket] = field(default_factory=deque)

    def __len__(self) -> int:
        return sum(map(len, self.replies.values())) + len(self.bulk)

    def add(self, ticket: _Ticket, *, first: bool = False) -> None:
        if ticket.lane == BULK:
            (self.bulk.appendleft if first else self.bulk.append)(ticket)
            return
        queue = self.replies.setdefault(ticket.chat, deque())
        (queue.appendleft if first else queue.append)(ticket)
        if first:
            self.replies.move_to_end(ticket.chat, last=False)

    def drop(self, ticket: _Ticket) -> None:
        """A waiter that was cancelled (its handler gave up)."""
        if ticket.lane == BULK:
            with contextlib.suppress(ValueError):
                self.bulk.remove(ticket)
            return
        queue = self.replies.get(ticket.chat)
        if queue is not None:
            with contextlib.suppress(ValueError):
                queue.remove(ticket)
            if not queue:
                del self.replies[ticket.chat]

    def pick(self, ready: Callable[[_Ticket], bool]) -> _Ticket | None:
        """The next ticket whose group may send now: replies first (the chat served goes to
        the back of the round), then bulk in order."""
        for chat, queue in self.replies.items():
            if ready(queue[0]):
                ticket = queue.popleft()
                if queue:
                    self.replies.move_to_end(chat)
                else:
                    del self.replies[chat]
                return ticket
        for ticket in self.bulk:
            if ready(ticket):
                self.bulk.remove(ticket)
                return ticket
        return None


class Pacer(BaseRateLimiter[RateLimitArgs]):
    """See the module docstring. ``rate_limit_args``: ``{"lane": "bulk"}`` for bulk sends,
    optionally ``"max_retries"`` (replies only)."""

    def __init__(self, *, messages_per_second: float = MESSAGES_PER_SECOND,
                 group_spacing: float = GROUP_SPACING_SECONDS, max_retries: int = MAX_RETRIES) -> None:
        self.spacing = 1 / messages_per_second
        self.group_spacing = group_spacing
        self.max_retries = max_retries
        self._reset()

    def _reset(self) -> None:
        self._queues = _Queues()
        self._next_beat = 0.0  # loop time of the next beat
        self._group_next: dict[int | str, float] = {}  # loop time each group may have its next
        self._paused_until = 0.0  # a 429: nothing before this loop time
        self._pump: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def initialize(self) -> None:
        await self.shutdown()

    async def shutdown(self) -> None:
        pump = self._pump
        if pump is not None and not pump.done() and self._loop is asyncio.get_running_loop():
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        for ticket in list(self._queues.bulk) + [t for q in self._queues.replies.values() for t in q]:
            if not ticket.granted.done():
                ticket.granted.cancel()
        self._reset()

    # --- the beat --------------------------------------------------------------------------

    def waiting(self) -> int:
        """Requests waiting for a beat (for tests and benchmarks)."""
        return len(self._queues)

    def _ensure_pump(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or a new event loop (tests): start afresh
            self._reset()
            self._loop = loop
            self._wake = asyncio.Event()
        if self._pump is None or self._pump.done():
            self._pump = loop.create_task(self._run_pump(), name="dondoc:pacer")
        assert self._wake is not None
        self._wake.set()

    def _ready(self, now: float) -> Callable[[_Ticket], bool]:
        return lambda t: t.group is None or self._group_next.get(t.group, 0.0) <= now

    async def _sleep(self, seconds: float) -> None:
        """Sleep, waking early when a request arrives (it may be for a group that is ready)."""
        assert self._wake is not None
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _run_pump(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queues:
            now = loop.time()
            if now < self._paused_until:
                await asyncio.sleep(self._paused_until - now)
                continue
            if now < self._next_beat:
                await asyncio.sleep(self._next_beat - now)  # holding nothing: requests just queue
                continue
            ticket = self._queues.pick(self._ready(now))
            if ticket is None:  # only groups that must wait: until the first is ready
                ready_at = min(self._group_next.get(t.group, 0.0) for t in self._all() if t.group is not None)
                await self._sleep(max(0.0, ready_at - now))
                continue
            beat = self._next_beat if now - self._next_beat < LATE * self.spacing else now
            self._next_beat = beat + self.spacing
            if ticket.group is not None:
                self._group_next[ticket.group] = now + self.group_spacing
                if len(self._group_next) > 10_000:  # forget groups whose wait is long over
                    self._group_next = {g: t for g, t in self._group_next.items() if t > now}
            if not ticket.granted.done():
                ticket.granted.set_result(None)

    def _all(self) -> list[_Ticket]:
        return list(self._queues.bulk) + [t for q in self._queues.replies.values() for t in q]

    async def _wait_for_beat(self, chat: int | str, group: int | str | None, lane: Lane,
                             *, first: bool = False) -> None:
        self._ensure_pump()
        ticket = _Ticket(chat, group, lane, asyncio.get_running_loop().create_future())
        self._queues.add(ticket, first=first)
        try:
            await ticket.granted
        except asyncio.CancelledError:
            self._queues.drop(ticket)
            raise

    # --- the contract ----------------------------------------------------------------------

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: RateLimitArgs | None,
    ) -> bool | JSONDict | list[JSONDict]:
        options = rate_limit_args or {}
        lane: Lane = BULK if options.get("lane") == BULK else REPLY
        max_retries = 0 if lane == BULK else int(options.get("max_retries", self.max_retries))
        chat = data.get("chat_id")
        if chat is None:  # no chat, no message: not paced
            return await callback(*args, **kwargs)
        with contextlib.suppress(ValueError, TypeError):
            chat = int(chat)
        # A negative id or an @name is a group or channel (PTB's AIORateLimiter reads it the same way).
        group = chat if (isinstance(chat, int) and chat < 0) or isinstance(chat, str) else None
        for attempt in range(max_retries + 1):
            await self._wait_for_beat(chat, group, lane, first=attempt > 0)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                pause = retry_after(exc) + 0.1
                loop = asyncio.get_running_loop()
                self._paused_until = max(self._paused_until, loop.time() + pause)
                log.info("Telegram asked to slow down (%s, %s): every lane waits %.1f s",
                         endpoint, lane, pause)
                if attempt == max_retries:
                    raise
        raise AssertionError("unreachable")


def rate_limiter(*, max_retries: int = MAX_RETRIES) -> Pacer:
    return Pacer(max_retries=max_retries)

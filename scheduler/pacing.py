"""Telegram's flood limits, kept strictly, with replies to people ahead of bulk sends.

:class:`Pacer` is a :class:`telegram.ext.BaseRateLimiter`. Every request that names a chat waits
for a slot. No slot is given while 30 requests
(``telegram.constants.FloodLimit.MESSAGES_PER_SECOND``) are under way or were answered in the last
second, and a group gets at most one slot per ``GROUP_SPACING_SECONDS`` (under
``FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP``). Requests that name no chat (answering a button,
getMe, setMyCommands) are not paced, as in PTB's own ``AIORateLimiter``; getUpdates never reaches
a rate limiter.

Two lanes share the slots:

* **reply** (the default): whatever is sent while handling an update. A reply takes a free slot
  at once, and replies are served round-robin between chats, so one chatty person's answers do
  not hold up everyone else's.
* **bulk**: the dispatcher's reminders, notices, digests and broadcasts, marked with
  ``rate_limit_args={"lane": "bulk"}`` (see :func:`bulk_args`). Bulk goes on a fixed beat (one
  slot per ``1 / BULK_PER_SECOND``), only when no reply waits, and while people were answered in
  the last ``RESERVE_SECONDS`` it leaves ``RESERVE`` slots of the window free for them: a reply
  during a 5,000-message broadcast does not wait for the broadcast's next beat.

  Why five slots for a minute: once bulk has filled the window, a slot frees only when the oldest
  request leaves it, one per bulk beat (34 ms), so the k-th of a burst of replies would wait k
  beats. People who are using the bot come back within a minute (a button, the next command),
  often several at once (a broadcast prompts them all), so while anyone was answered in the last
  minute the window keeps room for a burst of five. It costs bulk a sixth of its pace only while
  people are talking to the bot (23-25 a second instead of 29.4); with nobody answered for a
  minute, bulk has the whole window (measured with five people asking in lockstep as a wave
  began: two slots kept for five seconds left the later three waiting 34-170 ms, p95 2x idle).

A request counts in the window from the moment its slot is given until one window after its
answer came back: Telegram receives it somewhere in between, so however late the event loop
resumes it and however the network delays it, no second at Telegram's end can hold 31 (a
window counted at the slots alone saw 31 under load). The bulk beat is set from the previous
beat, not from the pump's (always slightly late) wake-up, so lateness does not add up over
thousands of messages (it did: 5% over a 5,000-message broadcast); after a quiet spell, or a
wake-up later than a quarter of a beat, the beat restarts from now.

One task (the *pump*) hands out the slots; it sleeps holding no lock (requests arriving meanwhile
queue and wake it).

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

LIMIT = FloodLimit.MESSAGES_PER_SECOND  # 30 in any window of WINDOW seconds
WINDOW = 1.0  # seconds: a request counts from its slot until a second after its answer came
BULK_PER_SECOND = 29.4  # the bulk beat: evenly spaced, just inside the window
RESERVE = 5  # slots of the window bulk leaves free while people are being answered
RESERVE_SECONDS = 60.0  # "being answered": a reply went out this recently
GROUP_SPACING_SECONDS = 60 / FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP + 0.05  # 3.05 s: 19.7 a minute
MAX_RETRIES = 3
LATE = 0.25  # of a beat: a wake-up later than this restarts the bulk beat from now

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

    def pick(self, ready: Callable[[_Ticket], bool], *, bulk: bool) -> _Ticket | None:
        """The next ticket whose group may send now: replies first (the chat served goes to
        the back of the round), then, if ``bulk``, bulk in order."""
        for chat, queue in self.replies.items():
            if ready(queue[0]):
                ticket = queue.popleft()
                if queue:
                    self.replies.move_to_end(chat)
                else:
                    del self.replies[chat]
                return ticket
        for ticket in self.bulk if bulk else ():
            if ready(ticket):
                self.bulk.remove(ticket)
                return ticket
        return None


class Pacer(BaseRateLimiter[RateLimitArgs]):
    """See the module docstring. ``rate_limit_args``: ``{"lane": "bulk"}`` for bulk sends,
    optionally ``"max_retries"`` (replies only)."""

    def __init__(self, *, limit: int = LIMIT, window: float = WINDOW,
                 bulk_per_second: float = BULK_PER_SECOND, reserve: int = RESERVE,
                 reserve_seconds: float = RESERVE_SECONDS, group_spacing: float = GROUP_SPACING_SECONDS,
                 max_retries: int = MAX_RETRIES) -> None:
        self.limit, self.window = limit, window
        self.spacing = 1 / bulk_per_second
        # Bulk always keeps at least one slot, or a small limit would stop it for reserve_seconds.
        self.reserve, self.reserve_seconds = min(reserve, limit - 1), reserve_seconds
        self.group_spacing = group_spacing
        self.max_retries = max_retries
        self._reset()

    def _reset(self) -> None:
        self._queues = _Queues()
        self._done: deque[float] = deque()  # loop times requests were answered, last window
        self._in_flight = 0  # slots given whose request has not been answered yet
        self._next_beat = 0.0  # loop time of the next bulk beat
        self._last_reply = -1e9  # loop time of the last reply's slot
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
        for ticket in self._all():
            if not ticket.granted.done():
                ticket.granted.cancel()
        self._reset()

    # --- the slots -------------------------------------------------------------------------

    def waiting(self) -> int:
        """Requests waiting for a slot (for tests and benchmarks)."""
        return len(self._queues)

    def _all(self) -> list[_Ticket]:
        return list(self._queues.bulk) + [t for q in self._queues.replies.values() for t in q]

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
        """Sleep, waking early when a request arrives (a reply may take a free slot at once)."""
        assert self._wake is not None
        self._wake.clear()
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _wake_at(self, now: float, room: int, reserve: int) -> float:
        """When the pump must look again, if no request arrives before: a group's wait ends,
        the next bulk beat, or a slot of the window frees."""
        times = [self._group_next.get(t.group, 0.0) for t in self._all() if t.group is not None]
        times = [t for t in times if t > now]
        if self._queues.bulk:
            times.append(self._next_beat if room > reserve else now + self.spacing)
        if room <= reserve and self._done:
            times.append(self._done[0] + self.window)
        return min(times) if times else now + self.spacing

    def _room(self, now: float) -> int:
        done = self._done
        while done and done[0] <= now - self.window:
            done.popleft()
        return self.limit - self._in_flight - len(done)

    def _finished(self) -> None:
        """A request given a slot was answered (or failed, or gave up): it counts for one more
        window from now."""
        self._in_flight -= 1
        self._done.append(asyncio.get_running_loop().time())
        if self._wake is not None:
            self._wake.set()

    async def _run_pump(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queues:
            now = loop.time()
            if now < self._paused_until:
                await self._sleep(self._paused_until - now)
                continue
            room = self._room(now)
            if room <= 0:  # 30 in the window: until the oldest answer leaves it, or one comes
                await self._sleep(self._done[0] + self.window - now if self._done else self.window)
                continue
            reserve = self.reserve if now - self._last_reply < self.reserve_seconds else 0
            bulk = room > reserve and now >= self._next_beat
            ticket = self._queues.pick(self._ready(now), bulk=bulk)
            if ticket is None:
                await self._sleep(self._wake_at(now, room, reserve) - now)
                continue
            if ticket.lane == BULK:
                beat = self._next_beat if now - self._next_beat < LATE * self.spacing else now
                self._next_beat = beat + self.spacing
            else:
                self._last_reply = now
            if ticket.group is not None:
                self._group_next[ticket.group] = now + self.group_spacing
                if len(self._group_next) > 10_000:  # forget groups whose wait is long over
                    self._group_next = {g: t for g, t in self._group_next.items() if t > now}
            if not ticket.granted.done():
                self._in_flight += 1
                ticket.granted.set_result(None)

    async def _wait_for_slot(self, chat: int | str, group: int | str | None, lane: Lane,
                             *, first: bool = False) -> None:
        self._ensure_pump()
        ticket = _Ticket(chat, group, lane, asyncio.get_running_loop().create_future())
        self._queues.add(ticket, first=first)
        try:
            await ticket.granted
        except asyncio.CancelledError:
            self._queues.drop(ticket)
            if ticket.granted.done() and not ticket.granted.cancelled():
                self._finished()  # given a slot, then gave up: counted as if sent
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
            await self._wait_for_slot(chat, group, lane, first=attempt > 0)
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
            finally:
                self._finished()
        raise AssertionError("unreachable")


def rate_limiter(*, max_retries: int = MAX_RETRIES) -> Pacer:
    return Pacer(max_retries=max_retries)

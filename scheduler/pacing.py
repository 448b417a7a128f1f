"""Telegram's flood limits, kept strictly.

PTB's ``AIORateLimiter`` uses leaky buckets whose capacity equals the rate: with the defaults
(30 per second, 20 per minute per group) a full bucket lets 30 messages out at once and then 30
more in the same second, and 20 to a group at once and 20 more within the minute. Telegram
counts in windows, so dondoc gives the buckets a capacity of one message: messages leave evenly
spaced, and no one-second window holds more than 30 (no minute more than 20 for one group).
A 429 is still honoured by the limiter (every request waits ``retry_after``) and retried.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from telegram.ext import AIORateLimiter

# Slightly under Telegram's figures, so that jitter of a few milliseconds between our clock
# and the server's never squeezes 31 into a second or 21 into a minute.
MESSAGES_PER_SECOND = 29.5
GROUP_SPACING_SECONDS = 3.05  # 60 / 3.05 = 19.7 a minute per group
MAX_RETRIES = 3


class Metronome:
    """Lets one request through per ``spacing`` seconds, on a fixed beat.

    A leaky bucket of capacity one measures each wait from when the last request actually
    left; the event loop wakes a millisecond or two late every time, and that lateness adds
    up (5% over thousands of messages). Here each beat is set from the previous beat, not
    from the late wake-up, so lateness does not accumulate; beats stay ``spacing`` apart, so
    any one-second window still holds at most ceil(1 / spacing) requests. After a quiet spell
    the beat restarts from now (no burst of saved-up beats)."""

    def __init__(self, spacing: float) -> None:
        self.spacing = spacing
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            beat = max(loop.time(), self._next)
            self._next = beat + self.spacing
            delay = beat - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> None:
        return None


def rate_limiter(*, max_retries: int = MAX_RETRIES) -> AIORateLimiter:
    limiter = AIORateLimiter(overall_max_rate=1, overall_time_period=1 / MESSAGES_PER_SECOND,
                             group_max_rate=1, group_time_period=GROUP_SPACING_SECONDS,
                             max_retries=max_retries)
    # PTB's limiter enters ``_base_limiter`` with ``async with`` for every request to a chat;
    # the metronome keeps the same rate without the drift (see Metronome).
    limiter._base_limiter = Metronome(1 / MESSAGES_PER_SECOND)  # type: ignore[assignment]
    return limiter

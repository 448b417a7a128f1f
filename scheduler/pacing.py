"""Telegram's flood limits, kept strictly.

PTB's ``AIORateLimiter`` uses leaky buckets whose capacity equals the rate: with the defaults
(30 per second, 20 per minute per group) a full bucket lets 30 messages out at once and then 30
more in the same second, and 20 to a group at once and 20 more within the minute. Telegram
counts in windows, so dondoc gives the buckets a capacity of one message: messages leave evenly
spaced, and no one-second window holds more than 30 (no minute more than 20 for one group).
A 429 is still honoured by the limiter (every request waits ``retry_after``) and retried.
"""

from __future__ import annotations

from telegram.ext import AIORateLimiter

# Slightly under Telegram's figures, so that jitter of a few milliseconds between our clock
# and the server's never squeezes 31 into a second or 21 into a minute.
MESSAGES_PER_SECOND = 29.5
GROUP_SPACING_SECONDS = 3.05  # 60 / 3.05 = 19.7 a minute per group
MAX_RETRIES = 3


def rate_limiter(*, max_retries: int = MAX_RETRIES) -> AIORateLimiter:
    return AIORateLimiter(overall_max_rate=1, overall_time_period=1 / MESSAGES_PER_SECOND,
                          group_max_rate=1, group_time_period=GROUP_SPACING_SECONDS,
                          max_retries=max_retries)

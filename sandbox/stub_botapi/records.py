"""What the stub records: API calls, bot messages and rate statistics."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# Methods that deliver a new message; used for rate limits, fail_ratio and rate_stats.
SEND_METHODS = frozenset(
    {"sendMessage", "sendDocument", "sendPhoto", "copyMessage", "forwardMessage"}
)


@dataclass(frozen=True)
class Call:
    """One HTTP call the bot made. ``time`` is ``time.monotonic()`` at arrival."""

    method: str
    params: dict[str, Any]
    time: float
    response_status: int
    description: str | None = None  # error description for non-200 answers

    @property
    def ok(self) -> bool:
        return self.response_status == 200

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")


@dataclass
class SentMessage:
    """Current state of one message the bot sent (edits update it in place)."""

    chat_id: int
    message_id: int
    text: str | None  # plain text as the user sees it (HTML parsed), or caption
    raw_text: str | None  # exactly what the bot sent (with HTML tags)
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    date: int
    document: dict[str, Any] | None = None
    photo: list[dict[str, Any]] | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    edit_count: int = 0
    deleted: bool = False
    message: dict[str, Any] = field(default_factory=dict)  # the Bot API Message object

    @property
    def caption(self) -> str | None:
        return self.text if (self.document or self.photo) else None

    def contains(self, needle: str) -> bool:
        """True if ``needle`` occurs in the plain text or in the raw (HTML) text."""
        return any(needle in value for value in (self.text, self.raw_text) if value)

    def button_datas(self) -> list[str]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [b["callback_data"] for row in rows for b in row if "callback_data" in b]

    def button_texts(self) -> list[str]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [b["text"] for row in rows for b in row]


@dataclass(frozen=True)
class RateStats:
    """Peak delivery rates of successful send-like calls."""

    total: int
    peak_per_second: int  # max sends within any 1-second window, all chats together
    peak_per_chat_per_minute: dict[Any, int]  # chat_id -> max sends in any 60 s window
    peak_per_chat_per_second: dict[Any, int]  # chat_id -> max sends in any 1 s window
    duration: float  # seconds between first and last send

    @property
    def max_per_chat_per_minute(self) -> int:
        return max(self.peak_per_chat_per_minute.values(), default=0)

    @property
    def max_per_chat_per_second(self) -> int:
        return max(self.peak_per_chat_per_second.values(), default=0)


def peak_in_window(times: Sequence[float], window: float) -> int:
    """Largest number of timestamps inside any half-open window of ``window`` seconds."""
    ordered = sorted(times)
    best = start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def compute_rate_stats(calls: Sequence[Call], *, include_failed: bool = False) -> RateStats:
    sends = [c for c in calls if c.method in SEND_METHODS and (include_failed or c.ok)]
    per_chat: dict[Any, list[float]] = defaultdict(list)
    for call in sends:
        per_chat[call.chat_id].append(call.time)
    times = [c.time for c in sends]
    return RateStats(
        total=len(sends),
        peak_per_second=peak_in_window(times, 1.0),
        peak_per_chat_per_minute={k: peak_in_window(v, 60.0) for k, v in per_chat.items()},
        peak_per_chat_per_second={k: peak_in_window(v, 1.0) for k, v in per_chat.items()},
        duration=(max(times) - min(times)) if times else 0.0,
    )

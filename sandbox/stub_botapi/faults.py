"""Fault injection and optional Telegram-like rate limiting (thread-safe)."""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from .records import SEND_METHODS
from .validation import BotApiError

DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
# Methods addressed to a chat, affected by block()/remove_from_chat()/migrate_chat().
CHAT_METHODS = SEND_METHODS | {
    "editMessageText", "editMessageReplyMarkup", "editMessageCaption", "deleteMessage",
    "sendChatAction", "getChat", "getChatMember", "getChatAdministrators", "setChatMenuButton",
}  # fmt: skip


def make_error(
    status: int, *, retry_after: int | None = None, description: str | None = None
) -> BotApiError:
    """Build an error answer with Telegram's wording for ``status``."""
    if status == 429:
        retry_after = retry_after if retry_after is not None else 1
        text = description or f"Too Many Requests: retry after {retry_after}"
        return BotApiError(429, text, {"retry_after": retry_after})
    text = description or DEFAULT_DESCRIPTIONS.get(status, "Error")
    return BotApiError(status, text, {"retry_after": retry_after} if retry_after else None)


@dataclass
class _Rule:
    method: str
    error: BotApiError
    remaining: int
    chat_id: Any = None

    def matches(self, method: str, chat_id: Any) -> bool:
        return self.method == method and (self.chat_id is None or self.chat_id == chat_id)


@dataclass
class _Limits:
    global_per_sec: int | None
    per_group_per_min: int | None
    per_chat_per_sec: int | None


class FaultInjector:
    """State behind ``StubBotApi.fail()``, ``block()``, ``enforce_limits()`` ..."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._rules: list[_Rule] = []
            self._ratios: list[tuple[int, float]] = []
            self._ratio_methods: frozenset[str] = SEND_METHODS
            self._ratio_retry_after = 1
            self._rng = random.Random(0)
            self._blocked: set[Any] = set()
            self._kicked: set[Any] = set()
            self._migrated: dict[Any, int] = {}
            self._limits: _Limits | None = None
            self._global_sends: deque[float] = deque()
            self._chat_sends: dict[Any, deque[float]] = {}

    # -- configuration ---------------------------------------------------------------
    def add_rule(self, method: str, error: BotApiError, times: int, chat_id: Any) -> None:
        with self._lock:
            self._rules.append(_Rule(method, error, times, chat_id))

    def set_ratios(
        self,
        ratios: dict[int, float],
        seed: int,
        methods: frozenset[str] | None,
        retry_after: int,
    ) -> None:
        if sum(ratios.values()) > 1:
            raise ValueError("failure ratios must sum to at most 1")
        with self._lock:
            self._ratios = list(ratios.items())
            self._rng = random.Random(seed)
            self._ratio_methods = methods or SEND_METHODS
            self._ratio_retry_after = retry_after

    def set_blocked(self, chat_id: Any, blocked: bool) -> None:
        with self._lock:
            (self._blocked.add if blocked else self._blocked.discard)(chat_id)

    def set_kicked(self, chat_id: Any, kicked: bool) -> None:
        with self._lock:
            (self._kicked.add if kicked else self._kicked.discard)(chat_id)

    def set_migrated(self, old_id: Any, new_id: int) -> None:
        with self._lock:
            self._migrated[old_id] = new_id

    def set_limits(self, limits: _Limits | None) -> None:
        with self._lock:
            self._limits = limits
            self._global_sends.clear()
            self._chat_sends.clear()

    # -- checks (called for every request) ------------------------------------------------
    def check(self, method: str, chat_id: Any, now: float) -> None:
        """Raise the injected error for this call, if any."""
        with self._lock:
            self._check_rules(method, chat_id)
            self._check_ratio(method)
            if method in CHAT_METHODS:
                self._check_chat(chat_id)
            if method in SEND_METHODS:
                self._check_limits(chat_id, now)

    def note_send(self, chat_id: Any, now: float) -> None:
        """Record a successful send for rate limiting."""
        with self._lock:
            if self._limits is None:
                return
            self._global_sends.append(now)
            self._chat_sends.setdefault(chat_id, deque()).append(now)

    def _check_rules(self, method: str, chat_id: Any) -> None:
        for rule in self._rules:
            if rule.remaining > 0 and rule.matches(method, chat_id):
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._rules.remove(rule)
                raise rule.error

    def _check_ratio(self, method: str) -> None:
        if not self._ratios or method not in self._ratio_methods:
            return
        draw = self._rng.random()
        for status, ratio in self._ratios:
            if draw < ratio:
                raise make_error(status, retry_after=self._ratio_retry_after)
            draw -= ratio

    def _check_chat(self, chat_id: Any) -> None:
        if chat_id in self._blocked:
            raise make_error(403, description="Forbidden: bot was blocked by the user")
        if chat_id in self._kicked:
            raise make_error(403, description="Forbidden: bot was kicked from the group chat")
        if chat_id in self._migrated:
            raise BotApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[chat_id]},
            )

    def _check_limits(self, chat_id: Any, now: float) -> None:
        limits = self._limits
        if limits is None:
            return
        chat_sends = self._chat_sends.setdefault(chat_id, deque())
        checks = [(self._global_sends, 1.0, limits.global_per_sec)]
        checks.append((chat_sends, 1.0, limits.per_chat_per_sec))
        if isinstance(chat_id, int) and chat_id < 0:
            checks.append((chat_sends, 60.0, limits.per_group_per_min))
        for sends, window, limit in checks:
            if limit is None:
                continue
            recent = [t for t in sends if now - t < window]
            if len(recent) >= limit:
                wait = max(1, math.ceil(window - (now - recent[-limit])))
                raise make_error(429, retry_after=wait)
        for sends in (self._global_sends, chat_sends):
            while sends and now - sends[0] >= 60.0:
                sends.popleft()

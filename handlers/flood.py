"""Fairness under flood: a per-person limit on incoming updates (group ``handlers.order.FLOOD``,
right after identity; a person in the cooldown is stopped earlier still, ``order.QUIETED``).

Beyond ``flood_per_minute`` updates in a sliding minute, a person is answered once with a short
"slow down" and then ignored for ``flood_cooldown_seconds``: their updates stop here, before any
other handler reads the database for them or answers them. Updates are handled concurrently
across people and in order per person (bot/updates.py), and replies are paced round-robin
between chats (scheduler/pacing.py), so a flooding person waits behind their own updates only;
this limit bounds what their updates cost everyone else (at most ``flood_per_minute`` answers a
minute; an ignored update is dropped before identity reads the database).

What counts: button presses, and messages in a private chat or commands in a group (what the
bot answers); a group's ordinary chatter does not. Administrators (``DONDOC_ADMIN_IDS`` and
registered admins) are not limited: they are few and named, and during an incident they are the
ones who must be able to act (register a group, send a broadcast, press through /members); a
person at human speed does not reach 30 a minute anyway, but a script does.

The window is kept in process memory, on purpose. The database is the truth for everything that
matters (architecture principle 1); a rate window is not: it is a counter of the last minute,
worth nothing after a restart (a restart at most lets a flooding person have one more minute),
and writing a row per incoming update would make each flood cost the database a write. It is
bounded: at most ``MAX_TRACKED`` people, the longest idle forgotten first.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, TypeHandler

from handlers.common import show
from scheduler.context import BotContext
from views import refusals

MAX_TRACKED = 10_000
WINDOW = 60.0


@dataclass
class _Person:
    seen: deque[float] = field(default_factory=deque)  # times of counted updates, last minute
    quiet_until: float = 0.0  # ignored until this (monotonic) time


class FloodGate:
    """Counts each person's updates in a sliding minute."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.people: OrderedDict[int, _Person] = OrderedDict()

    def quieted(self, user_id: int) -> bool:
        """In the cooldown after "slow down" (nothing is counted)."""
        person = self.people.get(user_id)
        return person is not None and self.clock() < person.quiet_until

    def check(self, user_id: int, per_minute: int, cooldown: float) -> str:
        """"ok" to go on, "warn" (say slow down now), or "ignore"."""
        now = self.clock()
        person = self.people.get(user_id)
        if person is None:
            person = self.people[user_id] = _Person()
            while len(self.people) > MAX_TRACKED:
                self.people.popitem(last=False)
        else:
            self.people.move_to_end(user_id)
        if now < person.quiet_until:
            return "ignore"
        seen = person.seen
        while seen and now - seen[0] >= WINDOW:
            seen.popleft()
        seen.append(now)
        if len(seen) <= per_minute:
            return "ok"
        person.quiet_until = now + cooldown
        seen.clear()
        return "warn"


def _counts(update: Update) -> bool:
    if update.callback_query is not None:
        return True
    message = update.message or update.edited_message
    if message is None or update.effective_user is None:
        return False
    if message.chat.type == ChatType.PRIVATE:
        return True
    return bool(message.text and message.text.startswith("/"))


def handlers(gate: FloodGate | None = None) -> tuple[TypeHandler[Update, BotContext, None],
                                                    TypeHandler[Update, BotContext, None]]:
    """Two handlers sharing one gate: for group ``order.QUIETED`` (before identity: a person in
    the cooldown costs no database read) and for group ``order.FLOOD`` (after identity: counts,
    administrators exempt; they are never put in the cooldown, so the first never stops them)."""
    gate = gate or FloodGate()

    async def ignore_quieted(update: Update, _context: BotContext) -> None:
        if update.effective_user is not None and _counts(update) and gate.quieted(update.effective_user.id):
            raise ApplicationHandlerStop

    async def limit(update: Update, context: BotContext) -> None:
        if not _counts(update) or context.actor.is_admin or update.effective_user is None:
            return
        config = context.config
        verdict = gate.check(update.effective_user.id, config.flood_per_minute,
                             config.flood_cooldown_seconds)
        if verdict == "ok":
            return
        if verdict == "warn":
            await show(update, context, refusals.slow_down(int(config.flood_cooldown_seconds)))
        raise ApplicationHandlerStop

    return TypeHandler(Update, ignore_quieted), TypeHandler(Update, limit)

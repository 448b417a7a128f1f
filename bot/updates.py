"""Updates processed concurrently, each person's in the order they came.

The database is the state (drafts, reports, the ledger are rows, and every race on them is
settled by a transaction), so two people's updates can be handled at once: one leader's /export
no longer makes everyone else wait. One person's updates still go one after the other: a typed
answer must reach the draft the button before it opened, and a double tap is handled as two
taps in order.

PTB's own semaphore (``max_concurrent_updates``) is taken *before* :meth:`do_process_update`
runs, so if it were the real bound, a person sending 600 messages would fill every slot with
updates that only wait for that person's previous one, and everyone else would queue behind
them. So PTB's bound is set high (updates waiting their person's turn cost a small task each),
and the real bound, ``workers``, is taken only once it is an update's turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

WORKERS = 16  # updates being handled at once (the rest wait; the database pool and threads are shared)
QUEUED = 65_536  # PTB's bound: updates accepted from Telegram and waiting for their turn


def _key(update: object) -> int | None:
    """Whose turn it is: the person's (in a group too), else the chat's; None runs at once."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerUserProcessor(BaseUpdateProcessor):
    """Concurrent across people, in order for each person."""

    def __init__(self, workers: int = WORKERS, queued: int = QUEUED) -> None:
        super().__init__(max_concurrent_updates=queued)
        self.workers = workers
        self._slots: asyncio.Semaphore | None = None
        self._tails: dict[int, asyncio.Future[None]] = {}  # the last update queued per person

    async def initialize(self) -> None:
        self._slots = asyncio.Semaphore(self.workers)
        self._tails.clear()

    async def shutdown(self) -> None:
        self._tails.clear()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        key = _key(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        before = self._tails.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = mine
        try:
            if before is not None:
                await asyncio.shield(before)  # a cancelled waiter must not cancel the one before
            async with self._slots:
                await coroutine
        finally:
            mine.set_result(None)
            if self._tails.get(key) is mine:
                del self._tails[key]

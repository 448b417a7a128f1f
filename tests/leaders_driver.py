"""Driving the real bot as several people (coordinator, leader, focal point, admin), waiting
until each update is fully handled: for the escalation, status, history, notice, language and
group tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Engine
from telegram import Update
from telegram.ext import TypeHandler

from bot.settings import Settings
from tests.bot_harness import running_bot
from tests.stub_botapi import SentMessage, StubBotApi

LAST_GROUP = 10**6


class Driver:
    """Sends user actions and waits until the bot has handled each one."""

    def __init__(self, stub_api: StubBotApi) -> None:
        self.stub = stub_api
        self.processed: set[int] = set()

    def attach(self, app: Any) -> None:
        async def mark(update: Update, _context: Any) -> None:
            self.processed.add(update.update_id)
        app.add_handler(TypeHandler(Update, mark), group=LAST_GROUP)

    async def do(self, update: dict[str, Any]) -> dict[str, Any]:
        await self.stub.await_for(lambda: update["update_id"] in self.processed, timeout=20)
        return update

    async def text(self, user: int, text: str, chat: int | None = None) -> SentMessage:
        """Send ``text``; the last message the bot has in that chat afterwards."""
        await self.do(self.stub.send_text(user, text, chat))
        found = self.stub.last_message(chat or user)
        assert found is not None
        return found

    async def press(self, user: int, message: SentMessage, data: str, *, forged: bool = False) -> str:
        """Press a button; returns the text of the callback answer ('' if none)."""
        update = await self.do(self.stub.press_button(user, message, data, forged=forged))
        answer = self.stub.callback_answer(update["callback_query"]["id"]) or {}
        return str(answer.get("text") or "")

    def message(self, chat: int, message_id: int) -> SentMessage:
        """A message as it is now (after edits)."""
        found = [m for m in self.stub.sent_messages(chat) if m.message_id == message_id]
        assert found
        return found[-1]


@asynccontextmanager
async def driven(settings: Settings, engine: Engine, driver: Driver) -> AsyncIterator[Any]:
    async with running_bot(settings, engine) as app:
        driver.attach(app)
        yield app


def data_with(message: SentMessage, prefix: str, contains: str = "") -> str:
    found = [d for d in message.button_datas() if d.startswith(prefix) and contains in d]
    assert found, (prefix, message.button_datas(), message.text)
    return found[0]

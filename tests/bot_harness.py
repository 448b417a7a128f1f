"""Running the real Application against the local Bot API stand-in (``tests.stub_botapi``).

    async with running_bot(settings, engine) as app:
        stub.send_text(alice, "/start")
        message = await stub.await_message(alice["id"], contains="Xin chào")

``running_bot`` builds the bot with :func:`bot.app.build_application` (jobs off), runs its
``post_init`` as ``run_polling`` would (command menu, bot username), starts long polling against
the stub and stops everything on the way out. Fixtures ``stub`` and ``bot_settings`` give a
started stub and settings pointing at it and at the test database.

Use the fixtures in a test module with
``from tests.bot_harness import bot_settings_fixture, stub_fixture  # noqa: F401`` (the fixtures
are named ``stub`` and ``bot_settings``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import Engine
from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.app import build_application
from bot.settings import Settings, load_settings
from scheduler.context import BotApplication
from tests.stub_botapi import SentMessage, StubBotApi

__all__ = ["Driver", "bot_settings", "bot_settings_fixture", "data_with", "driven", "make_settings",
           "running_bot", "stub", "stub_fixture", "watch_handled"]

LAST_GROUP = 10**6  # after every handler group of the bot


def make_settings(stub_api: StubBotApi, db_url: str, **overrides: Any) -> Settings:
    """Settings for a bot talking to ``stub_api`` and using ``db_url``. Tests drive the bot far
    faster than a person can, so the flood limit is raised unless a test sets it
    (tests/test_flood.py does)."""
    overrides.setdefault("flood_per_minute", 10_000)
    return load_settings(bot_token=stub_api.token, bot_api_url=stub_api.url, database_url=db_url,
                         **overrides)


@asynccontextmanager
async def running_bot(settings: Settings, engine: Engine, *, post_init: bool = True,
                      **overrides: Any) -> AsyncIterator[BotApplication]:
    """The bot, polling the stub, for the duration of the block (no reminder jobs)."""
    app = build_application(settings, engine=engine, start_jobs=False, **overrides)
    async with app:
        if post_init and app.post_init is not None:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def watch_handled(app: BotApplication, handled: set[int]) -> None:
    """Add each update's id to ``handled`` once the bot is done with it: after the last handler
    group, or when a pre-handler (the gate: a bare command in a group, a deactivated member)
    stopped it there with ApplicationHandlerStop."""
    async def mark(update: Update, _context: Any) -> None:
        handled.add(update.update_id)
    app.add_handler(TypeHandler(Update, mark), group=LAST_GROUP)
    for group, group_handlers in app.handlers.items():
        if group >= 0:
            continue
        for handler in group_handlers:
            inner = handler.callback

            async def stopping(update: Any, context: Any, inner: Any = inner) -> Any:
                try:
                    return await inner(update, context)
                except ApplicationHandlerStop:
                    if isinstance(update, Update):
                        handled.add(update.update_id)
                    raise
            handler.callback = stopping


class Driver:
    """Sends user actions as the stub's users and waits until the bot has fully handled each one
    (a handler in the last group marks every update it sees, the gate those it stops)."""

    def __init__(self, stub_api: StubBotApi) -> None:
        self.stub = stub_api
        self.processed: set[int] = set()

    def attach(self, app: Any) -> None:
        watch_handled(app, self.processed)

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
async def driven(settings: Settings, engine: Engine, driver: Driver) -> AsyncIterator[BotApplication]:
    """:func:`running_bot` with ``driver`` attached."""
    async with running_bot(settings, engine) as app:
        driver.attach(app)
        yield app


def data_with(message: SentMessage, prefix: str, contains: str = "") -> str:
    """The first button data of ``message`` starting with ``prefix`` and containing ``contains``."""
    found = [d for d in message.button_datas() if d.startswith(prefix) and contains in d]
    assert found, (prefix, message.button_datas(), message.text)
    return found[0]


@pytest.fixture(name="stub")
def stub_fixture() -> Iterator[StubBotApi]:
    """A started Bot API stand-in (bot ``@dondoc_test_bot``), stopped after the test."""
    api = StubBotApi().start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture(name="bot_settings")
def bot_settings_fixture(stub: StubBotApi, db_url: str, monkeypatch: pytest.MonkeyPatch,
                 tmp_path: Any) -> Settings:
    """Settings for the stub and the test database; no stray ``.env`` or environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("DONDOC_ADMIN_IDS", "DONDOC_BOT_TOKEN", "DONDOC_DEFAULT_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    return make_settings(stub, db_url)


# Plain names for modules that import the fixtures as ``stub`` / ``bot_settings``.
stub = stub_fixture
bot_settings = bot_settings_fixture

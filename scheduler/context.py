"""What the running bot holds, typed: handlers write ``context.engine`` and ``context.config``,
never ``context.bot_data[...]``. The bot layer fills it from the settings once, at build time;
everything below receives these plain values, not the settings object."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import Engine
from telegram.ext import Application, CallbackContext, ExtBot

from domain.access import Actor
from scheduler.config import BotConfig


class BotData:
    """``bot_data``: created empty by PTB, filled by ``bot.app.build_application``."""

    engine: Engine
    config: BotConfig
    start_jobs: bool = True

    def __init__(self) -> None:
        # One dispatcher run at a time in this process (other instances are kept apart by claims).
        self.dispatch_lock = asyncio.Lock()
        # The item sync running beside the ticks (what it has done is marked in the database).
        self.item_sync: asyncio.Task[None] | None = None
        # The command menu this process last set per private chat: (role, language).
        self.menus_set: dict[int, tuple[str | None, str]] = {}


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """PTB makes one context per update and hands it to every handler group, so the identity the
    first group loads (handlers/identity.py) is there for all the others."""

    _actor: Actor | None = None

    @property
    def actor(self) -> Actor:
        """Who sent this update (loaded once per update, before any other handler)."""
        if self._actor is None:
            raise RuntimeError("the identity pre-handler has not run for this update")
        return self._actor

    @actor.setter
    def actor(self, actor: Actor) -> None:
        self._actor = actor

    @property
    def engine(self) -> Engine:
        return self.bot_data.engine

    @property
    def config(self) -> BotConfig:
        return self.bot_data.config


BotApplication = Application[ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]

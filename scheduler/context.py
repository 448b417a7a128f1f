"""What the running bot holds, typed: handlers write ``context.engine`` and ``context.config``,
never ``context.bot_data[...]``. The bot layer fills it from the settings once, at build time;
everything below receives these plain values, not the settings object."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from telegram.ext import Application, CallbackContext, ExtBot

from domain.access import Actor
from domain.rules import ScheduleRules


@dataclass(frozen=True)
class BotConfig:
    """The settings the running bot acts on, as plain values."""

    rules: ScheduleRules
    default_language: str = "vi"
    admin_user_ids: frozenset[int] = frozenset()
    draft_timeout_minutes: int = 120
    event_max_past_days: int = 366
    event_max_future_days: int = 366
    dispatch_interval: float = 60.0
    digest_weekday: str = "mon"
    digest_at: str = "08:00"  # local time
    # Where the dashboard and calendar feeds are reached (DONDOC_WEB_BASE_URL); None: not offered.
    web_base_url: str | None = None
    flood_per_minute: int = 30  # updates a minute from one person before "slow down"
    flood_cooldown_seconds: float = 60.0  # then ignored this long

    @property
    def tz(self) -> ZoneInfo:
        return self.rules.tz


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

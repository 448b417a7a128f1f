"""The typed CallbackContext: handlers write ``context.engine``, not ``context.bot_data[...]``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from telegram.ext import Application, CallbackContext, ExtBot

from bot.settings import Settings


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[str, Any]]):
    @property
    def engine(self) -> Engine:
        engine: Engine = self.bot_data["engine"]
        return engine

    @property
    def settings(self) -> Settings:
        settings: Settings = self.bot_data["settings"]
        return settings


BotApplication = Application[ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any],
                             dict[str, Any], Any]

"""Builds the Application in one place, and runs it."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, Defaults

import handlers
from bot.commands import menus
from bot.context import BotApplication, BotContext
from bot.settings import Settings
from models.db import make_engine

log = logging.getLogger(__name__)


async def _post_init(app: BotApplication) -> None:
    """Set the command menu in each language (Vietnamese is also the default menu)."""
    all_menus = menus()
    await app.bot.set_my_commands(all_menus["vi"])
    for language, commands in all_menus.items():
        await app.bot.set_my_commands(commands, language_code=language)


async def _post_shutdown(app: BotApplication) -> None:
    app.bot_data["engine"].dispose()


def build_application(settings: Settings, **overrides: Any) -> BotApplication:
    """The bot, wired: settings and database in bot_data, every handler registered."""
    token = settings.require_token()
    context_types = ContextTypes(context=BotContext)
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{settings.bot_api_url}/bot")
        .base_file_url(f"{settings.bot_api_url}/file/bot")
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
        .rate_limiter(AIORateLimiter(max_retries=3))
        .context_types(context_types)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    app: BotApplication = builder.build()  # type: ignore[assignment]
    app.bot_data["settings"] = settings
    app.bot_data["engine"] = overrides.get("engine") or make_engine(settings.database_url)
    handlers.register(app)
    return app


def run_bot(settings: Settings, *, webhook_url: str | None = None) -> None:
    """Run until interrupted (SIGINT/SIGTERM)."""
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = build_application(settings)
    log.info("starting dondoc against %s", settings.bot_api_url)
    app.run_polling(allowed_updates=Update.ALL_TYPES)

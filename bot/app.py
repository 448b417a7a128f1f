"""Builds the Application in one place, and runs it."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from typing import Any

from telegram import MenuButtonDefault, MenuButtonWebApp, Update, WebAppInfo
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults, TypeHandler

import handlers
from bot import logs, web, webhook
from bot.instance_lock import InstanceLock, InstanceLockError
from bot.settings import Settings, SettingsError, bot_config
from bot.updates import PerUserProcessor
from models.app_state import record_bot_username
from models.db import make_engine, run_sync
from scheduler import clock, pacing
from scheduler.context import BotApplication, BotContext, BotData
from views import dashboard, render_pool
from views.i18n import use_locale
from views.menus import menus

log = logging.getLogger(__name__)


async def _post_init(app: BotApplication) -> None:
    """Set the command menu in each language (Vietnamese is also the default menu), then start
    the reminder clock."""
    all_menus = menus()
    await app.bot.set_my_commands(all_menus["vi"])
    for language, commands in all_menus.items():
        await app.bot.set_my_commands(commands, language_code=language)
    await run_sync(record_bot_username, app.bot_data.engine, app.bot.username)  # for `dondoc invite`
    await set_menu_button(app)
    if app.bot_data.start_jobs:
        clock.start(app)


def freeze_heap() -> None:
    """Move what start-up made (modules, classes, mappers, catalogs: it lives as long as the
    process) out of the collector's sight. A full collection walked all of it, 110-125 ms with
    the event loop stopped, a few times a minute while a broadcast went out, and every reply
    under way waited for it (p95 of /tasks at a wave's start 2x idle)."""
    gc.collect()
    gc.freeze()


async def set_menu_button(app: BotApplication) -> None:
    """The chat's menu button opens the dashboard (Telegram takes only https Mini Apps; a local
    http URL keeps the command menu). Without a dashboard, a Mini App button left from an earlier
    configuration goes back to the command menu."""
    base = app.bot_data.config.web_base_url
    url = dashboard.dashboard_url(base or "")
    if not base or not dashboard.web_app_allowed(url):
        if isinstance(await app.bot.get_chat_menu_button(), MenuButtonWebApp):
            await app.bot.set_chat_menu_button(menu_button=MenuButtonDefault())
        return
    with use_locale(app.bot_data.config.default_language):
        button = MenuButtonWebApp(dashboard.menu_button_text(), WebAppInfo(url))
    await app.bot.set_chat_menu_button(menu_button=button)


async def _post_shutdown(app: BotApplication) -> None:
    app.bot_data.engine.dispose()


def build_application(settings: Settings, **overrides: Any) -> BotApplication:
    """The bot, wired: settings and database in bot_data, every handler registered."""
    token = settings.require_token()
    context_types = ContextTypes(context=BotContext, bot_data=BotData)
    builder: Any = (  # its type changes with the rate limiter
        ApplicationBuilder()
        .token(token)
        .base_url(f"{settings.bot_api_url}/bot")
        .base_file_url(f"{settings.bot_api_url}/file/bot")
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
        .context_types(context_types)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        # Different people's updates at once, each person's in order (bot/updates.py).
        .concurrent_updates(PerUserProcessor())
    )
    # Strict pacing, replies before bulk (scheduler/pacing.py); ``rate_limiter=None`` turns it off.
    limiter = overrides["rate_limiter"] if "rate_limiter" in overrides else pacing.rate_limiter()
    if limiter is not None:
        builder = builder.rate_limiter(limiter)
    app: BotApplication = builder.build()
    app.bot_data.config = bot_config(settings)
    app.bot_data.engine = overrides.get("engine") or make_engine(settings.database_url)
    app.bot_data.start_jobs = overrides.get("start_jobs", True)
    # Before every other handler: log lines of this update carry its id.
    app.add_handler(TypeHandler(Update, logs.remember_update), group=logs.UPDATE_ID_GROUP)
    handlers.register(app)
    return app


# How long a thread doing the database work of an /export or /status may keep the GIL while the
# event loop waits for it (Python's default: 5 ms). Each reply takes it a few times (the update
# read, the member looked up in a thread, the answer sent); 1 ms keeps the others' replies
# moving while a leader's export is being read.
SWITCH_INTERVAL = 0.001


def run_bot(settings: Settings, *, webhook_url: str | None = None) -> None:
    """Run until interrupted (SIGINT/SIGTERM): long polling, or webhook mode with a URL."""
    logs.configure(settings.log_level, settings.log_format)
    if webhook_url:
        settings.require_webhook_secret()
    lock = InstanceLock(settings.database_url)
    try:
        lock.acquire()
    except InstanceLockError as exc:
        raise SettingsError(str(exc)) from None
    render_pool.start()  # charts and workbooks in a worker process (views/render_pool.py)
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        app = build_application(settings)
        freeze_heap()  # the process's own start-up (tests build applications without it)
        log.info("starting dondoc against %s", settings.bot_api_url)
        if webhook_url:
            asyncio.run(webhook.serve(app, settings, webhook_url))
        else:
            if settings.web_base_url:
                web.serve_beside_polling(app, settings)
            app.run_polling(allowed_updates=Update.ALL_TYPES)
    finally:
        render_pool.stop()
        lock.release()

"""Webhook mode: a small HTTP server (tornado, which PTB's webhooks extra installs) that
receives updates on a secret path and answers a health check.

Telegram (or the self-hosted Bot API server) POSTs each update to ``{public URL}``; the
request must carry the ``X-Telegram-Bot-Api-Secret-Token`` header we registered, otherwise it
is refused, and a body that is not an Update gets 400 (a one-line warning, no traceback).
``GET /healthz`` reports the database, Telegram's update backlog (getWebhookInfo, plus updates
received but not yet handled here), the ledger's backlog and how long its oldest due message has
waited; 503 when something is unreachable or stuck beyond DONDOC_HEALTH_* (bot/health.py).
Several instances may serve the same URL: all state is in the database."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
import time
from typing import Any

from telegram import Bot, Update
from telegram.error import TelegramError
from tornado.httpserver import HTTPServer
from tornado.web import Application as TornadoApp
from tornado.web import RequestHandler

from bot.health import Limits, health_limits, safe_ledger_health, verdict
from bot.settings import Settings
from bot.web import web_routes
from models.db import run_sync
from models.types import utcnow
from scheduler.context import BotApplication

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SHUTDOWN_TIMEOUT = 25.0  # seconds; SIGTERM must end the process within 30 s
TELEGRAM_CACHE_SECONDS = 10.0  # a monitor polling /healthz every second asks Telegram this often


class NotAnUpdate(ValueError):
    """A webhook body that is not an Update: answered with 400."""


def parse_update(body: bytes, bot: Bot) -> Update:
    """The Update in a webhook body, or :class:`NotAnUpdate` (invalid JSON or UTF-8, not an
    object, no integer update_id, fields of the wrong type)."""
    try:
        data = json.loads(body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise NotAnUpdate(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        raise NotAnUpdate("not an object with an integer update_id")
    try:
        update = Update.de_json(data, bot)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise NotAnUpdate(f"{exc.__class__.__name__}: {exc}") from None
    if update is None:
        raise NotAnUpdate("empty")
    return update


class TelegramFacts:
    """getWebhookInfo, asked at most every TELEGRAM_CACHE_SECONDS."""

    def __init__(self, app: BotApplication) -> None:
        self.app = app
        self._at = float("-inf")
        self._facts: tuple[dict[str, Any], str | None] = ({}, None)

    async def get(self) -> tuple[dict[str, Any], str | None]:
        if time.monotonic() - self._at >= TELEGRAM_CACHE_SECONDS:
            self._facts, self._at = await self._ask(), time.monotonic()
        return self._facts

    async def _ask(self) -> tuple[dict[str, Any], str | None]:
        try:
            info = await self.app.bot.get_webhook_info()
        except TelegramError as exc:
            return {}, f"unreachable: {exc.__class__.__name__}"
        facts: dict[str, Any] = {"pending_update_count": info.pending_update_count,
                                 "webhook_set": bool(info.url)}
        if info.last_error_message:
            facts["last_error"] = info.last_error_message
            if info.last_error_date is not None:
                facts["last_error_at"] = info.last_error_date.isoformat()
        return facts, None


async def health(app: BotApplication, telegram: TelegramFacts, limits: Limits) -> tuple[int, dict[str, Any]]:
    """The /healthz answer: 200 with the facts, or 503 with the reasons too."""
    ledger, database_error = await run_sync(safe_ledger_health, app.bot_data.engine, utcnow(),
                                            app.bot_data.config.rules)
    facts, telegram_error = await telegram.get()
    updates: dict[str, Any] = {**facts, "received_not_handled": app.update_queue.qsize(),
                               "limit": limits.max_pending_updates}
    pending = facts.get("pending_update_count")
    updates["waiting"] = None if pending is None else pending + updates["received_not_handled"]
    if telegram_error:
        updates["error"] = telegram_error
    problems = verdict(database_error=database_error, ledger=ledger, telegram_error=telegram_error,
                       waiting_updates=updates["waiting"], limits=limits)
    body: dict[str, Any] = {"status": "stuck" if problems else "ok", "problems": problems,
                            "database": database_error or "ok", "updates": updates}
    if ledger is not None:
        due = ledger.oldest_due_seconds
        body["backlog"] = ledger.backlog.to_dict()
        body["ledger"] = {"oldest_due_seconds": None if due is None else round(due, 1),
                          "limit_seconds": limits.max_due_seconds}
    return (503 if problems else 200), body


class UpdateHandler(RequestHandler):
    def initialize(self, app: BotApplication, secret: str) -> None:
        self.app, self.secret = app, secret

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            self.set_status(403)
            return
        try:
            update = parse_update(self.request.body, self.app.bot)
        except NotAnUpdate as exc:
            # Telegram never sends these: a client's mistake, told in one line (no traceback).
            log.warning("webhook: refused a body that is not an Update (%s)", str(exc)[:200])
            self.set_status(400)
            return
        await self.app.update_queue.put(update)
        self.set_status(200)


class HealthHandler(RequestHandler):
    def initialize(self, app: BotApplication, telegram: TelegramFacts, limits: Limits) -> None:
        self.app, self.telegram, self.limits = app, telegram, limits

    async def get(self) -> None:
        status, body = await health(self.app, self.telegram, self.limits)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


def make_server(app: BotApplication, settings: Settings) -> HTTPServer:
    secret = settings.require_webhook_secret()
    routes: list[tuple[str, type[RequestHandler], dict[str, Any]]] = [
        (f"/{settings.webhook_path.strip('/')}", UpdateHandler, {"app": app, "secret": secret}),
        ("/healthz", HealthHandler, {"app": app, "telegram": TelegramFacts(app),
                                     "limits": health_limits(settings)}),
    ]
    if settings.web_base_url:  # the dashboard and calendar feeds on the same server
        routes += web_routes(app, settings)
    return HTTPServer(TornadoApp(routes))


async def serve(app: BotApplication, settings: Settings, public_url: str) -> None:
    """Run until SIGTERM/SIGINT, then finish what is in flight and stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.bot.set_webhook(url=public_url, secret_token=settings.require_webhook_secret(),
                              allowed_updates=Update.ALL_TYPES)
    await app.start()
    server = make_server(app, settings)
    server.listen(settings.webhook_port, address=settings.webhook_listen)
    log.info("webhook mode: listening on %s:%s, public URL %s", settings.webhook_listen,
             settings.webhook_port, public_url)
    try:
        await stop.wait()
    finally:
        log.info("shutting down: finishing work in flight")
        server.stop()
        await asyncio.wait_for(_stop_app(app), timeout=SHUTDOWN_TIMEOUT)


async def _stop_app(app: BotApplication) -> None:
    await app.stop()
    if app.post_stop is not None:
        await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)

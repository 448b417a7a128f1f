"""Webhook mode: a small HTTP server (tornado, which PTB's webhooks extra installs) that
receives updates on a secret path and answers a health check.

Telegram (or the self-hosted Bot API server) POSTs each update to ``{public URL}``; the
request must carry the ``X-Telegram-Bot-Api-Secret-Token`` header we registered, otherwise it
is refused. ``GET /healthz`` reports database reachability and the delivery ledger's backlog
(503 when the database cannot be reached), for load balancers and monitoring. Several
instances may serve the same URL: all state is in the database."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from tornado.httpserver import HTTPServer
from tornado.web import Application as TornadoApp
from tornado.web import RequestHandler

from bot.settings import Settings
from models.db import run_sync, session_scope
from models.ledger import backlog
from models.types import utcnow
from scheduler.context import BotApplication

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SHUTDOWN_TIMEOUT = 25.0  # seconds; SIGTERM must end the process within 30 s


def health(engine: Engine) -> tuple[int, dict[str, Any]]:
    try:
        with session_scope(engine) as session:
            session.execute(text("SELECT 1"))
            stats = backlog(session, utcnow())
    except SQLAlchemyError as exc:
        return 503, {"status": "error", "database": f"unreachable: {exc.__class__.__name__}"}
    return 200, {"status": "ok", "database": "ok", "backlog": stats.to_dict()}


class UpdateHandler(RequestHandler):
    def initialize(self, app: BotApplication, secret: str) -> None:
        self.app, self.secret = app, secret

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            self.set_status(403)
            return
        try:
            data = json.loads(self.request.body)
        except ValueError:
            self.set_status(400)
            return
        update = Update.de_json(data, self.app.bot)
        if update is not None:
            await self.app.update_queue.put(update)
        self.set_status(200)


class HealthHandler(RequestHandler):
    def initialize(self, engine: Engine) -> None:
        self.engine = engine

    async def get(self) -> None:
        status, body = await run_sync(health, self.engine)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


def make_server(app: BotApplication, settings: Settings) -> HTTPServer:
    secret = settings.require_webhook_secret()
    routes: list[tuple[str, type[RequestHandler], dict[str, Any]]] = [
        (f"/{settings.webhook_path.strip('/')}", UpdateHandler, {"app": app, "secret": secret}),
        ("/healthz", HealthHandler, {"engine": app.bot_data.engine}),
    ]
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

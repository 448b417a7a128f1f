"""The web side of ``dondoc run``: the leaders' dashboard (a Telegram Mini App) at ``/app/`` and
the calendar feeds at ``/ical/<token>.ics``, served by the same process as the bot — on the
webhook server in webhook mode, on DONDOC_WEB_LISTEN:DONDOC_WEB_PORT in polling mode
(tornado, which PTB's webhooks extra installs).

The page (``/app/``) holds no figures. Its script reads Telegram's launch data from the URL
fragment and sends it with every request as ``Authorization: tma <initData>``; every
``/app/api/…`` request is validated (``domain.webapp_auth``: Telegram's HMAC, ``auth_date`` no
older than DONDOC_WEB_AUTH_MAX_AGE_SECONDS). Missing, forged or stale data: 401 and no data. A
valid launch by someone who is not an active member, or a page outside their scope: 403 with
the refusal only. The figures are ``models.status``'s, the roll-up /status shows.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.web import Application as TornadoApp
from tornado.web import RedirectHandler, RequestHandler, StaticFileHandler

from bot.settings import Settings
from domain.access import Actor, NotAllowed
from domain.periods import Period
from domain.webapp_auth import BadLaunchData, LaunchData, validate
from models import calendar_feeds, history, status
from models.db import run_sync, session_scope
from models.members import load_actor
from models.registry import NoPlan
from models.rollup import choose_period, parse_period
from models.types import utcnow
from scheduler.context import BotApplication
from views import dashboard, ical
from views.i18n import negotiate, use_locale

log = logging.getLogger(__name__)

# The page loads only its own script and style sheet; Telegram Web shows it in a frame.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'")
AUTH_SCHEME = "tma "


class ShellHandler(RequestHandler):
    """``/app/``: the page, in the language the browser asks for (Telegram's own)."""

    def initialize(self, app: BotApplication) -> None:
        self.app = app

    def get(self) -> None:
        accept = self.request.headers.get("Accept-Language", "").split(",")[0].split(";")[0]
        language = negotiate(chosen=None, telegram_language_code=accept or None,
                             default=self.app.bot_data.config.default_language)
        with use_locale(language):
            page = dashboard.shell_html("static/")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Security-Policy", CSP)
        self.set_header("Cache-Control", "no-store")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(page)


class AssetHandler(StaticFileHandler):
    def set_extra_headers(self, path: str) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-cache")


def _period(arg: str | None, day: Any, app: BotApplication) -> Period:
    rules = app.bot_data.config.rules.due
    return parse_period(arg, rules) if arg else choose_period(None, day, rules)


def _int(value: str | None) -> int:
    if value is None or not value.lstrip("-").isdigit() or len(value) > 10:
        raise ValueError(f"not a number: {value!r}")
    return int(value)


def _plan(args: dict[str, str]) -> int:
    """The ``plan`` argument (a plan's id; 0 or none: the only plan in force)."""
    return _int(args["plan"]) if "plan" in args else 0


def _summary(app: BotApplication, actor: Actor, period: Period, day: Any, args: dict[str, str]) -> Any:
    return status.summary(app.bot_data.engine, actor, period, day, _plan(args)), dashboard.summary_page


def _axis(app: BotApplication, actor: Actor, period: Period, day: Any, args: dict[str, str]) -> Any:
    return status.axis_page(app.bot_data.engine, actor, period, _int(args.get("n")), day,
                             _plan(args)), dashboard.axis_page


def _task(app: BotApplication, actor: Actor, period: Period, day: Any, args: dict[str, str]) -> Any:
    return (status.task_page(app.bot_data.engine, actor, period, _int(args.get("id")), day, _plan(args)),
            dashboard.task_page)


def _agency(app: BotApplication, actor: Actor, period: Period, day: Any, args: dict[str, str]) -> Any:
    return (status.agency_page(app.bot_data.engine, actor, period, _int(args.get("id")), day,
                               plan_id=_plan(args)),
            dashboard.agency_page)


def _overdue(app: BotApplication, actor: Actor, period: Period, day: Any, args: dict[str, str]) -> Any:
    return status.overdue_page(app.bot_data.engine, actor, period, day, _plan(args)), dashboard.overdue_page


def _overdue_agency(app: BotApplication, actor: Actor, period: Period, day: Any,
                    args: dict[str, str]) -> Any:
    return (status.overdue_agency_page(app.bot_data.engine, actor, period, _int(args.get("id")), day,
                                       plan_id=_plan(args)),
            dashboard.overdue_agency_page)


def _history(app: BotApplication, actor: Actor, period: Period, day: Any, args: dict[str, str]) -> Any:
    found = history.item_history(app.bot_data.engine, actor, _int(args.get("id")))
    return found, lambda page: dashboard.history_page(page, app.bot_data.config.tz)


def _ranking(app: BotApplication, actor: Actor, period: Period, day: Any, args: dict[str, str]) -> Any:
    return status.ranking_page(app.bot_data.engine, actor, period, day, _plan(args)), dashboard.ranking_page


PAGES = {"summary": _summary, "axis": _axis, "task": _task, "agency": _agency, "overdue": _overdue,
         "overdue_agency": _overdue_agency, "history": _history, "ranking": _ranking}


def launch_data(header: str, bot_token: str, max_age: timedelta) -> LaunchData:
    """The validated launch data of a request's Authorization header, or BadLaunchData."""
    if not header.startswith(AUTH_SCHEME):
        raise BadLaunchData("missing")
    return validate(header[len(AUTH_SCHEME):].strip(), bot_token, utcnow(), max_age)


class ApiHandler(RequestHandler):
    """``/app/api/<page>``: one page of the dashboard as JSON, for a validated launch only."""

    def initialize(self, app: BotApplication, token: str, max_age: timedelta) -> None:
        self.app, self.token, self.max_age = app, token, max_age

    def _answer(self, code: int, body: dict[str, Any]) -> None:
        self.set_status(code)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(json.dumps(body, ensure_ascii=False))

    async def get(self, page: str) -> None:
        try:
            launch = launch_data(self.request.headers.get("Authorization", ""), self.token, self.max_age)
        except BadLaunchData as exc:
            log.info("dashboard: refused launch data (%s)", exc.reason)
            self._answer(401, {"error": "unauthorized"})
            return
        config = self.app.bot_data.config
        actor = await run_sync(_load_actor, self.app, launch.user_id)
        language = negotiate(chosen=actor.language, telegram_language_code=launch.language_code,
                             default=config.default_language)
        with use_locale(language):
            code, body = await self._page(page, actor)
        self._answer(code, body)

    async def _page(self, page: str, actor: Actor) -> tuple[int, dict[str, Any]]:
        find = PAGES.get(page)
        if find is None:
            return 404, dashboard.refusal("bad_request")
        day = utcnow().astimezone(self.app.bot_data.config.tz).date()
        args = {name: self.get_query_argument(name) for name in ("period", "n", "id", "plan")
                if self.get_query_argument(name, None) is not None}
        try:
            period = _period(args.get("period"), day, self.app)
            found, render = await run_sync(find, self.app, actor, period, day, args)
        except NoPlan:  # a ValueError too: no plan, or none with that id
            return 404, dashboard.refusal("no_plan")
        except ValueError:
            return 400, dashboard.refusal("bad_request")
        except NotAllowed as exc:
            reason = exc.reason if exc.reason in ("scope", "role") else "not_allowed"
            return 403, dashboard.refusal(reason)
        except (status.Gone, history.Gone):
            return 404, dashboard.refusal("gone")
        except status.ChoosePlan as choice:  # several plans in force: which one, first
            return 200, dashboard.plan_choice_page(choice.plans, period, page)
        return 200, render(found)


class IcalHandler(RequestHandler):
    """``/ical/<token>.ics``: the member's deadlines; 404 for an unknown or revoked link."""

    def initialize(self, app: BotApplication) -> None:
        self.app = app

    async def get(self, token: str) -> None:
        config = self.app.bot_data.config
        now = utcnow()
        found = await run_sync(calendar_feeds.feed, self.app.bot_data.engine, token,
                               now.astimezone(config.tz).date(), config.admin_user_ids)
        if found is None:
            self.set_status(404)
            self.finish("not found\n")
            return
        language = negotiate(chosen=found.language, telegram_language_code=None,
                             default=config.default_language)
        with use_locale(language):
            body = await run_sync(ical.feed_ics, found, config.rules.policy, config.tz, now)
        self.set_header("Content-Type", "text/calendar; charset=utf-8")
        self.set_header("Cache-Control", "private, max-age=300")
        self.set_header("Referrer-Policy", "no-referrer")
        self.finish(body)


def _load_actor(app: BotApplication, user_id: int) -> Actor:
    with session_scope(app.bot_data.engine) as session:
        return load_actor(session, user_id, app.bot_data.config.admin_user_ids)


Route = tuple[str, type[RequestHandler], dict[str, Any]]


def web_routes(app: BotApplication, settings: Settings) -> list[Route]:
    """The dashboard's routes (and the calendar feeds'), for either server."""
    max_age = timedelta(seconds=settings.web_auth_max_age_seconds)
    return [
        (r"/app", RedirectHandler, {"url": "/app/"}),
        (r"/app/", ShellHandler, {"app": app}),
        (r"/app/static/(dashboard\.(?:js|css))", AssetHandler, {"path": str(dashboard.static_dir())}),
        (r"/app/api/([a-z_]{1,20})", ApiHandler, {"app": app, "token": settings.require_token(),
                                                  "max_age": max_age}),
        (r"/ical/([A-Za-z0-9_-]{16,64})\.ics", IcalHandler, {"app": app}),
    ]


def make_web_server(app: BotApplication, settings: Settings) -> HTTPServer:
    return HTTPServer(TornadoApp(web_routes(app, settings)))


def serve_beside_polling(app: BotApplication, settings: Settings) -> None:
    """Polling mode: start the web server with the bot (post_init) and stop it with it."""
    servers: list[HTTPServer] = []
    started, stopped = app.post_init, app.post_stop

    async def post_init(application: BotApplication) -> None:
        if started is not None:
            await started(application)
        server = make_web_server(application, settings)
        server.listen(settings.web_port, address=settings.web_listen)
        servers.append(server)
        log.info("dashboard: listening on %s:%s, public URL %s", settings.web_listen, settings.web_port,
                 settings.web_base_url)

    async def post_stop(application: BotApplication) -> None:
        for server in servers:
            server.stop()
        if stopped is not None:
            await stopped(application)

    app.post_init = post_init
    app.post_stop = post_stop

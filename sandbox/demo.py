"""``make demo``: dondoc without Telegram. One process runs

- the Bot API stand-in (``sandbox.stub_botapi``) as "Telegram";
- the real bot (``bot.app.build_application``, long polling, reminder jobs on) against it, with a
  sample province: Plan 916, Quang Ninh's agencies and districts, four people (a focal point of
  Hạ Long, a coordinator of the Department of Home Affairs, the province's leader, an admin);
- the dashboard and calendar feeds (``bot.web``) at ``http://127.0.0.1:<web port>``;
- a small page that acts as a Telegram chat for the person you choose (messages, buttons,
  files), and opens the dashboard with launch data signed as Telegram would.

    python -m sandbox.demo [--port 8000] [--web-port 8001] [--dir .demo]

Everything is kept in ``--dir`` (a fresh SQLite database each start); nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import mimetypes
import signal
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlmodel import col, select
from tornado.httpserver import HTTPServer
from tornado.web import Application as TornadoApp
from tornado.web import RequestHandler, StaticFileHandler

from bot.app import build_application
from bot.settings import Settings, load_settings, schedule_rules
from bot.web import make_web_server
from domain.official import COMPLETED_STATES
from domain.plan_parser import parse_plan
from domain.webapp_auth import signed_init_data
from models import agencies, registry
from models.db import make_engine, session_scope, upgrade
from models.tables import Agency, Item, ItemState, Member, MemberRole
from models.types import utcnow
from sandbox.stub_botapi import StubBotApi
from scheduler.deadlines import sync_items
from views import demo as demo_views
from views.i18n import use_locale

TOKEN = "7000000001:DEMO-dondoc-local-token-not-a-secret"
BOT_USERNAME = "dondoc_demo_bot"


@dataclass(frozen=True)
class Person:
    user_id: int
    role: str
    agency_code: str | None
    name: str
    who: str  # what the person is, for the role chooser (a key of views.demo.WHO)


PEOPLE = (
    Person(5001, MemberRole.FOCAL_POINT.value, "HA-LONG", "Trần Thị Lan", "focal_point"),
    Person(5002, MemberRole.COORDINATOR.value, "SNV", "Nguyễn Văn Điều Phối", "coordinator"),
    Person(5003, MemberRole.LEADER.value, "UBND-TINH", "Lê Lãnh Đạo", "leader"),
    Person(5004, MemberRole.ADMIN.value, None, "Phạm Quản Trị", "admin"),
)
# A sample of earlier work, so that the figures are not all zero: items of periods already due,
# in a fixed pattern (the same every start).
PATTERN = (ItemState.VERIFIED, ItemState.REPORTED, ItemState.IN_PROGRESS, ItemState.NOT_STARTED,
           ItemState.VERIFIED, ItemState.BLOCKED, ItemState.NOT_STARTED, ItemState.VERIFIED)


def prepare(settings: Settings, today: date) -> None:
    """A fresh database with the sample province and its people."""
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            agencies.load_bundled_agencies(session)
            agencies.import_agencies(session, agencies.parse_agency_csv(
                agencies.bundled("quang_ninh_districts_2016.csv")))
            raw = agencies.bundled("plan916.txt")
            registry.import_plan(session, parse_plan(raw), raw=raw, source_name="plan916.txt",
                                 active_from=date(today.year, 1, 1), actor="demo")
            plan = registry.current_plan(session)
            assert plan is not None
            sync_items(session, plan, today, schedule_rules(settings).due)
            for person in PEOPLE:
                agency = (session.exec(select(Agency).where(Agency.code == person.agency_code)).one()
                          if person.agency_code else None)
                session.add(Member(telegram_user_id=person.user_id, role=person.role,
                                   agency_id=agency.id if agency else None, full_name=person.name))
            earlier = session.exec(select(Item).where(Item.due_on < today).order_by(col(Item.id)))
            for index, item in enumerate(earlier):
                item.state = PATTERN[index % len(PATTERN)].value
                if item.state in COMPLETED_STATES:  # every other one a few days late
                    item.completed_on = item.due_on + timedelta(days=3 * (index % 2))
    finally:
        engine.dispose()


# --- the chat page ----------------------------------------------------------------------------

def _person(handler: RequestHandler) -> Person:
    user_id = int(handler.get_argument("user", "0") or 0)
    for person in PEOPLE:
        if person.user_id == user_id:
            return person
    raise ValueError(f"no such person: {user_id}")


class Page(RequestHandler):
    def get(self) -> None:
        language = "en" if self.get_argument("lang", "vi") == "en" else "vi"
        with use_locale(language):
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
            self.finish(demo_views.chat_page(language, [(p.user_id, p.name, p.role, p.who) for p in PEOPLE]))


class Api(RequestHandler):
    def initialize(self, stub: StubBotApi, settings: Settings) -> None:
        self.stub, self.bot_settings = stub, settings

    def _user(self) -> dict[str, Any]:
        person = _person(self)
        first, _sep, last = person.name.rpartition(" ")
        return self.stub.user(person.user_id, last, last_name=first or None, language_code="vi")

    def _json(self, body: object) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body, ensure_ascii=False))


class Messages(Api):
    """The conversation: the person's messages and the bot's (as edited), by message id."""

    def get(self) -> None:
        user = self._user()
        entries = [{"id": m["message_id"], "from": "me", "text": m.get("text") or m.get("caption") or "",
                    "file": (m.get("document") or {}).get("file_name", "")}
                   for m in self.stub.user_messages(user["id"])]
        for m in self.stub.sent_messages(user["id"]):
            rows = (m.reply_markup or {}).get("inline_keyboard", [])
            entries.append({"id": m.message_id, "from": "bot", "html": m.raw_text or "",
                            "buttons": [[{k: b[k] for k in ("text", "callback_data", "url") if k in b}
                                         | ({"url": b["web_app"]["url"]} if "web_app" in b else {})
                                         for b in row] for row in rows],
                            "document": _file(m.document), "photo": _file(m.photo[-1] if m.photo else None)})
        self._json(sorted(entries, key=lambda e: e["id"]))


def _file(found: dict[str, Any] | None) -> dict[str, str] | None:
    if not found:
        return None
    return {"id": found["file_id"], "name": found.get("file_name", "photo.jpg")}


class Send(Api):
    def post(self) -> None:
        body = json.loads(self.request.body or b"{}")
        user = self._user()
        if body.get("text"):
            self.stub.send_text(user, str(body["text"])[:4096])
        elif body.get("press"):
            self.stub.press_button(user, (user["id"], int(body["message_id"])), str(body["press"]))
        self._json({"ok": True})


class Upload(Api):
    def post(self) -> None:
        user = self._user()
        for upload in self.request.files.get("file", [])[:1]:
            mime = (upload.content_type or mimetypes.guess_type(upload.filename)[0]
                    or "application/octet-stream")
            self.stub.send_document(user, upload.filename, upload.body, mime)
        self._json({"ok": True})


class Download(Api):
    def get(self, file_id: str) -> None:
        name = self.get_argument("name", "file")
        self.set_header("Content-Type", mimetypes.guess_type(name)[0] or "application/octet-stream")
        self.set_header("Content-Disposition", f"inline; filename*=UTF-8''{quote(name)}")
        self.finish(self.stub.file_content(file_id))


class Open(Api):
    """A Mini App (or dashboard link) button: the URL with launch data in its fragment, signed
    with the bot's token as Telegram signs it, for the chosen person."""

    def get(self) -> None:
        person, url = _person(self), self.get_argument("url")
        base = self.bot_settings.web_base_url or ""
        if not url.startswith(base + "/"):
            self.redirect(url)  # some other link
            return
        fields = {"query_id": f"demo{int(time.time())}", "auth_date": str(int(utcnow().timestamp())),
                  "user": json.dumps({"id": person.user_id, "first_name": person.name, "language_code": "vi"},
                                     ensure_ascii=False),
                  "chat_type": "sender", "chat_instance": str(person.user_id)}
        theme = json.dumps({"bg_color": "#ffffff", "text_color": "#000000", "hint_color": "#707579",
                            "link_color": "#3390ec", "button_color": "#3390ec",
                            "button_text_color": "#ffffff", "secondary_bg_color": "#f4f4f5"})
        init_data = signed_init_data(fields, self.bot_settings.require_token())
        self.redirect(f"{url}#tgWebAppData={quote(init_data, safe='')}&tgWebAppVersion=8.0"
                      f"&tgWebAppPlatform=web&tgWebAppThemeParams={quote(theme, safe='')}")


Route = tuple[str, type[RequestHandler], dict[str, Any]]


def chat_routes(stub: StubBotApi, settings: Settings) -> list[Route]:
    shared = {"stub": stub, "settings": settings}
    return [(r"/", Page, {}),
            (r"/static/(chat\.(?:js|css))", StaticFileHandler, {"path": str(files("sandbox") / "web")}),
            (r"/api/messages", Messages, shared), (r"/api/send", Send, shared),
            (r"/api/upload", Upload, shared), (r"/api/file/([A-Za-z0-9_-]+)", Download, shared),
            (r"/api/open", Open, shared)]


# --- running ----------------------------------------------------------------------------------

async def serve(args: argparse.Namespace) -> None:
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "demo.sqlite3"
    for stale in folder.glob("demo.sqlite3*"):
        stale.unlink()
    stub = StubBotApi(TOKEN, BOT_USERNAME, port=args.api_port).start()
    web_root = f"http://127.0.0.1:{args.web_port}"
    settings = load_settings(bot_token=TOKEN, bot_api_url=stub.url, database_url=f"sqlite:///{database.resolve()}",
                             web_base_url=web_root, web_port=args.web_port, web_listen="127.0.0.1")
    today = utcnow().astimezone(settings.tz).date()
    prepare(settings, today)
    app = build_application(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with app:
        web = make_web_server(app, settings)
        web.listen(args.web_port, address="127.0.0.1")  # a port in use stops here, before the bot
        chat = HTTPServer(TornadoApp(chat_routes(stub, settings)))
        chat.listen(args.port, address="127.0.0.1")
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        sys.stdout.write(f"dondoc demo: open http://127.0.0.1:{args.port}/ (dashboard {web_root}/app/); "
                         "Ctrl-C stops it\n")
        sys.stdout.flush()
        try:
            await stop.wait()
        finally:
            chat.stop()
            web.stop()
            await app.updater.stop()
            await app.stop()
            stub.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="dondoc without Telegram: a local chat and dashboard")
    parser.add_argument("--port", type=int, default=8000, help="the chat page")
    parser.add_argument("--web-port", type=int, default=8001, help="the dashboard and calendar feeds")
    parser.add_argument("--api-port", type=int, default=0, help="the Bot API stand-in (0: any free port)")
    parser.add_argument("--dir", default=".demo", help="where the demo's database is kept")
    asyncio.run(serve(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

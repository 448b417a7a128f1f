"""Webhook mode: the real server (bot/webhook.py) against the Bot API stand-in. /healthz shows
Telegram's update backlog and how long the oldest due message has waited, and answers 503 when
either is beyond its DONDOC_HEALTH_* limit; bodies that are not Updates get 400 and one warning
line, never a traceback."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete
from telegram import Bot, Update

from bot import webhook
from bot.app import build_application
from bot.health import ledger_health, sendable_time
from bot.settings import Settings, schedule_rules
from bot.webhook import NotAnUpdate, make_server, parse_update
from domain.slots import ReminderPolicy
from models.db import session_scope
from models.tables import Delivery
from models.types import utcnow
from scheduler.context import BotApplication
from tests.bot_harness import make_settings, stub_fixture  # noqa: F401
from tests.stub_botapi import StubBotApi

pytestmark = pytest.mark.e2e
SECRET = "s3cret-for_health"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def hook_settings(stub: StubBotApi, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Settings:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(webhook, "TELEGRAM_CACHE_SECONDS", 0.0)  # ask Telegram on every request
    return make_settings(stub, db_url, webhook_secret=SECRET, webhook_listen="127.0.0.1",
                         webhook_port=_free_port(), health_max_pending_updates=5, health_max_due_seconds=60)


@pytest.fixture
async def served(hook_settings: Settings, engine: Engine) -> AsyncIterator[tuple[BotApplication, str]]:
    """The bot in webhook mode (no reminder jobs, so nothing drains the ledger by itself)."""
    app = build_application(hook_settings, engine=engine, start_jobs=False)
    async with app:
        await app.start()
        server = make_server(app, hook_settings)
        server.listen(hook_settings.webhook_port, address="127.0.0.1")
        root = f"http://127.0.0.1:{hook_settings.webhook_port}"
        await app.bot.set_webhook(f"{root}/telegram", secret_token=SECRET)
        try:
            yield app, root
        finally:
            server.stop()
            await app.stop()


async def healthz(root: str) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{root}/healthz", timeout=10)
    return answer.status_code, answer.json()


def _due(engine: Engine, *, ago: timedelta, kind: str = "broadcast") -> None:
    now = utcnow()
    with session_scope(engine) as s:
        s.add(Delivery(key=f"test:{kind}:{ago}", kind=kind, chat_id=42, slot_at=now - ago,
                       next_attempt_at=now - ago, created_at=now - ago))


async def test_healthz_tells_backlogs_and_stuck(stub: StubBotApi, served: tuple[BotApplication, str],
                                               engine: Engine) -> None:
    _app, root = served
    status, body = await healthz(root)
    assert status == 200 and body["status"] == "ok" and body["problems"] == []
    assert body["database"] == "ok" and body["backlog"]["pending"] == 0
    assert body["updates"]["pending_update_count"] == 0 and body["updates"]["webhook_set"] is True
    assert body["ledger"]["oldest_due_seconds"] is None

    # A message due two minutes ago that nobody sends: beyond the 60 s limit.
    _due(engine, ago=timedelta(minutes=2))
    status, body = await healthz(root)
    assert status == 503 and body["status"] == "stuck"
    assert 115 <= body["ledger"]["oldest_due_seconds"] <= 180
    assert any("due message has waited" in p for p in body["problems"])
    with session_scope(engine) as s:
        s.execute(delete(Delivery))
    assert (await healthz(root))[0] == 200

    # Telegram cannot deliver to us (the secret it sends no longer matches): updates pile up.
    await _app.bot.set_webhook(f"{root}/telegram", secret_token="not-ours")
    user = stub.user(77, "Khách")
    for n in range(8):
        stub.send_text(user, f"/help {n}")
    await stub.await_for(lambda: len(stub.pending_updates()) == 8, timeout=10)
    status, body = await healthz(root)
    assert status == 503 and body["updates"]["pending_update_count"] == 8
    assert body["updates"]["waiting"] == 8 and body["updates"]["limit"] == 5
    assert "8 updates waiting (limit 5)" in body["problems"]
    assert "403" in body["updates"].get("last_error", "")

    # The right secret again: Telegram delivers them, the backlog drains.
    await _app.bot.set_webhook(f"{root}/telegram", secret_token=SECRET)
    await stub.await_for(lambda: not stub.pending_updates(), timeout=20)
    assert (await healthz(root))[0] == 200

    stub.stop()  # Telegram unreachable
    status, body = await healthz(root)
    assert status == 503 and body["updates"]["error"].startswith("unreachable")


BODIES = [b"[]", b"null", b"1", b'"update"', b"{", b"\xff\xfe", b"{}", b'{"update_id": "1"}',
          b'{"update_id": true}', b'{"update_id": 1.5}', b'{"update_id": 1, "message": 5}',
          b'{"update_id": 1, "message": {"chat": 1}}', b'{"update_id": 1, "message": []}',
          b'{"update_id": 1, "callback_query": {"id": 1, "from": "x"}}']


async def test_bodies_that_are_not_updates_get_400_without_a_traceback(
        served: tuple[BotApplication, str], caplog: pytest.LogCaptureFixture) -> None:
    _app, root = served
    caplog.set_level(logging.WARNING)
    headers = {webhook.SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    async with httpx.AsyncClient() as client:
        for body in BODIES:
            answer = await client.post(f"{root}/telegram", content=body, headers=headers, timeout=10)
            assert answer.status_code == 400, body
        ok = await client.post(f"{root}/telegram", headers=headers, timeout=10, content=json.dumps(
            {"update_id": 9, "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"},
                                         "from": {"id": 5, "is_bot": False, "first_name": "A"},
                                         "text": "hi"}}).encode())
        assert ok.status_code == 200
        forbidden = await client.post(f"{root}/telegram", content=b"[]", timeout=10)
        assert forbidden.status_code == 403
    refusals = [r for r in caplog.records if "not an Update" in r.getMessage()]
    assert len(refusals) == len(BODIES) and all(r.levelno == logging.WARNING for r in refusals)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                max_size=4), max_leaves=12)
FIELDS = ["message", "edited_message", "callback_query", "my_chat_member", "chat_member", "inline_query"]
INNER = ["message_id", "date", "chat", "from", "text", "id", "data", "entities", "document", "photo"]
UPDATE_LIKE = st.fixed_dictionaries({"update_id": st.integers()}, optional={
    field: st.one_of(JSON, st.dictionaries(st.sampled_from(INNER), JSON, max_size=6)) for field in FIELDS})


BOT = Bot("123:ABC")  # never started: de_json only needs it to attach


def _encoded(values: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    return values.map(lambda v: json.dumps(v).encode())


@settings(deadline=None)  # the machine is shared: timing is not what this tests
@given(st.one_of(_encoded(JSON), _encoded(UPDATE_LIKE), st.binary(max_size=64)))
def test_parse_update_refuses_with_one_error_type(body: bytes) -> None:
    """Whatever the body: an Update, or NotAnUpdate (400), never another exception (500)."""
    with contextlib.suppress(NotAnUpdate):
        assert isinstance(parse_update(body, BOT), Update)


def test_quiet_hours_do_not_count_as_waiting() -> None:
    policy = ReminderPolicy()  # quiet 21:00-07:00
    at = datetime(2026, 12, 1, 20, 0, tzinfo=TZ)
    assert sendable_time(at, at.replace(hour=20, minute=30), policy) == timedelta(minutes=30)
    # Due 20:00, still waiting at 07:10 the next morning: 1 h before 21:00 and 10 min after 07:00.
    assert sendable_time(at, datetime(2026, 12, 2, 7, 10, tzinfo=TZ), policy) == timedelta(minutes=70)
    assert sendable_time(at.replace(hour=23), datetime(2026, 12, 2, 6, 0, tzinfo=TZ), policy) == timedelta(0)
    assert sendable_time(at, at + timedelta(days=2), policy) == timedelta(hours=2 * 14)


def test_a_notice_held_overnight_is_not_stuck_at_seven(hook_settings: Settings, engine: Engine) -> None:
    rules = schedule_rules(hook_settings)
    queued = datetime(2026, 12, 1, 22, 0, tzinfo=TZ).astimezone(UTC)
    with session_scope(engine) as s:
        s.add(Delivery(key="notice:x:1", kind="notice", chat_id=1, slot_at=queued, next_attempt_at=queued))
    night = ledger_health(engine, datetime(2026, 12, 2, 3, 0, tzinfo=TZ).astimezone(UTC), rules)
    assert night.oldest_due_seconds is None  # held by quiet hours: not waiting
    morning = ledger_health(engine, datetime(2026, 12, 2, 7, 2, tzinfo=TZ).astimezone(UTC), rules)
    assert morning.oldest_due_seconds == 120


def test_doctor_reports_the_same_backlogs_in_polling_mode(stub: StubBotApi, db_url: str, engine: Engine,
                                                          tmp_path: Any) -> None:
    """No /healthz without a webhook: `dondoc doctor` (a real process) tells what can be known —
    Telegram's count of updates not yet fetched, and the oldest due message's wait."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(DONDOC_DATABASE_URL=db_url, DONDOC_BOT_TOKEN=stub.token, DONDOC_BOT_API_URL=stub.url,
               DONDOC_ENV_FILE=str(tmp_path / "no.env"), DONDOC_HEALTH_MAX_PENDING_UPDATES="2",
               DONDOC_HEALTH_MAX_DUE_SECONDS="60", PYTHONPATH=str(Path(__file__).parents[1]))

    def doctor() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", "doctor"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=90)

    healthy = doctor()
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "[ok] updates: 0 waiting at Telegram (long polling; limit 2)" in healthy.stdout
    assert "oldest due waited - (limit 60 s)" in healthy.stdout
    user = stub.user(78, "Khách")
    for n in range(3):
        stub.send_text(user, f"/help {n}")  # nobody polls: they wait at Telegram
    _due(engine, ago=timedelta(minutes=5))
    stuck = doctor()
    assert stuck.returncode == 1
    assert "[FAIL] updates: 3 waiting at Telegram (long polling; limit 2)" in stuck.stdout
    assert "[FAIL] deliveries: pending 1 (due now 1)" in stuck.stdout
    waited = re.search(r"oldest due waited (\d+) s \(limit 60 s\)", stuck.stdout)
    assert waited and 300 <= int(waited.group(1)) < 420, stuck.stdout  # 5 minutes and the run

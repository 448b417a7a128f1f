"""Admin error alerts: one per kind of error per 10 minutes, the next one saying how many were
held back; the state is in the database, so it holds across a restart and between two
instances. And a forged button with a number no database column can hold is refused, never an
OverflowError (the path that raised: /status's drill-down buttons)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import select
from telegram import Update
from telegram.ext import CommandHandler

from bot.settings import Settings
from handlers.errors import error_kind
from models.alerts import claim_alert
from models.db import make_engine, session_scope
from models.tables import ErrorAlert, Member, MemberRole
from models.types import utcnow
from scheduler.context import BotContext
from tests.bot_harness import bot_settings_fixture, stub_fixture  # noqa: F401
from tests.stub_botapi import StubBotApi
from tests.test_reporting_bot import COORD, FP1, LEADER, Driver, bot, cast  # noqa: F401

pytestmark = pytest.mark.e2e
ADMIN = 5005
ALERT = "⚠️"


async def _boom(_update: Update, _context: BotContext) -> None:
    raise RuntimeError("the registry is on fire <b>&")


async def _other(_update: Update, _context: BotContext) -> None:
    raise KeyError("another kind")


def _admin(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(Member(telegram_user_id=ADMIN, role=MemberRole.ADMIN.value, full_name="Admin", language="en"))


def alerts(stub: StubBotApi) -> list[str]:
    return [m.text or "" for m in stub.sent_messages(ADMIN) if (m.text or "").startswith(ALERT)]


def _wire(app: Any) -> None:
    app.add_handler(CommandHandler("boom", _boom), group=-1)
    app.add_handler(CommandHandler("other", _other), group=-1)


def _ten_minutes_pass(engine: Engine) -> None:
    """What the clock would do: the last alert of each kind was sent 11 minutes ago."""
    with session_scope(engine) as s:
        s.execute(update(ErrorAlert).values(last_alert_at=utcnow() - timedelta(minutes=11)))


async def test_one_alert_per_kind_per_ten_minutes_across_a_restart(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine, cast: dict[str, Any]) -> None:  # noqa: F811
    _admin(plan_engine)
    driver = Driver(stub)
    async with bot(bot_settings, plan_engine, driver) as app:
        _wire(app)
        for _ in range(5):
            await driver.text(FP1, "/boom")
        await stub.await_for(lambda: alerts(stub))
        assert len(alerts(stub)) == 1
        first = alerts(stub)[0]
        raw = stub.last_message(ADMIN).raw_text or ""  # type: ignore[union-attr]
        assert "RuntimeError: the registry is on fire &lt;b&gt;&amp;" in raw
        assert "more error" not in first and "at most once every 10 minutes" in first
        # Another kind of error is told at once.
        await driver.text(FP1, "/other")
        await stub.await_for(lambda: len(alerts(stub)) == 2)
    # A new process on the same database: the limit is remembered.
    driver = Driver(stub)
    async with bot(bot_settings, plan_engine, driver) as app:
        _wire(app)
        await driver.text(FP1, "/boom")
        assert len(alerts(stub)) == 2
        _ten_minutes_pass(plan_engine)
        await driver.text(FP1, "/boom")
        await stub.await_for(lambda: len(alerts(stub)) == 3)
        assert "5 more errors of this kind since the previous alert" in alerts(stub)[-1]
        await driver.text(FP1, "/boom")
    assert len(alerts(stub)) == 3
    # Each time, the person who ran into it got the apology.
    assert len([m for m in stub.sent_messages(FP1) if m.contains("Xin lỗi")]) == 9
    with session_scope(plan_engine) as s:
        rows = {r.kind: r.suppressed for r in s.exec(select(ErrorAlert))}
    assert sorted(rows.values()) == [0, 1]


def test_two_instances_racing_send_one_alert(db_url: str, engine: Engine) -> None:
    """Twenty errors of one kind at once from two processes' engines: one claim wins."""
    engines = [make_engine(db_url), make_engine(db_url)]
    results: list[int | None] = []
    lock, start = threading.Lock(), threading.Barrier(20)

    def hit(index: int) -> None:
        start.wait()
        with session_scope(engines[index % 2]) as s:
            outcome = claim_alert(s, "RuntimeError at handlers/x.py:f", now=utcnow())
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=hit, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert sorted(results, key=lambda r: r is not None) == [None] * 19 + [0]
    with session_scope(engine) as s:
        assert s.exec(select(ErrorAlert.suppressed)).one() == 19
    with session_scope(engine) as s:  # the next alert, 10 minutes on, carries the count
        assert claim_alert(s, "RuntimeError at handlers/x.py:f", now=utcnow() + timedelta(minutes=10)) == 19


def test_the_kind_is_the_type_and_the_place_in_our_code() -> None:
    def fail() -> None:
        raise ValueError("x")

    kinds = set()
    for _ in range(2):
        try:
            fail()
        except ValueError as exc:
            kinds.add(error_kind(exc))
    assert kinds == {"builtins.ValueError at tests/test_error_alerts.py:fail"}
    assert len(error_kind(KeyError("y" * 500))) <= 128


FORGED = ["st:a:2026-Q4:{n}:0", "st:t:2026-Q4:{n}:0", "st:g:2026-Q4:{n}:0", "st:a:2026-Q4:1:{n}",
          "rp:{n}", "rn:{n}", "d:{n}:state:done", "d:{n}:note:keep", "tk:{n}", "ti:{n}:0", "rv:{n}:1:a",
          "mb:r:{n}:admin", "ev:t:{n}", "iv:a:{n}", "bc:ok:999999999999", "bc:ack:999999999999"]
GROUP = -900


async def test_forged_buttons_with_huge_numbers_are_refused(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine, cast: dict[str, Any],  # noqa: F811
        caplog: pytest.LogCaptureFixture) -> None:
    """2**63 overflowed SQLite's INTEGER; on PostgreSQL anything past 2**31 is out of range."""
    _admin(plan_engine)
    driver = Driver(stub)
    caplog.set_level("ERROR")
    async with bot(bot_settings, plan_engine, driver):
        for user in (ADMIN, LEADER, COORD, FP1):
            anchor = await driver.text(user, "/help")
            for number in (2**31, 2**63, 10**30):
                for data in FORGED:
                    answer = await driver.press(user, anchor, data.format(n=number), forged=True)
                    assert answer, data  # refused with a word: not allowed / has changed
        # In a group, an admin's /group button naming an agency class no column can hold.
        stub.group(GROUP, "Nhóm đầu mối")
        for added in stub.add_bot_to_group(ADMIN, GROUP):
            await driver.do(added)
        await driver.do(stub.send_text(ADMIN, "/group@dondoc_test_bot", GROUP))
        menu = stub.last_message(GROUP)
        assert menu is not None and menu.button_datas()
        for number in (2**31, 2**63, 10**39):
            answer = await driver.press(ADMIN, menu, f"grp:c:{number}", forged=True)
            assert answer, number  # refused with a word, the group left as it was
    assert not [r for r in caplog.records if r.levelno >= 40], [r.getMessage() for r in caplog.records][:5]
    assert alerts(stub) == [] and not [m for m in stub.sent_messages() if m.contains("Xin lỗi")]

"""Blocked reports go somewhere (issue 12, item 6), through the real bot and the Bot API
stand-in: the coordinators and the agency's leader are told, with the reason, in their language
(ledger rows sent by the dispatcher); the reason shows in the /status drill-down and the export;
the focal points are told when their report is verified; a notice stale at sending time (a
newer version came meanwhile) is dropped (item 4)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.settings import Settings
from models import ledger
from models.db import session_scope
from models.tables import Delivery, DeliveryState
from scheduler.dispatch import dispatch_due
from tests.bot_harness import bot_settings, stub  # noqa: F401
from tests.leaders_driver import Driver, data_with, driven
from tests.leaders_world import (
    ADMIN_EN,
    COORD_EN,
    COORD_VI,
    FP_EN,
    FP_VI,
    LEADER_VI,
    OTHER_FP,
    World,
    approve,
    build,
    report,
)
from tests.reminder_helpers import rules
from tests.stub_botapi import StubBotApi, UploadedFile

pytestmark = pytest.mark.e2e
ALWAYS = {"quiet_start": "00:00", "quiet_end": "00:00"}
REASON = "Chưa có kinh phí <năm 2026> & chưa có hướng dẫn"


@pytest.fixture
def world(plan_engine: Engine, bot_settings: Settings) -> World:  # noqa: F811
    return build(plan_engine, datetime.now(bot_settings.tz).date())


def rows(engine: Engine, prefix: str) -> list[Delivery]:
    with session_scope(engine) as s:
        return [d for d in s.exec(select(Delivery)) if d.key.startswith(prefix)]


async def test_blocked_is_told_with_its_reason_and_verified_to_the_focal_points(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine, world: World) -> None:  # noqa: F811
    blocked = report(plan_engine, FP_VI, world.item, "blocked", REASON)
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver) as app:
        stats = await dispatch_due(app.bot, plan_engine, rules(**ALWAYS), default_language="vi")
        told = {d.chat_id for d in rows(plan_engine, f"blocked:{blocked.id}:")}
        assert told == {COORD_EN, COORD_VI, LEADER_VI}  # not the admin, not the focal points
        assert stats.sent == 3
        english = stub.last_message(COORD_EN)
        assert english is not None
        assert english.contains("Blocked: UBND thành phố Hạ Long cannot go on with 1.1")
        assert english.contains(f"Reason: {REASON}") and english.contains("Reported by Lan <Hạ Long>")
        vietnamese = stub.last_message(LEADER_VI)
        assert vietnamese is not None and vietnamese.contains("Vướng mắc") and vietnamese.contains(REASON)
        assert stub.sent_messages(FP_VI) == stub.sent_messages(ADMIN_EN) == []
        # The notice's button opens the task's history, with the reason.
        await driver.press(COORD_EN, english, data_with(english, "hi:"))
        history = stub.last_message(COORD_EN)
        assert history is not None and history.contains(f"Reason: {REASON}")

        # The reason in the /status drill-down ...
        summary = await driver.text(COORD_EN, "/status 2026-Q4")
        await driver.press(COORD_EN, summary, f"st:g:2026-Q4:{world.ha_long}:0", forged=True)
        agency = driver.message(COORD_EN, summary.message_id)
        assert agency.contains("🔴 1.1") or agency.contains("🔴 <b>1.1</b>")
        assert agency.contains(f"Reason: {REASON}")
        # ... and in the export (the blocked row's note).
        await driver.text(COORD_EN, "/export 2026-Q4")
        call = await stub.await_call("sendDocument", timeout=60)  # the render worker starts
        upload: Any = call.params["document"]
        assert isinstance(upload, UploadedFile)
        sheet = openpyxl.load_workbook(io.BytesIO(upload.content))["Details"]
        header = [c.value for c in sheet[2]]
        found = [dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(min_row=3)]
        (row,) = [r for r in found if r["Task code"] == "1.1" and r["Agency"] == "UBND thành phố Hạ Long"
                  and r["Reporting period"] == "2026-Q4"]
        assert row["State"] == "Blocked" and row["Note"] == REASON

        # Done and verified: the agency's focal points hear it, each in their language.
        done = report(plan_engine, FP_EN, world.item, "done", "Xong", number="12/BC-UBND")
        approve(plan_engine, COORD_VI, done.id or 0, done.version)
        stats = await dispatch_due(app.bot, plan_engine, rules(**ALWAYS), default_language="vi")
        assert {d.chat_id for d in rows(plan_engine, f"verified:{done.id}:")} == {FP_VI, FP_EN}
        en = stub.last_message(FP_EN)
        vi = stub.last_message(FP_VI)
        assert en is not None
        assert en.contains("Your report on 1.1 (2026-Q4, version 2) was verified by Chị Mai")
        assert vi is not None and vi.contains("đã được Chị Mai xác nhận")
        assert stub.sent_messages(OTHER_FP) == []
        # The "to verify" notice of version 2 went stale (verified before it went out): dropped.
        review = rows(plan_engine, f"review:{done.id}:")
        assert review and {r.state for r in review} == {DeliveryState.SKIPPED.value}
        assert {r.last_error for r in review} == {ledger.STALE + "the report was approved meanwhile"}


async def test_a_blocked_notice_is_dropped_when_a_newer_version_came_first(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine, world: World) -> None:  # noqa: F811
    blocked = report(plan_engine, FP_VI, world.item, "blocked", REASON)
    report(plan_engine, FP_VI, world.item, "in_progress", "Đã có kinh phí", percent=10)
    async with driven(bot_settings, plan_engine, Driver(stub)) as app:
        stats = await dispatch_due(app.bot, plan_engine, rules(**ALWAYS), default_language="vi")
    assert stats.dropped == 3 and stats.sent == 0
    assert {r.last_error for r in rows(plan_engine, f"blocked:{blocked.id}:")} == {
        ledger.STALE + "a newer version was sent"}

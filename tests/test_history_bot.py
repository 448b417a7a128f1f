"""History (issue 12, item 7) through the real bot and the Bot API stand-in: a task's every
version with state, note, document number, files, who sent it, who returned or verified it,
when and why — opened with the 📜 button of the /status drill-down by the coordinator (English),
the agency's leader and focal point (Vietnamese); refused to another agency's focal point. The
audit log: /audit for admins (paged), refused to others; ``dondoc audit`` with filters."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from bot.cli import main
from bot.settings import Settings
from models.db import session_scope
from models.tables import AuditLog
from tests.bot_harness import bot_settings, stub  # noqa: F401
from tests.leaders_driver import Driver, data_with, driven
from tests.leaders_world import (
    ADMIN_EN,
    COORD_EN,
    FP_EN,
    FP_VI,
    LEADER_VI,
    OTHER_FP,
    World,
    approve,
    build,
    report,
    send_back,
)
from tests.stub_botapi import StubBotApi

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(plan_engine: Engine, bot_settings: Settings) -> World:  # noqa: F811
    built = build(plan_engine, datetime.now(bot_settings.tz).date())
    first = report(plan_engine, FP_VI, built.item, "in_progress", "Đang lấy ý kiến", percent=40)
    second = report(plan_engine, FP_EN, built.item, "done", "Đã xong <rồi>", number="Số 125/BC-UBND",
                    files=("bien-ban.pdf",))
    send_back(plan_engine, COORD_EN, second.id or 0, 2, "Thiếu chữ ký & dấu")
    third = report(plan_engine, FP_VI, built.item, "done", "Bổ sung chữ ký", number="126/BC-UBND",
                   files=("bien-ban-ky.pdf", "anh.pdf"))
    approve(plan_engine, COORD_EN, third.id or 0, 3)
    assert first.version == 1
    return built


async def open_history(driver: Driver, user: int, world: World) -> str:
    summary = await driver.text(user, "/status 2026-Q4")
    await driver.press(user, summary, f"st:g:2026-Q4:{world.ha_long}:0", forged=True)
    agency = driver.message(user, summary.message_id)
    await driver.press(user, agency, data_with(agency, "hi:", f":{world.item}:"[1:]))
    found = driver.stub.last_message(user)
    assert found is not None
    return found.text or ""


async def test_history_of_a_task(stub: StubBotApi, bot_settings: Settings, plan_engine: Engine,  # noqa: F811
                                 world: World) -> None:
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver):
        text = await open_history(driver, COORD_EN, world)
        assert "History of 1.1 — UBND thành phố Hạ Long" in text and "3 versions" in text
        v3, v2, v1 = (text.index(f"Version {n}") for n in (3, 2, 1))
        assert v3 < v2 < v1  # newest first
        assert "Sent by Lan <Hạ Long>" in text and "Sent by Minh" in text
        assert "Note: Đã xong <rồi>" in text and "Document number: 125/BC-UBND" in text
        assert "1 file: bien-ban.pdf" in text and "2 files: bien-ban-ky.pdf, anh.pdf" in text
        assert "🟠 Returned by Hoa (SNV)" in text and "Thiếu chữ ký & dấu" in text
        assert "🟢 Verified by Hoa (SNV)" in text and "In progress 40%" in text

        leader = await open_history(driver, LEADER_VI, world)
        assert "Lịch sử của 1.1" in leader and "Phiên bản 2" in leader and "Trả lại bởi Hoa (SNV)" in leader
        focal = await open_history(driver, FP_VI, world)
        assert "Xác nhận bởi Hoa (SNV)" in focal
        # From the task view of /tasks too: the history comes as a new message, the card stays.
        listing = await driver.text(FP_EN, "/tasks")
        await driver.press(FP_EN, listing, f"ti:{world.item}:0", forged=True)
        card = driver.message(FP_EN, listing.message_id)
        await driver.press(FP_EN, card, data_with(card, "hi:"))
        history = stub.last_message(FP_EN)
        assert history is not None and history.message_id != card.message_id
        assert history.contains("History of 1.1") and history.contains("Version 3")
        assert driver.message(FP_EN, card.message_id).contains("1.1")

        # Another agency's focal point: not allowed, even with a forged button.
        other = await driver.text(OTHER_FP, "/status 2026-Q4")
        answer = await driver.press(OTHER_FP, other, f"hi:{world.item}:0", forged=True)
        assert answer == "Không được phép."
        assert not any(m.contains("Thiếu chữ ký") for m in stub.sent_messages(OTHER_FP))


async def test_audit_in_chat_and_on_the_command_line(stub: StubBotApi, bot_settings: Settings,  # noqa: F811
                                                     plan_engine: Engine, world: World,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with session_scope(plan_engine) as s:
        for n in range(25):
            s.add(AuditLog(at=datetime(2026, 1, 1, tzinfo=UTC), actor="cli", action=f"calendar.off{n:02d}",
                           entity="calendar_day",
                           entity_id=f"2027-01-{n + 1:02d}", details=json.dumps({"note": f"n{n}"})))
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver):
        refused = await driver.text(COORD_EN, "/audit")
        assert refused.contains("Not allowed")
        first = await driver.text(ADMIN_EN, "/audit")
        assert first.contains("Audit log") and first.contains("report.approve")
        assert first.contains("Hoa (SNV) (member:")
        pages = [b for b in first.button_texts() if "/" in b]
        assert pages and pages[0].startswith("1/")
        await driver.press(ADMIN_EN, first, data_with(first, "au:1"))
        second = driver.message(ADMIN_EN, first.message_id)
        assert second.contains("calendar.off") and second.button_texts()[1].startswith("2/")

    monkeypatch.setenv("DONDOC_DATABASE_URL", bot_settings.database_url)
    assert main(["audit", "--action", "report.", "--format", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["action"] for e in entries] == ["report.approve", "report.submit", "report.return",
                                              "report.submit", "report.submit"]
    assert main(["audit", "--member", str(COORD_EN)]) == 0
    out = capsys.readouterr().out
    assert "report.approve" in out and "report.submit" not in out and out.endswith("2 of 2 entries.\n")
    assert main(["audit", "--since", "nonsense"]) == 1
    assert "expected a date" in capsys.readouterr().err

"""/event through the real Application, polling the Bot API stand-in: a coordinator records an
approval for task 4.3 (Sở Nội vụ and the 14 districts owe it), with a restart between steps; a
focal point is refused; forged buttons and out-of-range dates change nothing; typed text goes to
/event only while its draft waits for it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import col, select

from bot.settings import Settings
from domain.periods import DueRules
from models.db import session_scope
from models.tables import AuditLog, Event, EventDraft, Item, Member, MemberRole, Plan, Task
from scheduler.deadlines import sync_items
from tests.bot_harness import Driver, bot_settings_fixture, driven, stub_fixture  # noqa: F401
from tests.forged import BIG, CHANGED, admin_alerts, press_all, translated
from tests.stub_botapi import StubBotApi

SO_NOI_VU, HA_LONG = 2, 21
COORD, FOCAL, STRANGER = 3001, 1001, 9001


bot = driven


@pytest.fixture
def cast(plan_engine: Engine, bot_settings: Settings) -> dict[str, Any]:
    """Plan 916's items as of the bot's today, a coordinator and a focal point; task ids."""
    today = datetime.now(bot_settings.tz).date()
    with session_scope(plan_engine) as s:
        plan = s.exec(select(Plan)).one()
        sync_items(s, plan, today, DueRules())
        s.add(Member(telegram_user_id=COORD, agency_id=SO_NOI_VU, role=MemberRole.COORDINATOR.value,
                     full_name="Chị Hoa"))
        s.add(Member(telegram_user_id=FOCAL, agency_id=HA_LONG, role=MemberRole.FOCAL_POINT.value,
                     full_name="Lan"))
        ids = {t.code: t.id for t in s.exec(select(Task).where(Task.plan_id == plan.id))}
    return {"today": today, "4.3": ids["4.3"], "1.1": ids["1.1"]}


def counts(engine: Engine) -> tuple[int, int, int]:
    """Events, items opened by events, event.record audit rows."""
    with session_scope(engine) as s:
        opened = select(func.count()).select_from(Item).where(col(Item.event_id).is_not(None))
        audited = select(func.count()).select_from(AuditLog).where(AuditLog.action == "event.record")
        recorded = select(func.count()).select_from(Event)
        return s.exec(recorded).one(), s.exec(opened).one(), s.exec(audited).one()


def draft_of(engine: Engine, user: int) -> tuple[int, date | None, int | None] | None:
    with session_scope(engine) as s:
        draft = s.exec(select(EventDraft).where(EventDraft.telegram_user_id == user)).first()
        return None if draft is None else (draft.task_id, draft.occurred_on, draft.days)


def vn(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


async def test_record_an_approval_across_a_restart(stub: StubBotApi, bot_settings: Settings,
                                                   plan_engine: Engine, cast: dict[str, Any]) -> None:
    task, day = cast["4.3"], cast["today"] - timedelta(days=3)
    driver = Driver(stub)
    async with bot(bot_settings, plan_engine, driver):
        tasks = await driver.text(COORD, "/event")
        assert tasks.contains("Sự kiện này cho nhiệm vụ nào?")
        assert f"ev:t:{task}" in tasks.button_datas() and f"ev:t:{cast['1.1']}" not in tasks.button_datas()
        await driver.press(COORD, tasks, f"ev:t:{task}")
        asked = driver.message(COORD, tasks.message_id)
        assert asked.contains("4.3") and asked.contains("Bấm một nút hoặc gõ ngày")
        assert f"ev:d:{task}:{cast['today']:%Y%m%d}" in asked.button_datas()
        assert draft_of(plan_engine, COORD) == (task, None, None)
    driver = Driver(stub)
    async with bot(bot_settings, plan_engine, driver):  # a new process on the same database
        days_prompt = await driver.text(COORD, vn(day))
        assert days_prompt.contains("Các đơn vị có bao nhiêu ngày?")
        assert f"ev:n:{task}:{day:%Y%m%d}:30" in days_prompt.button_datas()
    assert counts(plan_engine) == (0, 0, 0)  # nothing is written before the confirm
    driver = Driver(stub)
    async with bot(bot_settings, plan_engine, driver):
        confirm = await driver.text(COORD, "30")
        assert confirm.contains("Ghi nhận sự kiện này?") and confirm.contains(": 15")
        ok = f"ev:ok:{task}:{day:%Y%m%d}:30"
        assert ok in confirm.button_datas()
        assert counts(plan_engine) == (0, 0, 0)
        await driver.press(COORD, confirm, ok)
        done = driver.message(COORD, confirm.message_id)
        assert done.contains("Đã ghi nhận") and done.contains("15 đơn vị")
        assert counts(plan_engine) == (1, 15, 1)
        assert draft_of(plan_engine, COORD) is None
        # The same button again (a double tap, another instance, a replay): nothing more.
        assert "hết hạn" in await driver.press(COORD, confirm, ok, forged=True)
        assert counts(plan_engine) == (1, 15, 1)
        # Text after the flow is not the event's any more: the usual answer.
        after = await driver.text(COORD, "30")
        assert after.contains("Gửi /tasks")
    with session_scope(plan_engine) as s:
        event = s.exec(select(Event)).one()
        assert (event.task_id, event.occurred_on, event.days_allowed) == (task, day, 30)
        assert event.due_on == day + timedelta(days=30) and event.created_by == f"tg:{COORD}"
        agencies = {i.agency_id for i in s.exec(select(Item).where(Item.event_id == event.id))}
        assert SO_NOI_VU in agencies and HA_LONG in agencies and len(agencies) == 15
    assert all(len(d.encode()) <= 64 for m in stub.sent_messages() for d in m.button_datas())


async def test_focal_points_strangers_and_groups_are_refused(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine, cast: dict[str, Any]) -> None:
    task, today, group = cast["4.3"], cast["today"], -700
    stub.group(group, "Điều phối")
    driver = Driver(stub)
    async with bot(bot_settings, plan_engine, driver):
        refused = await driver.text(FOCAL, "/event")
        assert refused.contains("Chỉ cán bộ điều phối và quản trị viên") and not refused.button_datas()
        tasks = await driver.text(COORD, "/event")
        for user in (FOCAL, STRANGER):
            for data in (f"ev:t:{task}", f"ev:d:{task}:{today:%Y%m%d}", f"ev:ok:{task}:{today:%Y%m%d}:30"):
                assert "Không được phép" in await driver.press(user, tasks, data, forged=True)
        assert draft_of(plan_engine, FOCAL) is None and draft_of(plan_engine, STRANGER) is None
        link = await driver.text(COORD, "/event@dondoc_test_bot", group)
        assert link.contains("https://t.me/dondoc_test_bot") and not link.button_datas()
        # A button pressed in a group (forged there) is refused too.
        assert "Không được phép" in await driver.press(COORD, link, f"ev:t:{task}", forged=True)
        assert draft_of(plan_engine, COORD) is None
    assert counts(plan_engine) == (0, 0, 0)


async def test_forged_buttons_and_bad_dates_change_nothing(stub: StubBotApi, bot_settings: Settings,
                                                           plan_engine: Engine, cast: dict[str, Any]) -> None:
    task, today = cast["4.3"], cast["today"]
    old = today - timedelta(days=bot_settings.event_max_past_days + 1)
    driver = Driver(stub)
    async with bot(bot_settings, plan_engine, driver):
        tasks = await driver.text(COORD, "/event")
        await driver.press(COORD, tasks, f"ev:t:{task}")
        asked = driver.message(COORD, tasks.message_id)
        # Typed: too old, not a date; the draft still waits for the date.
        too_old = await driver.text(COORD, vn(old))
        assert too_old.contains("Ngày này đã quá lâu") and too_old.contains("Hãy gõ ngày khác")
        assert (await driver.text(COORD, "hôm qua")).contains("20/11/2026")
        assert (await driver.text(COORD, f"{old:%Y-%m-%d}")).contains("Ngày này đã quá lâu")
        assert draft_of(plan_engine, COORD) == (task, None, None)
        # Forged buttons: a past-limit date, a task that is not event-driven, junk, a confirm that
        # does not match the draft.
        assert "quá lâu" in await driver.press(COORD, asked, f"ev:d:{task}:{old:%Y%m%d}", forged=True)
        assert "1.1" in await driver.press(COORD, asked, f"ev:t:{cast['1.1']}", forged=True)
        assert "không phải nhiệm vụ theo sự kiện" in await driver.press(
            COORD, asked, f"ev:d:{cast['1.1']}:{today:%Y%m%d}", forged=True)
        for junk in ("ev:", "ev:t", "ev:t:x", "ev:t:-1", f"ev:t:{2**70}", "ev:d:1:2026", "ev:d:1:20261340",
                     f"ev:n:{task}:{today:%Y%m%d}:0", f"ev:n:{task}:{today:%Y%m%d}:999", "ev:zz:1",
                     "ev:t:999999", f"ev:ok:{task}:{today:%Y%m%d}", "ev:x:1"):
            assert await driver.press(COORD, asked, junk, forged=True), junk
        assert draft_of(plan_engine, COORD) == (task, None, None)
        assert "hết hạn" in await driver.press(COORD, asked, f"ev:ok:{task}:{today:%Y%m%d}:30", forged=True)
        assert draft_of(plan_engine, COORD) == (task, None, None)
        # Now a good date by button, then a confirm forged with other days than the draft's.
        await driver.press(COORD, asked, f"ev:d:{task}:{today:%Y%m%d}")
        bad_days = await driver.text(COORD, "400")
        assert bad_days.contains("Số ngày thực hiện phải là số từ 1 đến 366")
        days = driver.message(COORD, tasks.message_id)
        await driver.press(COORD, days, f"ev:n:{task}:{today:%Y%m%d}:15")
        confirm = driver.message(COORD, tasks.message_id)
        assert f"ev:ok:{task}:{today:%Y%m%d}:15" in confirm.button_datas()
        assert "hết hạn" in await driver.press(COORD, confirm, f"ev:ok:{task}:{today:%Y%m%d}:90", forged=True)
        assert draft_of(plan_engine, COORD) == (task, today, 15)
        # /cancel leaves; the confirm button then records nothing.
        cancelled = await driver.text(COORD, "/cancel")
        assert cancelled.contains("Đã hủy: không ghi nhận gì.")
        assert "hết hạn" in await driver.press(COORD, confirm, f"ev:ok:{task}:{today:%Y%m%d}:15", forged=True)
        assert (await driver.text(COORD, "/cancel")).contains("Không có gì để hủy")
    assert counts(plan_engine) == (0, 0, 0)
    assert draft_of(plan_engine, COORD) is None


async def test_out_of_range_numbers_are_answered_without_alerts(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine, cast: dict[str, Any]) -> None:
    """Numbers past any id or date, wrong field counts: "this has changed", nothing recorded, and
    no error reaches the admins (one is registered)."""
    task, today = cast["4.3"], cast["today"]
    with session_scope(plan_engine) as s:
        s.add(Member(telegram_user_id=4001, role=MemberRole.ADMIN.value, full_name="Admin"))
    driver = Driver(stub)
    async with bot(bot_settings, plan_engine, driver):
        tasks = await driver.text(COORD, "/event")
        await driver.press(COORD, tasks, f"ev:t:{task}")
        asked = driver.message(COORD, tasks.message_id)
        day = f"{today:%Y%m%d}"
        forged = [f"ev:t:{BIG}", f"ev:d:{BIG}:{day}", f"ev:d:{task}:{BIG}", f"ev:n:{task}:{day}:{BIG}",
                  f"ev:ok:{task}:{day}:-{BIG}", f"ev:ok:{BIG}:{day}:30", "ev:d:1:99999999", "ev:d:1:00000000",
                  f"ev:t:{task}:1", "ev:x:1", "ev:ok", "ev:t:1.0", f"ev:t:{'9' * 17}"]
        assert await press_all(stub, COORD, asked, forged) == [translated(CHANGED, "vi")] * len(forged)
        assert draft_of(plan_engine, COORD) == (task, None, None)
        # A stranger's well-formed press: not allowed.
        assert await press_all(stub, STRANGER, asked, [f"ev:t:{task}"]) == ["Không được phép."]
    assert counts(plan_engine) == (0, 0, 0)
    assert admin_alerts(stub) == []

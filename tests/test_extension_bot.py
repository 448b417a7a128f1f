"""Extension requests through the real bot and the Bot API stand-in (issue 13, item 3): a focal
point asks from an overdue reminder (date and reason typed, refusals on the way), the coordinators
in scope get the request through the ledger, one approves (the second sees it decided), the
agency is told; the old date's reminder is not sent and the new date's is planned; a report done
by the new date is on time in the drill-down; the history keeps the first date and every
decision. Then, in English: a shortened date (a wrong one first), a refusal with its reason, and
the per-item limit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import babel.dates
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.settings import Settings
from domain.official import OfficialClass, classify
from domain.periods import QUARTER, period_containing
from domain.slots import SlotCache
from models import ledger
from models.calendar_days import working_calendar
from models.db import session_scope
from models.tables import Delivery, DeliveryState, ExtensionRequest, Item, Member
from sandbox.stub_botapi import SentMessage, StubBotApi
from scheduler.dispatch import dispatch_due
from scheduler.jobs import plan_if_changed
from scheduler.planner import REMINDER, reminder_key
from tests.bot_harness import bot_settings, stub  # noqa: F401
from tests.leaders_driver import Driver, data_with, driven
from tests.leaders_world import COORD_EN, COORD_VI, FP_EN, FP_VI, OTHER_FP, World, build, report
from tests.reminder_helpers import rules

pytestmark = pytest.mark.e2e
ALWAYS = rules(quiet_start="00:00", quiet_end="00:00")
REASON = "Chờ số liệu <của> các xã & phường"


def vn(day: date) -> str:
    return f"{day.day}/{day.month}/{day.year}"


def shown(day: date, language: str) -> str:
    return babel.dates.format_date(day, "medium", locale=language)


@pytest.fixture
def world(plan_engine: Engine, bot_settings: Settings) -> dict[str, Any]:  # noqa: F811
    """Plan 916 and its people; Hạ Long's 1.1 is a day overdue. The new date asked stays in the
    quarter of today (the drill-down's period)."""
    today = datetime.now(bot_settings.tz).date()
    built: World = build(plan_engine, today)
    with session_scope(plan_engine) as s:
        item = s.get(Item, built.item)
        assert item is not None
        item.due_on = today - timedelta(days=1)
        s.add(item)
    quarter = period_containing(QUARTER, today, None)
    old = today - timedelta(days=1)
    return {"today": today, "item": built.item, "ha_long": built.ha_long, "old": old,
            "new": min(today + timedelta(days=20), quarter.end), "period": quarter.key,
            "old_period": period_containing(QUARTER, old, None).key}


def queue_overdue_reminder(engine: Engine, telegram_user_id: int, item_id: int) -> None:
    """The planner's row of an overdue reminder due now."""
    slot = datetime.now(UTC) - timedelta(minutes=1)
    with session_scope(engine) as s:
        member = s.exec(select(Member).where(Member.telegram_user_id == telegram_user_id)).one()
        assert member.id is not None
        ledger.plan(s, [ledger.new_row(key=reminder_key(item_id, member.id, slot), kind=REMINDER,
                                       chat_id=telegram_user_id, at=slot, now=slot, member_id=member.id,
                                       item_id=item_id, detail="overdue", audience="focal_point",
                                       offset_days=1)])


def first_slot(engine: Engine, due: date, after: datetime) -> datetime:
    """The first reminder slot of a due day after ``after`` (what the planner would plan then;
    later than now, so that no dispatch of the test sends it)."""
    with Session(engine) as s:
        cache = SlotCache(working_calendar(s), ALWAYS.policy, ALWAYS.tz)
    return next(slot.at for slot in cache.slots(due) if slot.at > after)


def reminders(engine: Engine, item_id: int, member_tg: int) -> dict[datetime, str]:
    """The item's reminder rows for one person: slot -> state."""
    with Session(engine) as s:
        rows = s.exec(select(Delivery).where(col(Delivery.kind) == REMINDER, col(Delivery.item_id) == item_id,
                                             col(Delivery.chat_id) == member_tg))
        return {r.slot_at.astimezone(UTC): r.state for r in rows}


async def drill_down(driver: Driver, user: int, world: dict[str, Any], period: str) -> SentMessage:
    """Hạ Long's items of ``period`` (periods hold items by their due date in force)."""
    summary = await driver.text(user, f"/status {period}")
    await driver.press(user, summary, f"st:g:{period}:{world['ha_long']}:0", forged=True)
    return driver.message(user, summary.message_id)


async def ask(driver: Driver, user: int, source: SentMessage, item_id: int, day: str,
              reason: str) -> SentMessage:
    """⏳, the date, the reason: the confirmation (not yet sent)."""
    await driver.press(user, source, f"xa:{item_id}")
    asked = driver.stub.last_message(user)
    assert asked is not None and asked.button_datas() == ["xa:x"]
    await driver.text(user, day)
    return await driver.text(user, reason)


async def test_request_approve_reminders_move_and_done_by_the_new_date_is_on_time(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine,  # noqa: F811
        world: dict[str, Any]) -> None:
    item, today, old, new = world["item"], world["today"], world["old"], world["new"]
    old_slot = first_slot(plan_engine, old, datetime.now(UTC) + timedelta(hours=2))
    # Before the request, the planner has the old date's overdue reminder.
    assert plan_if_changed(plan_engine, ALWAYS, old_slot - timedelta(hours=1)) is not None
    assert reminders(plan_engine, item, FP_VI)[old_slot.astimezone(UTC)] == DeliveryState.PENDING.value
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver) as app:
        before = await drill_down(driver, COORD_EN, world, world["old_period"])
        assert before.contains("1.1") and before.contains("⏰ Overdue")  # its official class
        queue_overdue_reminder(plan_engine, FP_VI, item)
        await dispatch_due(app.bot, plan_engine, ALWAYS, default_language="vi")
        reminder = stub.last_message(FP_VI)
        assert reminder is not None and f"xa:{item}" in reminder.button_datas()
        assert "⏳ Xin gia hạn" in reminder.button_texts()

        await driver.press(FP_VI, reminder, f"xa:{item}")
        asked = stub.last_message(FP_VI)
        assert asked is not None and asked.contains("Nhập thời hạn mới đề nghị")
        assert asked.contains(f"Thời hạn hiện hành: {shown(old, 'vi')}")
        assert (await driver.text(FP_VI, "ngày mai")).contains("Đây không phải là ngày")
        assert (await driver.text(FP_VI, vn(today - timedelta(days=2)))).contains("Ngày này đã qua")
        assert (await driver.text(FP_VI, vn(new))).contains("Nhập lý do")
        confirm = await driver.text(FP_VI, REASON)
        assert confirm.contains(f"Thời hạn đề nghị: {shown(new, 'vi')}") and confirm.contains(REASON)
        with Session(plan_engine) as s:
            assert s.exec(select(ExtensionRequest)).all() == []  # nothing before the send button
        send = data_with(confirm, "xa:ok:")
        await driver.press(FP_VI, confirm, send)
        assert driver.message(FP_VI, confirm.message_id).contains("đã được gửi tới cơ quan điều phối")
        assert "đã thay đổi" in await driver.press(FP_VI, confirm, send, forged=True)  # sent once
        with Session(plan_engine) as s:
            (request,) = s.exec(select(ExtensionRequest)).all()
            assert (request.state, request.requested_due_on, request.reason) == ("pending", new, REASON)

        # The coordinators in scope are told, each in their language; nobody else.
        await dispatch_due(app.bot, plan_engine, ALWAYS, default_language="vi")
        vi, en = stub.last_message(COORD_VI), stub.last_message(COORD_EN)
        assert vi is not None and vi.contains("Đề nghị gia hạn") and vi.contains(REASON)
        assert vi.contains(f"từ {shown(old, 'vi')} đến {shown(new, 'vi')}")
        assert en is not None and en.contains("Extension request") and en.contains("UBND thành phố Hạ Long")
        assert stub.last_message(OTHER_FP) is None
        approve = f"xd:{request.id}:a"
        assert approve in vi.button_datas() and approve in en.button_datas()
        await driver.press(COORD_VI, vi, approve)
        assert driver.message(COORD_VI, vi.message_id).contains(f"thời hạn mới là {shown(new, 'vi')}")
        # The other coordinator, later: decided already, once.
        answer = await driver.press(COORD_EN, en, approve)
        assert "already decided by Chị Mai" in answer
        with Session(plan_engine) as s:
            moved = s.get(Item, item)
            assert moved is not None and (moved.due_on, moved.original_due_on) == (new, old)
            assert s.exec(select(ExtensionRequest)).one().state == "approved"

        # The agency hears the decision; the old date's reminder is not sent, the new one planned.
        await dispatch_due(app.bot, plan_engine, ALWAYS, default_language="vi")
        decided = stub.last_message(FP_VI)
        assert decided is not None and decided.contains("đã được Chị Mai quyết định")
        assert decided.contains("Nhắc việc từ nay theo thời hạn mới")
        english = stub.last_message(FP_EN)
        assert english is not None and english.contains(f"the new due date is {shown(new, 'en')}")
        assert plan_if_changed(plan_engine, ALWAYS, old_slot - timedelta(hours=1)) is not None
        assert reminders(plan_engine, item, FP_VI)[old_slot.astimezone(UTC)] == DeliveryState.SKIPPED.value
        new_slot = first_slot(plan_engine, new, datetime.now(UTC) + timedelta(hours=2))
        plan_if_changed(plan_engine, ALWAYS, new_slot - timedelta(hours=1))
        assert reminders(plan_engine, item, FP_VI)[new_slot.astimezone(UTC)] == DeliveryState.PENDING.value

        # The history keeps the first date and the decision.
        await driver.press(FP_VI, decided, data_with(decided, "hi:"))
        history = stub.last_message(FP_VI)
        assert history is not None
        assert history.contains(f"gia hạn đến {shown(new, 'vi')} (ban đầu {shown(old, 'vi')})")
        assert history.contains("Chị Mai đã quyết định") and history.contains(REASON)

        # Done by the new date: on time (no longer overdue), and the drill-down says why.
        report(plan_engine, FP_VI, item, "done", "Xong", number="12/BC-UBND")
        after = await drill_down(driver, COORD_EN, world, world["period"])
        (line,) = [ln for ln in (after.text or "").splitlines() if "extended to" in ln]
        assert f"extended to {shown(new, 'en')} (first due {shown(old, 'en')})" in line
        assert "overdue" not in line and "Done, awaiting verification" in line
        with Session(plan_engine) as s:
            done = s.get(Item, item)
            assert done is not None and done.state == "reported" and done.completed_on == today
        # The official count: on time by the approved date; by the first one it would be late.
        assert classify(done.state, done.due_on, done.completed_on, today) is OfficialClass.ON_TIME
        assert done.original_due_on is not None
        assert classify(done.state, done.original_due_on, done.completed_on, today) is OfficialClass.LATE


async def test_shorten_refuse_and_the_limit_in_english(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine,  # noqa: F811
        world: dict[str, Any]) -> None:
    item, old, new, today = world["item"], world["old"], world["new"], world["today"]
    far = today + timedelta(days=60)
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver) as app:
        tasks = await driver.text(FP_EN, "/tasks")
        await driver.press(FP_EN, tasks, data_with(tasks, f"ti:{item}:"))
        card = driver.message(FP_EN, tasks.message_id)
        assert f"xa:{item}" in card.button_datas()
        await driver.press(FP_EN, card, f"xa:{item}")  # then changes their mind
        assert (await driver.text(FP_EN, "/cancel")).contains("The extension request was cancelled")
        assert not (await driver.text(FP_EN, vn(far))).contains("Type the reason")  # not a draft's any more
        confirm = await ask(driver, FP_EN, card, item, vn(far), "Waiting for the communes")
        await driver.press(FP_EN, confirm, data_with(confirm, "xa:ok:"))
        await dispatch_due(app.bot, plan_engine, ALWAYS, default_language="vi")
        notice = stub.last_message(COORD_EN)
        assert notice is not None
        request_id = int(data_with(notice, "xd:").split(":")[1])
        await driver.press(COORD_EN, notice, f"xd:{request_id}:s")
        question = stub.last_message(COORD_EN)
        assert question is not None and question.contains("Type the date you grant instead")
        wrong = await driver.text(COORD_EN, vn(far + timedelta(days=1)))
        assert wrong.contains("must lie after the date in force and before the date asked")
        decided = await driver.text(COORD_EN, vn(new))
        assert decided.contains(f"Approved with a shorter date: {shown(new, 'en')}")
        await dispatch_due(app.bot, plan_engine, ALWAYS, default_language="vi")
        told = stub.last_message(FP_EN)
        assert told is not None and told.contains("was decided by Hoa (SNV)")
        assert told.contains("shorter date")

        # A second request, refused with a reason: the date in force stays.
        await driver.press(FP_EN, card, f"ti:{item}:0", forged=True)
        card = driver.message(FP_EN, tasks.message_id)
        assert card.contains(f"extended to {shown(new, 'en')}")
        confirm = await ask(driver, FP_EN, card, item, vn(far), "Still waiting")
        await driver.press(FP_EN, confirm, data_with(confirm, "xa:ok:"))
        await dispatch_due(app.bot, plan_engine, ALWAYS, default_language="vi")
        notice = stub.last_message(COORD_EN)
        assert notice is not None
        await driver.press(COORD_EN, notice, data_with(notice, "xd:", ":r"))
        refused = await driver.text(COORD_EN, "No new grounds <given>")
        assert refused.contains("Refused: No new grounds &lt;given&gt;") or \
            refused.contains("Refused: No new grounds <given>")
        await dispatch_due(app.bot, plan_engine, ALWAYS, default_language="vi")
        told = stub.last_message(FP_EN)
        assert told is not None and told.contains(f"The due date stays {shown(new, 'en')}")
        with Session(plan_engine) as s:
            states = [r.state for r in s.exec(select(ExtensionRequest).order_by(col(ExtensionRequest.id)))]
            moved = s.get(Item, item)
        assert states == ["shortened", "refused"]
        assert moved is not None and (moved.due_on, moved.original_due_on) == (new, old)

        # Two requests per item (the default): a third is refused, nothing is written.
        answer = await driver.press(FP_EN, card, f"xa:{item}")
        assert "already had 2 extension requests" in answer
        with Session(plan_engine) as s:
            assert len(s.exec(select(ExtensionRequest)).all()) == 2

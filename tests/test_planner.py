"""Reminders end to end at the model level, with a controlled clock: what the planner puts in the
ledger and what the dispatcher sends, day by day."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import Engine, update
from sqlmodel import select

from domain.rules import ScheduleRules
from models import calendar_days, events
from models.db import session_scope
from models.tables import Delivery, DeliveryState, Item, ItemState
from scheduler.deadlines import sync_items
from scheduler.dispatch import claim, dispatch_due
from scheduler.jobs import refresh_schedule
from tests.reminder_helpers import (
    COORD,
    HALONG,
    HALONG_LEADER,
    STP,
    SYT,
    TZ,
    RecordingBot,
    ledger,
    local,
    plan_of,
    populate_world,
    rules,
)


@pytest.fixture
def world(plan_engine: Engine) -> Engine:
    return populate_world(plan_engine)


async def step(engine: Engine, at: datetime, bot: RecordingBot, r: ScheduleRules | None = None, *,
               with_items: bool = True) -> int:
    """The bot's tick at ``at``: store items, plan, send. Returns how many messages went out."""
    r = r or rules()
    before = len(bot.sent)
    with time_machine.travel(at, tick=False):
        refresh_schedule(engine, r, datetime.now(TZ), with_items=with_items)
        await dispatch_due(bot, engine, r, default_language="en", instance="test")  # type: ignore[arg-type]
    return len(bot.sent) - before


async def test_seven_days_before_the_quarter_end_each_focal_point_gets_one_message(world: Engine) -> None:
    bot = RecordingBot()
    assert await step(world, local(2027, 3, 24, 8, 29), bot) == 0
    assert await step(world, local(2027, 3, 24, 8, 30, 5), bot) == 2
    (syt,), (halong,) = bot.to(SYT), bot.to(HALONG)
    assert "6.1b" in syt.text and "7 days left" in syt.text
    assert "1.1" in halong.text and "6.1b" not in halong.text
    assert bot.to(STP) == bot.to(HALONG_LEADER) == bot.to(COORD) == []  # owing nothing / not overdue
    rows = ledger(world)
    assert {r.key.split(":")[0] for r in rows} == {"rem"}
    assert all(r.key == f"rem:{r.item_id}:{r.member_id}:20270324T0130" for r in rows)
    assert await step(world, local(2027, 3, 24, 9, 0), bot) == 0  # planning again adds nothing
    assert len(ledger(world)) == len(rows)


async def test_a_reminder_on_a_sunday_moves_to_friday(world: Engine) -> None:
    # Q2 2027 (and H1) ends Wednesday 30 June: "3 days before" is Sunday 27 June -> Friday 25 June
    bot = RecordingBot()
    assert await step(world, local(2027, 6, 25, 8, 31), bot) == 3  # SYT, Hạ Long, Sở Tư pháp
    assert "5 days left" in bot.to(SYT)[0].text
    assert {(r.slot_kind, r.offset_days) for r in ledger(world)} == {("before", 3)}
    for day in (26, 27):
        assert await step(world, local(2027, 6, day, 8, 31), bot) == 0


async def test_event_deadline_around_tet_with_escalation(world: Engine) -> None:
    with time_machine.travel(local(2027, 1, 26, 10), tick=False), session_scope(world) as s:
        events.record_event(s, plan=plan_of(s), task_code="2.3c", occurred_on=date(2027, 1, 25),
                            days_allowed=20, today=date(2027, 1, 26), limits=events.EventLimits())
    bot = RecordingBot()
    day = date(2027, 1, 26)
    while day <= date(2027, 2, 26):
        # items are stored once (the event's open then); each day plans and sends
        await step(world, local(day.year, day.month, day.day, 8, 31), bot, with_items=day.day == 26)
        day += timedelta(days=1)

    def days(chat: int) -> list[str]:
        return [f"{s.at.astimezone(TZ):%m-%d %H:%M}" for s in bot.to(chat)]

    # due Sunday 14 Feb 2027; Tết closes offices 4-10 Feb
    assert days(HALONG) == ["01-29 08:31",  # 14 days before (Sunday 31 Jan) -> Friday
                            "02-03 08:31",  # 7 days before (7 Feb, Tết) -> the last working day before
                            "02-11 08:31",  # 3 days before
                            "02-12 08:31",  # due day (a Sunday) and "1 day before" -> Friday, once
                            "02-15 08:31",  # 1 working day overdue
                            "02-17 08:31",  # 3 working days overdue: the leaders too
                            "02-23 08:31"]  # 7 working days overdue: the coordinators too
    assert days(HALONG_LEADER) == ["02-17 08:31", "02-23 08:31"]
    assert days(COORD) == ["02-23 08:31"]
    assert "Overdue" in bot.to(COORD)[0].text and "UBND" in bot.to(COORD)[0].text
    assert bot.to(SYT) == bot.to(STP) == []


async def test_quiet_hours_move_a_late_evening_reminder_to_the_next_morning(world: Engine) -> None:
    # Settings refuse a send time inside quiet hours (tests/test_startup_checks.py); the planner
    # still keeps such a policy out of them if one reaches it.
    base = rules()
    late = replace(base, policy=replace(base.policy, send_at=time(22, 30)))
    bot = RecordingBot()
    assert await step(world, local(2027, 3, 24, 22, 31), bot, late) == 0
    assert await step(world, local(2027, 3, 25, 6, 59), bot, late) == 0
    assert await step(world, local(2027, 3, 25, 7, 0, 5), bot, late) == 2
    assert {r.slot_at.astimezone(TZ).strftime("%d %H:%M") for r in ledger(world)} == {"25 07:00"}


async def test_a_reminder_missed_20_hours_ago_is_sent_once(world: Engine) -> None:
    bot = RecordingBot()
    await step(world, local(2027, 3, 23, 12), bot)  # planned the 24th, then the bot went down
    assert await step(world, local(2027, 3, 25, 4, 30), bot) == 0  # back at 04:30: quiet hours
    assert await step(world, local(2027, 3, 25, 7, 0, 10), bot) == 2
    assert await step(world, local(2027, 3, 25, 7, 5), bot) == 0
    assert len(bot.to(SYT)) == 1


async def test_a_reminder_missed_3_days_ago_collapses_into_the_next(world: Engine) -> None:
    bot = RecordingBot()
    await step(world, local(2027, 3, 23, 12), bot)  # the 24th's reminder is in the ledger
    assert await step(world, local(2027, 3, 27, 9), bot) == 0  # back after 3 days
    states = {(r.slot_at.astimezone(TZ).day, r.state) for r in ledger(world) if r.member_id == 1}
    assert states == {(24, DeliveryState.SKIPPED.value)}
    assert await step(world, local(2027, 3, 30, 8, 31), bot) == 2  # the next one: 1 day before
    assert "1 day left" in bot.to(SYT)[0].text and len(bot.to(SYT)) == 1


async def test_a_crash_between_claim_and_send_sends_once_after_the_lease(world: Engine) -> None:
    bot, r = RecordingBot(), rules()
    with time_machine.travel(local(2027, 3, 24, 8, 30, 5), tick=False):
        refresh_schedule(world, r, datetime.now(TZ), with_items=True)
        claimed = claim(world, datetime.now(TZ), r, "dead-instance", "en")  # ... and the process dies
    assert len(claimed) == 2
    assert await step(world, local(2027, 3, 24, 8, 33), bot) == 0  # the lease still holds
    assert await step(world, local(2027, 3, 24, 8, 36), bot) == 2  # lease over: sent
    assert await step(world, local(2027, 3, 24, 8, 40), bot) == 0
    assert len(bot.to(SYT)) == len(bot.to(HALONG)) == 1


async def test_a_day_off_added_after_planning_moves_the_reminder(world: Engine) -> None:
    bot = RecordingBot()
    await step(world, local(2027, 3, 23, 7, 0), bot)
    with session_scope(world) as s:
        calendar_days.set_day(s, day=date(2027, 3, 24), kind=calendar_days.DAY_OFF, note="test")
    assert await step(world, local(2027, 3, 23, 9), bot) == 2  # moved to the 23rd, within grace
    assert await step(world, local(2027, 3, 24, 8, 31), bot) == 0  # not again on the day off
    assert {r.last_error for r in ledger(world) if r.state == DeliveryState.SKIPPED.value} == {
        "no longer planned"}


async def test_reported_items_are_not_reminded(world: Engine) -> None:
    bot = RecordingBot()
    await step(world, local(2027, 3, 24, 8), bot)
    with session_scope(world) as s:
        plan = plan_of(s)
        sync_items(s, plan, date(2027, 3, 24), rules().due)
        s.execute(update(Item).values(state=ItemState.REPORTED.value))
    assert await step(world, local(2027, 3, 24, 8, 31), bot) == 0
    with session_scope(world) as s:
        assert {r.state for r in s.exec(select(Delivery))} == {DeliveryState.SKIPPED.value}

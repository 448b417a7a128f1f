"""/status opens on what matters (issue 12, item 5): on 12/01/2027 the current period (Q1 2027)
plus the overdue backlog of Q4 2026 as its own line and button; the weekly digest names the
lagging agencies. Through the real bot and the Bot API stand-in, as a provincial leader
(English) and Hạ Long's leader (Vietnamese, his own subtree only)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy import Engine
from sqlmodel import col, func, select

from bot.settings import Settings
from models.db import session_scope
from models.tables import OPEN_STATES, Agency, Item, Member
from scheduler.digests import plan_digests
from scheduler.dispatch import dispatch_due
from scheduler.jobs import refresh_schedule
from tests.bot_harness import bot_settings, stub  # noqa: F401
from tests.leaders_driver import Driver, data_with, driven
from tests.reminder_helpers import HALONG_LEADER, TZ, add_member, local, populate_world, rules
from tests.stub_botapi import StubBotApi

pytestmark = pytest.mark.e2e
PROVINCE_LEADER = 107


def overdue(engine: Engine, before: date, agency_code: str | None = None) -> tuple[int, int]:
    """(items, agencies) open and due before ``before``."""
    with session_scope(engine) as s:
        query = (select(func.count(), func.count(func.distinct(Item.agency_id))).select_from(Item)
                 .join(Agency, col(Agency.id) == Item.agency_id)
                 .where(col(Item.state).in_(OPEN_STATES), col(Item.due_on) < before))
        if agency_code is not None:
            halong = s.exec(select(Agency.id).where(Agency.code == agency_code)).one()
            query = query.where((col(Agency.id) == halong) | (col(Agency.parent_id) == halong))
        items, agencies = s.exec(query).one()
        return int(items), int(agencies)


@pytest.fixture
def world(plan_engine: Engine) -> Engine:
    populate_world(plan_engine)
    add_member(plan_engine, PROVINCE_LEADER, "UBND-TINH", role="leader", language="en")
    with session_scope(plan_engine) as s:  # Hạ Long's leader reads Vietnamese
        leader = s.exec(select(Member).where(Member.telegram_user_id == HALONG_LEADER)).one()
        leader.language = "vi"
    with time_machine.travel(local(2026, 12, 20, 9), tick=False):
        refresh_schedule(plan_engine, rules(), datetime.now(TZ), with_items=True)
    return plan_engine


async def test_status_shows_the_backlog_of_earlier_periods(stub: StubBotApi, bot_settings: Settings,  # noqa: F811
                                                           world: Engine) -> None:
    driver = Driver(stub)
    today = date(2027, 1, 12)
    items, agencies = overdue(world, today)
    assert items > 400
    with time_machine.travel(local(2027, 1, 12, 9), tick=True):
        async with driven(bot_settings, world, driver):
            summary = await driver.text(PROVINCE_LEADER, "/status")
            assert summary.contains("Plan status — Q1 2027")
            assert summary.contains(f"Earlier periods: {items} items still overdue"), summary.text
            assert agencies > 10
            button = data_with(summary, "st:o:2027-Q1")
            assert summary.button_texts()[0].startswith("⏰ All overdue items")
            await driver.press(PROVINCE_LEADER, summary, button)
            listing = driver.message(PROVINCE_LEADER, summary.message_id)
            assert listing.contains("Overdue items, every period")
            assert listing.contains("Scope: whole province")
            assert listing.button_datas()[-1] == "st:p:2027-Q1:0:0"  # « Back to the summary

            # Hạ Long's leader: only Hạ Long and the units under it, in Vietnamese.
            own, own_agencies = overdue(world, today, "HA-LONG")
            mine = await driver.text(HALONG_LEADER, "/status")
            assert mine.contains("Các kỳ trước: còn") and mine.contains(f"{own} mục quá hạn")
            await driver.press(HALONG_LEADER, mine, data_with(mine, "st:o:"))
            listing = driver.message(HALONG_LEADER, mine.message_id)
            assert listing.contains("Các mục quá hạn, mọi kỳ")
            assert listing.contains(f"{own} mục quá hạn · {own_agencies} đơn vị")
            assert not listing.contains("Ba Chẽ")
            # A forged button for another district's overdue items is refused.
            with session_scope(world) as s:
                ba_che = s.exec(select(Agency.id).where(Agency.code == "BA-CHE")).one()
            answer = await driver.press(HALONG_LEADER, listing, f"st:og:2027-Q1:{ba_che}:0", forged=True)
            assert answer == "Không được phép."


async def test_the_weekly_digest_names_the_lagging_agencies(stub: StubBotApi, bot_settings: Settings,  # noqa: F811
                                                            world: Engine) -> None:
    monday = local(2027, 1, 11, 8, 0, 5)
    with time_machine.travel(monday, tick=True):
        async with driven(bot_settings, world, Driver(stub)) as app:
            refresh_schedule(world, rules(), datetime.now(TZ), with_items=True)
            with session_scope(world) as s:
                assert plan_digests(s, datetime.now(TZ), rules(), "mon", "08:00") == 2
            await dispatch_due(app.bot, world, rules(), default_language="vi", instance="t")
    (digest,) = [m for m in stub.sent_messages(PROVINCE_LEADER) if m.contains("Weekly digest")]
    assert digest.contains("Lagging agencies")
    with session_scope(world) as s:
        worst = s.exec(select(Agency.name, func.count()).select_from(Item)
                       .join(Agency, col(Agency.id) == Item.agency_id)
                       .where(col(Item.state).in_(OPEN_STATES), col(Item.due_on) < date(2027, 1, 11))
                       .group_by(col(Agency.name)).order_by(func.count().desc())).first()
    assert worst is not None
    lagging = (digest.text or "").split("Lagging agencies", 1)[1].splitlines()[1:7]
    assert lagging[0].endswith(f": {worst[1]} overdue items"), lagging
    assert len([ln for ln in lagging if ln.startswith("• ")]) == 5 and lagging[5].startswith("…and ")
    assert digest.contains("Earlier periods:")
    (digest_vi,) = [m for m in stub.sent_messages(HALONG_LEADER) if m.contains("Bản tin hằng tuần")]
    assert digest_vi.contains("Các đơn vị chậm nhất") and digest_vi.contains("Các kỳ trước: còn")
    assert digest_vi.contains("UBND thành phố Hạ Long") and not digest_vi.contains("Ba Chẽ")

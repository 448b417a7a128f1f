"""Escalations people can act on (issue 12, item 3), through the real bot and the Bot API
stand-in: at +7 working days after 31/12/2026 a coordinator owed hundreds of items gets ONE
message (per agency the count, worst first; agencies nobody is registered for apart, with how to
invite them) whose button opens the overdue drill-down, in English and in Vietnamese."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy import Engine
from sqlmodel import col, func, select

from bot.settings import Settings
from models.db import session_scope
from models.tables import OPEN_STATES, Agency, Delivery, DeliveryState, Item
from scheduler.dispatch import dispatch_due
from scheduler.jobs import refresh_schedule
from tests.bot_harness import bot_settings, stub  # noqa: F401
from tests.leaders_driver import Driver, data_with, driven
from tests.reminder_helpers import COORD, HALONG, HALONG_LEADER, TZ, add_member, local, populate_world, rules
from tests.stub_botapi import StubBotApi, utf16_len

pytestmark = pytest.mark.e2e
COORD_VI = 106
ESCALATION = local(2027, 1, 12, 8, 30, 5)  # 7 working days after 31/12/2026 (1/1 is a holiday)


def overdue_counts(engine: Engine, today: date) -> dict[str, int]:
    with session_scope(engine) as s:
        return {name: int(n) for name, n in s.exec(
            select(Agency.name, func.count()).select_from(Item).join(Agency, col(Agency.id) == Item.agency_id)
            .where(col(Item.state).in_(OPEN_STATES), col(Item.due_on) < today)
            .group_by(col(Agency.name)))}


async def test_one_escalation_per_coordinator_with_a_working_button(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine) -> None:  # noqa: F811
    populate_world(plan_engine)
    add_member(plan_engine, COORD_VI, "SNV", role="coordinator", language="vi")
    with time_machine.travel(local(2026, 12, 20, 9), tick=False):
        refresh_schedule(plan_engine, rules(), datetime.now(TZ), with_items=True)
    driver = Driver(stub)
    with time_machine.travel(ESCALATION, tick=True):
        async with driven(bot_settings, plan_engine, driver) as app:
            refresh_schedule(plan_engine, rules(), datetime.now(TZ), with_items=True)
            await dispatch_due(app.bot, plan_engine, rules(), default_language="vi", instance="t")
            with session_scope(plan_engine) as s:
                rows = list(s.exec(select(Delivery).where(Delivery.chat_id == COORD)))
            assert len(rows) > 400  # more than two claims' worth (200 rows a claim)
            assert {r.state for r in rows} == {DeliveryState.SENT.value}
            assert len({r.message_id for r in rows}) == 1  # all of them settled by one message

            (message,) = stub.sent_messages(COORD)
            (message_vi,) = stub.sent_messages(COORD_VI)
            text = message.text or ""
            assert utf16_len(text) <= 4096
            head = re.search(r"Overdue: (\d+) items at (\d+) agencies are past their due day", text)
            assert head is not None, text
            assert int(head.group(1)) == len(rows)
            # Hạ Long has a focal point: listed among those reminded; the others apart.
            reminded, _sep, nobody = text.partition("No focal point registered")
            assert "UBND thành phố Hạ Long" in reminded and "(their focal points were reminded)" in reminded
            assert "UBND thành phố Hạ Long" not in nobody
            assert "Sở Y tế" in reminded and "UBND huyện Ba Chẽ (BA-CHE)" in nobody
            assert "nobody there was reminded to report" in nobody and "Ba Chẽ" not in reminded
            assert "/invite" in nobody and "dondoc invite --agency CODE --role focal_point" in nobody
            assert "Send /tasks" not in text
            # Worst first: the counts of the nobody-registered block never go up.
            counts = [int(n) for n in re.findall(r": (\d+)$", nobody, re.M)]
            assert counts == sorted(counts, reverse=True) and counts
            assert message_vi.contains("Quá hạn") and message_vi.contains("Chưa có cán bộ đầu mối đăng ký")
            button = data_with(message, "st:o:")

            # The button opens the overdue list: every overdue item of the scope, worst first.
            expected = overdue_counts(plan_engine, ESCALATION.date())
            await driver.press(COORD, message, button)
            listing = driver.message(COORD, message.message_id)
            assert listing.contains("Overdue items, every period")
            assert listing.contains(f"{sum(expected.values())} items overdue · {len(expected)} agencies")
            worst = max(expected.values())
            first = listing.button_texts()[0]
            assert first.startswith(f"{worst} · ")
            await driver.press(COORD, listing, listing.button_datas()[0])
            agency = driver.message(COORD, message.message_id)
            name = first.split(" · ", 1)[1]
            assert agency.contains(f"{worst} overdue items") and agency.contains(name.rstrip("…"))
            assert agency.text is not None and agency.text.lower().count("overdue") >= 2
            # Hạ Long's leader: his agency's late items, and the same button, for his scope.
            (leader,) = stub.sent_messages(HALONG_LEADER)
            assert leader.contains("Overdue") and leader.contains("UBND thành phố Hạ Long")
            await driver.press(HALONG_LEADER, leader, data_with(leader, "st:o:"))
            mine = driver.message(HALONG_LEADER, leader.message_id)
            assert mine.contains("Overdue items, every period")
            assert mine.contains("Scope: UBND thành phố Hạ Long and the units under it")
            assert not mine.contains("Ba Chẽ")
    assert len(stub.sent_messages(HALONG)) == 1  # the focal point's own overdue reminder

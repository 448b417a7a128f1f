"""A plan of another shape through the real bot (issue 14, item 4): a one-off task of the 2027
Word plan (``tests.plan_shapes``) is in the focal point's /tasks with its own due date, and its
expected output ("Sản phẩm") is shown on the task's view and on the report form, in Vietnamese
and in English."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.settings import Settings
from domain.periods import DueRules
from domain.plan_readers import parse_document
from models import registry
from models.agencies import load_bundled_agencies
from models.db import make_engine, session_scope
from models.tables import Agency, Item, Member, MemberRole, Plan, Task
from scheduler.deadlines import sync_items
from tests.bot_harness import Driver, bot_settings, data_with, driven, stub  # noqa: F401
from tests.plan_shapes import plan_2027_docx
from tests.stub_botapi import StubBotApi

pytestmark = pytest.mark.e2e

FP_VI, FP_EN = 6101, 6102


def _world(engine: Engine, today: date) -> int:
    """The 2027 plan in force from ``today``, its items, two focal points of its lead; the item
    of task 1.1 (due 30 June 2027)."""
    data = plan_2027_docx()
    with session_scope(engine) as s:
        load_bundled_agencies(s)
        registry.import_plan(s, parse_document(data, source="plan_2027.docx"), raw=data,
                             source_name="plan_2027.docx", active_from=today)
    with session_scope(engine) as s:
        sync_items(s, s.exec(select(Plan)).one(), today, DueRules())
        lead = s.exec(select(Agency).where(Agency.name == "Sở Thông tin và Truyền thông")).one()
        for user, name, language in ((FP_VI, "Lan", "vi"), (FP_EN, "Minh", "en")):
            s.add(Member(telegram_user_id=user, agency_id=lead.id, role=MemberRole.FOCAL_POINT.value,
                         full_name=name, language=language))
        item = s.exec(select(Item).join(Task, col(Task.id) == Item.task_id)
                      .where(Item.agency_id == lead.id, Task.code == "1.1")).one()
        assert (item.period_key, item.due_on) == ("2027-06-30", date(2027, 6, 30))
        assert item.id is not None
        return item.id


async def test_a_one_off_task_with_its_expected_output(stub: StubBotApi,  # noqa: F811
                                                       bot_settings: Settings) -> None:  # noqa: F811
    engine = make_engine(bot_settings.database_url)
    item = _world(engine, datetime.now(bot_settings.tz).date())
    driver = Driver(stub)
    async with driven(bot_settings, engine, driver):
        listing = await driver.text(FP_VI, "/tasks")
        assert listing.contains("1.1") and listing.contains("2027-06-30")
        assert listing.contains("2.3") and listing.contains("2027-12-31")
        await driver.press(FP_VI, listing, f"ti:{item}:0")
        card = driver.message(FP_VI, listing.message_id)
        assert card.contains("Xây dựng quy chế quản lý dữ liệu số của tỉnh")
        assert card.contains("📦 Sản phẩm: Quyết định của UBND tỉnh")
        assert card.contains("hạn 30 thg 6, 2027")
        await driver.press(FP_VI, card, data_with(card, "rp:"))
        form = stub.last_message(FP_VI)
        assert form is not None and form.contains("📝")
        assert form.contains("📦 Sản phẩm: Quyết định của UBND tỉnh")

        english = await driver.text(FP_EN, "/tasks")
        await driver.press(FP_EN, english, f"ti:{item}:0")
        card = driver.message(FP_EN, english.message_id)
        assert card.contains("📦 Expected output: Quyết định của UBND tỉnh")
    engine.dispose()

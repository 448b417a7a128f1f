"""Several plans (issue 14, item 3) through the real bot and the Bot API stand-in: an
administrator sends a second, small plan (25/KH-UBND, a Word document) beside Plan 916 and
applies it; Sở Y tế's focal point, owing tasks in both, gets one reminder naming each plan's
items; Sở Y tế's leader is asked which plan /status is about and sees each plan's own figures
(also with ``/status 25/KH-UBND``, and in the drill-down); /export asks the same; once the
second plan is closed, /status is as before and its items are no longer reminded."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.settings import Settings
from models import registry
from models.db import session_scope
from models.tables import Delivery, DeliveryState, Item, MemberRole, Plan, Task
from scheduler.dispatch import dispatch_due
from scheduler.jobs import refresh_schedule
from tests.bot_harness import Driver, bot_settings, data_with, driven, stub  # noqa: F401
from tests.plan_copies import word_copy
from tests.reminder_helpers import TZ, add_member, local, rules, set_active_from
from tests.second_plan import NUMBER, second_plan
from tests.stub_botapi import StubBotApi, UploadedFile

pytestmark = pytest.mark.e2e
ADMIN, FOCAL, LEADER = 9101, 9102, 9103
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
NOW = local(2027, 3, 24, 8, 30, 0)  # 7 days before Q1 2027 ends: the reminders' slot


def _plan_id(engine: Engine, number: str) -> int:
    with session_scope(engine) as s:
        return int(s.exec(select(Plan.id).where(Plan.number == number)).one() or 0)


def _items_of(engine: Engine, number: str) -> set[int]:
    with session_scope(engine) as s:
        return {int(i) for i in s.exec(select(Item.id).join(Task, col(Task.id) == Item.task_id)
                                       .join(Plan, col(Plan.id) == Task.plan_id)
                                       .where(Plan.number == number))}


async def test_a_second_plan_runs_beside_916_with_its_own_reminders_and_status(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine) -> None:  # noqa: F811
    set_active_from(plan_engine, local(2026, 10, 1).date())
    add_member(plan_engine, ADMIN, "SNV", role=MemberRole.ADMIN.value, language="en")
    add_member(plan_engine, FOCAL, "SYT", language="en")
    add_member(plan_engine, LEADER, "SYT", role=MemberRole.LEADER.value, language="vi")
    driver = Driver(stub)
    with time_machine.travel(NOW, tick=True):
        async with driven(bot_settings, plan_engine, driver) as app:
            # The administrator sends the second plan as a Word document and applies it.
            await driver.do(stub.send_document(ADMIN, "ke-hoach-25.docx", word_copy(second_plan()), DOCX))
            asked = stub.last_message(ADMIN)
            assert asked is not None
            await driver.press(ADMIN, asked, data_with(asked, "pi:a:", ":1"))
            preview = driver.message(ADMIN, asked.message_id)
            assert preview.contains(NUMBER) and preview.contains("3")
            await driver.press(ADMIN, preview, data_with(preview, "pi:ok:"))
            done = driver.message(ADMIN, preview.message_id)
            assert done.contains(NUMBER), done.text
            with session_scope(plan_engine) as s:
                assert [p.number for p in registry.active_plans(s)] == [NUMBER, "916/KH-UBND"]
                assert len(registry.list_tasks(s, registry.require_plan(s, "916/KH-UBND"))) == 40

            # The bot's tick: items of both plans, one reminder naming each plan's items.
            refresh_schedule(plan_engine, rules(), datetime.now(TZ))
            await dispatch_due(app.bot, plan_engine, rules(), default_language="vi", instance="t")
            (reminder,) = stub.sent_messages(FOCAL)
            assert reminder.contains(f"[{NUMBER}] 1.1"), reminder.text
            assert reminder.contains(f"[{NUMBER}] 2.1")
            assert reminder.contains("[916/KH-UBND] 6.1b")

            # /tasks names the plan of each item.
            tasks = await driver.text(FOCAL, "/tasks")
            pages, shown = [tasks.text or ""], tasks
            while f"tk:{len(pages)}" in shown.button_datas():
                await driver.press(FOCAL, shown, f"tk:{len(pages)}")
                shown = driver.message(FOCAL, tasks.message_id)
                pages.append(shown.text or "")
            listed = "\n".join(pages)
            assert f"[{NUMBER}] 1.1 · period 2027-Q1" in listed
            assert f"[{NUMBER}] 2.1 · period 2027-Q1" in listed
            assert "[916/KH-UBND] 6.1b · period 2027-Q1" in listed

            # The leader's /status: which plan first, then that plan's figures.
            choice = await driver.text(LEADER, "/status")
            assert choice.contains("Đang có nhiều kế hoạch được thực hiện")
            assert choice.button_texts() == [NUMBER, "916/KH-UBND"]
            ours = _plan_id(plan_engine, NUMBER)
            await driver.press(LEADER, choice, data_with(choice, "st:p:", f":{ours}"))
            second = driver.message(LEADER, choice.message_id)
            assert second.contains(f"Sở Y tế và các đơn vị trực thuộc · kế hoạch {NUMBER}"), second.text
            # Its own figures: Sở Y tế owes 1.1 and 2.1 of plan 25 this quarter, under its own axes.
            assert second.contains("Số nhiệm vụ phải báo cáo: 2") and second.contains("1. Cải cách thể chế")
            assert second.contains("2. Cải cách thủ tục hành chính") and not second.contains("Công khai")
            # Every button of the page stays in the chosen plan.
            assert all(d.endswith(f":{ours}") for d in second.button_datas() if d.startswith("st:"))
            axis = data_with(second, "st:a:")
            await driver.press(LEADER, second, axis)
            page = driver.message(LEADER, choice.message_id)
            assert page.contains("Trục 1. Cải cách thể chế") and page.contains(f"kế hoạch {NUMBER}")
            assert page.contains("1.1 Rà soát văn bản quy phạm")
            assert page.contains("1.2 Kiểm tra việc thi hành")
            assert not page.contains("Tăng cường thông tin")  # 916's 1.1 is another task

            first = await driver.text(LEADER, "/status 916/KH-UBND")
            assert first.contains("kế hoạch 916/KH-UBND") and not first.contains(NUMBER)
            assert first.contains("Số nhiệm vụ phải báo cáo: 1")
            assert first.contains("6. Cung ứng dịch vụ công")
            assert second.text != first.text
            unknown = await driver.text(LEADER, "/status 99/KH-UBND")
            assert unknown.contains("Không có kế hoạch nào mang số này")

            # /export asks too; the chosen plan's workbook comes.
            asked_export = await driver.text(LEADER, "/export")
            assert asked_export.button_texts() == [NUMBER, "916/KH-UBND"]
            await driver.press(LEADER, asked_export, data_with(asked_export, "pp:export:", f":{ours}:"))
            call = await stub.await_call("sendDocument", timeout=60)
            assert isinstance(call.params["document"], UploadedFile)

            # Closing the second plan: its reminders stop, /status is as it was with one plan.
            with session_scope(plan_engine) as s:
                registry.close_plan(s, NUMBER, actor="test", apply=True)
            alone = await driver.text(LEADER, "/status")
            assert not alone.contains("Đang có nhiều kế hoạch") and not alone.contains("kế hoạch 916")
            assert all(d.count(":") <= 4 for d in alone.button_datas() if d.startswith("st:"))
    ours_items = _items_of(plan_engine, NUMBER)
    with session_scope(plan_engine) as s:
        pending = s.exec(select(Delivery).where(col(Delivery.item_id).in_(ours_items),
                                                Delivery.state == DeliveryState.PENDING.value)).all()
    assert ours_items and not pending

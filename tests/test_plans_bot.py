"""Several plans (issue 14, item 3) through the real bot and the Bot API stand-in: an
administrator sends a second, small plan (25/KH-UBND, a Word document) beside Plan 916 and
applies it; Sở Y tế's focal point, owing tasks in both, gets one reminder naming each plan's
items; Sở Y tế's leader is asked which plan /status is about and sees each plan's own figures
(also with ``/status 25/KH-UBND``, and in the drill-down); /export asks the same; once the
second plan is closed, /status is as before and its items are no longer reminded."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.settings import Settings
from domain.plan_parser import parse_plan
from models import registry
from models.db import session_scope
from models.tables import Agency, Delivery, DeliveryState, Item, MemberRole, Plan, Report, Task
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


HALONG = 9104  # UBND thành phố Hạ Long: owes 916's 1.1 (UBND cấp huyện) and, below, plan 25's 1.1


def _item(engine: Engine, number: str, code: str, agency_code: str, period: str) -> int:
    with session_scope(engine) as s:
        return int(s.exec(select(Item.id).join(Task, col(Task.id) == Item.task_id)
                          .join(Plan, col(Plan.id) == Task.plan_id)
                          .join(Agency, col(Agency.id) == Item.agency_id)
                          .where(Plan.number == number, Task.code == code, Agency.code == agency_code,
                                 Item.period_key == period)).one() or 0)


def _reports(engine: Engine, item_id: int) -> list[tuple[str, int | None]]:
    with session_scope(engine) as s:
        return [(r.state, r.percent) for r in s.exec(select(Report).where(Report.item_id == item_id)
                                                     .order_by(col(Report.version)))]


async def test_the_same_code_in_two_plans_is_reported_in_the_plan_chosen(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine) -> None:  # noqa: F811
    """Hạ Long owes a task 1.1 in both plans: "1.1 xong" asks which, naming both plans, and reports
    exactly the item pressed; the other stays open. The reminder's report buttons name the plan
    and each opens its own plan's item; words typed at that form stay on it."""
    set_active_from(plan_engine, date(2027, 1, 1))
    raw = second_plan(lead="Sở Y tế; UBND thành phố Hạ Long")
    with session_scope(plan_engine) as s:
        registry.import_plan(s, parse_plan(raw), raw=raw, source_name="kh25.txt",
                             active_from=date(2027, 1, 1), actor="test")
    add_member(plan_engine, HALONG, "HA-LONG", language="vi")
    driver = Driver(stub)
    with time_machine.travel(NOW, tick=True):
        async with driven(bot_settings, plan_engine, driver) as app:
            refresh_schedule(plan_engine, rules(), datetime.now(TZ))
            await dispatch_due(app.bot, plan_engine, rules(), default_language="vi", instance="t")
            ours = _item(plan_engine, NUMBER, "1.1", "HA-LONG", "2027-Q1")
            theirs = _item(plan_engine, "916/KH-UBND", "1.1", "HA-LONG", "2027-Q1")
            assert ours and theirs and ours != theirs
            (reminder,) = stub.sent_messages(HALONG)
            assert reminder.contains(f"[{NUMBER}] 1.1") and reminder.contains("[916/KH-UBND] 1.1")
            labels = dict(zip(reminder.button_datas(), reminder.button_texts(), strict=False))
            assert NUMBER in labels[f"rp:{ours}"] and "916/KH-UBND" in labels[f"rp:{theirs}"], labels

            # /report 1.1: owed in two plans, not two periods.
            menu = await driver.text(HALONG, "/report 1.1")
            assert menu.contains("ở nhiều kế hoạch"), menu.text
            assert {f"rp:{ours}", f"rp:{theirs}"} <= set(menu.button_datas())

            # In the officer's words: which item? Both plans named, in the lines and on the buttons.
            asked = await driver.text(HALONG, "1.1 xong rồi, báo cáo số 12/BC-UBND ngày 20/3/2027")
            assert asked.contains("Báo cáo này về nhiệm vụ nào?"), asked.text
            assert asked.contains(f"[{NUMBER}] 1.1 · kỳ 2027-Q1: Rà soát văn bản quy phạm"), asked.text
            assert asked.contains("[916/KH-UBND] 1.1 · kỳ 2027-Q1: Tăng cường thông tin")
            picks = [d for d in asked.button_datas() if ":pick_item:i" in d]
            assert sorted(d.rsplit(":i", 1)[1] for d in picks) == sorted([str(ours), str(theirs)])
            assert any(t.startswith(f"[{NUMBER}] 1.1") for t in asked.button_texts())
            assert any(t.startswith("[916/KH-UBND] 1.1") for t in asked.button_texts())
            await driver.press(HALONG, asked, data_with(asked, "d:", f":pick_item:i{ours}"))
            review = driver.message(HALONG, asked.message_id)
            assert review.contains("Kiểm tra báo cáo") and review.contains(f"[{NUMBER}] 1.1"), review.text
            assert review.contains("Số văn bản: 12/BC-UBND")
            await driver.press(HALONG, review, data_with(review, "d:", ":review:ok"))
            sent = driver.message(HALONG, asked.message_id)
            assert sent.contains("Đã gửi") and sent.contains(f"[{NUMBER}] 1.1"), sent.text
            assert _reports(plan_engine, ours) == [("done", None)]
            assert _reports(plan_engine, theirs) == []  # 916's 1.1 stays open

            # The reminder's button for 916's 1.1 opens that item; words typed at its form stay on it.
            await driver.press(HALONG, reminder, f"rp:{theirs}")
            form = stub.last_message(HALONG)
            assert form is not None and form.contains("[916/KH-UBND] 1.1"), form.text if form else None
            answer = await driver.text(HALONG, "1.1 đang làm 40%")
            assert answer.contains("Kiểm tra báo cáo") and answer.contains("[916/KH-UBND] 1.1"), answer.text
            await driver.press(HALONG, answer, data_with(answer, "d:", ":review:ok"))
            assert driver.message(HALONG, answer.message_id).contains("Đã gửi")
    assert _reports(plan_engine, theirs) == [("in_progress", 40)]
    assert _reports(plan_engine, ours) == [("done", None)]
    with session_scope(plan_engine) as s:
        assert s.get(Item, ours).state == "reported"  # type: ignore[union-attr]  (waits for verification)
        assert s.get(Item, theirs).state == "in_progress"  # type: ignore[union-attr]

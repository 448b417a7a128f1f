"""Every item actionable, reports in the officer's own words (issue 12, items 1 and 2), through the
real Application and the Bot API stand-in.

A commune focal point who owes 20+ items gets one reminder: ten buttons at most, the last one "all
N tasks"; each tap opens the form as a new message (the reminder and the list stay as they were),
and they report every item, half by the buttons, half by replying to the reminder in their own
words ("<code> xong, báo cáo số 125/BC-UBND ngày 20/12/2026"). An English-speaking commune focal
point reports every item with ``/report <code>`` and in English ("<code> in progress 60%").
Doubts are asked with buttons: no code, a code the commune owes in several periods, a code that
could be two tasks, "done 60%". The document's date is kept apart from its number.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.settings import Settings
from domain.periods import DueRules
from models import agencies, ledger
from models.db import session_scope
from models.items import ItemRow, reportable_items
from models.tables import Agency, Member, MemberRole, Plan, Report
from scheduler.deadlines import sync_items
from scheduler.dispatch import dispatch_due
from scheduler.planner import REMINDER, reminder_key
from tests.bot_harness import Driver, bot_settings_fixture, data_with, driven, stub_fixture  # noqa: F401
from tests.forged import admin_alerts
from tests.reminder_helpers import rules
from tests.stub_botapi import SentMessage, StubBotApi

COMMUNES = """name,code,level,parent,classes,aliases
UBND phường Hồng Gai,XA-HONG-GAI,commune,HA-LONG,UBND cấp xã,
UBND phường Bãi Cháy,XA-BAI-CHAY,commune,HA-LONG,UBND cấp xã,
"""
FP_VI, FP_EN = 6001, 6002
DOC_DAY = date(2026, 12, 20)


@pytest.fixture
def communes(plan_engine: Engine, bot_settings: Settings) -> dict[str, Any]:
    """Two communes of Hạ Long with their items as of the bot's today, a focal point each."""
    today = datetime.now(bot_settings.tz).date()
    with session_scope(plan_engine) as s:
        agencies.import_agencies(s, agencies.parse_agency_csv(COMMUNES.encode()))
        plan = s.exec(select(Plan)).one()
        plan.active_from = date(2026, 7, 1)  # the second half-year's items too: some owed twice
        s.flush()
        sync_items(s, plan, today, DueRules())
        ids = {}
        for tg, code, language in [(FP_VI, "XA-HONG-GAI", "vi"), (FP_EN, "XA-BAI-CHAY", "en")]:
            agency = s.exec(select(Agency).where(Agency.code == code)).one()
            assert agency.id is not None
            s.add(Member(telegram_user_id=tg, agency_id=agency.id, role=MemberRole.FOCAL_POINT.value,
                         full_name=f"Đầu mối {code}", language=language))
            ids[tg] = agency.id
        s.flush()
        owed = {tg: reportable_items(s, agency_id, today) for tg, agency_id in ids.items()}
    assert all(len(rows) >= 20 for rows in owed.values()), {tg: len(r) for tg, r in owed.items()}
    return {"owed": owed, "today": today}


def queue_reminder(engine: Engine, telegram_user_id: int, rows: list[ItemRow]) -> None:
    """The planner's ledger rows of one reminder slot (now) for every item of the member."""
    slot = datetime.now(UTC) - timedelta(minutes=1)
    with session_scope(engine) as s:
        member = s.exec(select(Member).where(Member.telegram_user_id == telegram_user_id)).one()
        assert member.id is not None
        ledger.plan(s, [{
            "key": reminder_key(row.item_id, member.id, slot), "kind": REMINDER,
            "chat_id": telegram_user_id, "member_id": member.id, "item_id": row.item_id,
            "slot_at": slot, "slot_kind": "before", "offset_days": 7, "audience": "focal_point",
            "state": "pending", "attempts": 0, "next_attempt_at": slot, "last_error": "",
            "created_at": datetime.now(UTC)} for row in rows])


def latest_reports(engine: Engine, rows: list[ItemRow]) -> dict[int, Report]:
    with session_scope(engine) as s:
        found = s.exec(select(Report).where(col(Report.item_id).in_([r.item_id for r in rows]))
                       .order_by(col(Report.version))).all()
        return {r.item_id: r for r in found}


def now_of(driver: Driver, message: SentMessage) -> SentMessage:
    return driver.message(message.chat_id, message.message_id)


async def test_a_commune_reports_every_item_from_the_reminder_in_vietnamese(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine, communes: dict[str, Any]) -> None:
    owed: list[ItemRow] = communes["owed"][FP_VI]
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver) as app:
        queue_reminder(plan_engine, FP_VI, owed)
        stats = await dispatch_due(app.bot, plan_engine, rules(quiet_start="00:00", quiet_end="00:00"),
                                   default_language="vi")
        assert stats.sent == 1  # one message for the whole slot
        reminder = stub.last_message(FP_VI)
        assert reminder is not None and reminder.contains(f"{len(owed)} mục cần báo cáo")
        datas = reminder.button_datas()
        assert len(datas) == 10 and datas[-1] == "rk:0:1"
        assert f"📋 Tất cả {len(owed)} nhiệm vụ" in reminder.button_texts()

        # "All N tasks": the paged list as a new message; its pages turn in place.
        await driver.press(FP_VI, reminder, "rk:0:1")
        listing = stub.last_message(FP_VI)
        assert listing is not None and listing.message_id != reminder.message_id
        pages = int((listing.text or "").split("trang 1/")[1].split(")")[0])
        page_of: dict[str, int] = {}
        for page in range(pages):
            if page:
                await driver.press(FP_VI, listing, f"rk:{page}:0")
            page_of.update({d: page for d in now_of(driver, listing).button_datas() if d.startswith("rp:")})
        assert sorted(page_of) == sorted(f"rp:{r.item_id}" for r in owed)
        assert now_of(driver, listing).edit_count == pages - 1

        by_buttons, by_words = owed[::2], owed[1::2]
        for row in by_buttons:  # tap, answer each question, send
            origin = reminder if f"rp:{row.item_id}" in reminder.button_datas() else listing
            page = 0  # reported items move to the end of the list: look for the item's page
            while f"rp:{row.item_id}" not in now_of(driver, origin).button_datas():
                assert page < pages, row
                await driver.press(FP_VI, now_of(driver, listing), f"rk:{page}:0", forged=True)  # ‹ › ‹ …
                page += 1
            await driver.press(FP_VI, now_of(driver, origin), f"rp:{row.item_id}")
            form = stub.last_message(FP_VI)
            assert form is not None and form.message_id not in (reminder.message_id, listing.message_id)
            assert form.contains(row.code) and form.contains("Tình trạng thực hiện")
            await driver.press(FP_VI, form, data_with(form, "d:", ":state:done"))
            await driver.press(FP_VI, form, data_with(now_of(driver, form), "d:", ":note:keep"))
            evidence = await driver.text(FP_VI, "Số 125/BC-UBND ngày 20/12/2026")
            assert evidence.contains("Số văn bản: 125/BC-UBND, ngày") and not evidence.contains("BC-UBNDngày")
            await driver.press(FP_VI, evidence, data_with(evidence, "d:", ":evidence:next"))
            review = now_of(driver, evidence)
            await driver.press(FP_VI, review, data_with(review, "d:", ":review:ok"))
            assert now_of(driver, review).contains("Đã gửi: phiên bản 1")

        codes = [r.code for r in owed]
        for row in by_words:  # a reply to the reminder, in the officer's words
            update = stub.send_text(FP_VI, f"{row.code} đã xong rồi, báo cáo số 12/BC-UBND ngày 20/12/2026",
                                    reply_to=reminder)
            await driver.do(update)
            answer = stub.last_message(FP_VI)
            assert answer is not None
            if codes.count(row.code) > 1:  # owed in several periods: which one?
                assert answer.contains("Báo cáo này về nhiệm vụ nào?")
                await driver.press(FP_VI, answer, data_with(answer, "d:", f":pick_item:i{row.item_id}"))
                answer = now_of(driver, answer)
            assert answer.contains("Kiểm tra báo cáo") and answer.contains(row.code)
            assert answer.contains("Số văn bản: 12/BC-UBND, ngày")
            await driver.press(FP_VI, answer, data_with(answer, "d:", ":review:ok"))
            assert now_of(driver, answer).contains("Đã gửi")

        # The reminder and the list were never replaced by a form.
        assert now_of(driver, reminder).edit_count == 0
        assert now_of(driver, reminder).text == reminder.text

    reports = latest_reports(plan_engine, owed)
    assert sorted(reports) == sorted(r.item_id for r in owed)
    assert all(r.state == "done" and r.review_state == "pending" for r in reports.values())
    assert {reports[r.item_id].document_number for r in by_buttons} == {"125/BC-UBND"}
    assert {reports[r.item_id].document_number for r in by_words} == {"12/BC-UBND"}
    assert {r.document_date for r in reports.values()} == {DOC_DAY}
    assert admin_alerts(stub) == []


async def test_an_english_commune_reports_every_item_with_report_code(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine, communes: dict[str, Any]) -> None:
    owed: list[ItemRow] = communes["owed"][FP_EN]
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver):
        for index, row in enumerate(owed):
            shown = await driver.text(FP_EN, f"/report {row.code.upper()}")
            if shown.contains("in several periods"):
                await driver.press(FP_EN, shown, f"rp:{row.item_id}")
                shown = stub.last_message(FP_EN)
                assert shown is not None
            assert shown.contains(row.code) and shown.contains(row.period_key)
            assert shown.contains("What is the state of this task?")
            # At the state question, the officer answers in their own words.
            if index % 2:
                answer = await driver.text(FP_EN, f"{row.code} in progress 60%")
                assert answer.contains("Check your report") and answer.contains("In progress 60%")
            else:
                answer = await driver.text(FP_EN, f"{row.code} blocked: no budget yet")
                assert answer.contains("Check your report") and answer.contains("no budget yet")
            if answer.contains("Which task is this report about?"):
                await driver.press(FP_EN, answer, data_with(answer, "d:", f":pick_item:i{row.item_id}"))
                answer = now_of(driver, answer)
            await driver.press(FP_EN, answer, data_with(answer, "d:", ":review:ok"))
            assert now_of(driver, answer).contains("Sent: version")
        unknown = await driver.text(FP_EN, "/report 9.9z")
        assert unknown.contains("Your agency has no open task") and unknown.contains("9.9z")
    reports = latest_reports(plan_engine, owed)
    assert sorted(reports) == sorted(r.item_id for r in owed)
    for index, row in enumerate(owed):
        report = reports[row.item_id]
        if index % 2:
            assert (report.state, report.percent) == ("in_progress", 60)
        else:
            assert report.state == "blocked" and "no budget yet" in report.note
    assert admin_alerts(stub) == []


async def test_doubts_are_asked_with_buttons(stub: StubBotApi, bot_settings: Settings, plan_engine: Engine,
                                             communes: dict[str, Any]) -> None:
    owed: list[ItemRow] = communes["owed"][FP_VI]
    row = owed[0]
    lettered = next((r for r in owed if r.code[-1].isalpha()), None)
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver):
        hello = await driver.text(FP_VI, "Xin chào")
        assert hello.contains("/tasks")  # no report in it: the help, no draft
        no_code = await driver.text(FP_VI, "da xong")
        assert no_code.contains("Báo cáo này về nhiệm vụ nào?")
        assert f"i{row.item_id}" in " ".join(no_code.button_datas())
        await driver.press(FP_VI, no_code, data_with(no_code, "d:", f":pick_item:i{row.item_id}"))
        picked = now_of(driver, no_code)
        assert picked.contains(row.code) and picked.contains("Gửi minh chứng")  # done needs evidence
        conflict = await driver.text(FP_VI, f"{row.code} xong 60%")
        assert conflict.contains("Tình trạng thực hiện")
        assert ":pick_state:" in " ".join(conflict.button_datas())
        await driver.press(FP_VI, conflict, data_with(conflict, "d:", ":pick_state:prog"))
        assert now_of(driver, conflict).contains("Kiểm tra báo cáo")
        assert now_of(driver, conflict).contains("Đang thực hiện 60%")
        blocked = await driver.text(FP_VI, f"{row.code} vướng: chưa có kinh phí")
        assert blocked.contains("Kiểm tra báo cáo") and blocked.contains("chưa có kinh phí")
        if lettered is not None:
            base = lettered.code[:-1]
            several = [r for r in owed if r.code.startswith(base)]
            doubt = await driver.text(FP_VI, f"{base} đang làm 40%")
            if len({r.code for r in several}) > 1:
                assert doubt.contains("Báo cáo này về nhiệm vụ nào?")
                assert all(f"i{r.item_id}" in " ".join(doubt.button_datas()) for r in several)
        # A forged choice outside the offered items changes nothing.
        draft_button = next(d for d in (await driver.text(FP_VI, "da xong")).button_datas()
                            if ":pick_item:" in d)
        forged = draft_button.rsplit(":", 1)[0] + ":i999999"
        assert "đã thay đổi" in await driver.press(FP_VI, stub.last_message(FP_VI), forged,  # type: ignore[arg-type]
                                                   forged=True)
    assert latest_reports(plan_engine, owed) == {}
    assert admin_alerts(stub) == []


async def test_a_typed_report_step_costs_two_thread_hops(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine, communes: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Who is asking (handlers.identity), then the step: nothing else leaves the event loop."""
    import asyncio

    hops: list[str] = []
    real = asyncio.to_thread

    async def counted(fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(fn, "__qualname__", repr(fn)))
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counted)
    owed = communes["owed"][FP_VI]
    row = next(r for r in owed if [o.code for o in owed].count(r.code) == 1)
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver):
        steps = [(f"{row.code} đang làm", "Đã thực hiện được bao nhiêu"), ("60", "ghi chú"),
                 ("Đã họp 2 lần", "Gửi minh chứng"), ("Số 7/BC-UBND ngày 20/12/2026", "7/BC-UBND")]
        for text, expected in steps:
            hops.clear()
            answer = await driver.text(FP_VI, text)
            assert answer.contains(expected), (text, answer.text)
            assert len(hops) == 2, (text, hops)


async def test_a_reply_to_a_one_item_reminder_needs_no_code(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine, communes: dict[str, Any]) -> None:
    owed: list[ItemRow] = communes["owed"][FP_EN]
    row = owed[-1]
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver) as app:
        queue_reminder(plan_engine, FP_EN, [row])
        await dispatch_due(app.bot, plan_engine, rules(quiet_start="00:00", quiet_end="00:00"),
                           default_language="vi")
        reminder = stub.last_message(FP_EN)
        assert reminder is not None and reminder.button_datas() == [f"rp:{row.item_id}"]
        assert reminder.contains("1 item to report")  # the member's language, English
        await driver.do(stub.send_text(FP_EN, "completed, see report No. 45/BC-UBND dated 20/12/2026",
                                       reply_to=reminder))
        review = stub.last_message(FP_EN)
        assert review is not None and review.contains("Check your report") and review.contains(row.code)
        assert review.contains("45/BC-UBND") and not review.contains("45/BC-UBNDdated")
        await driver.press(FP_EN, review, data_with(review, "d:", ":review:ok"))
    report = latest_reports(plan_engine, [row])[row.item_id]
    assert (report.state, report.document_number, report.document_date) == ("done", "45/BC-UBND", DOC_DAY)

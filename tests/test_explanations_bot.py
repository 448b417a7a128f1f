"""Explanation requests end to end (issue 13, item 4), through the real bot and the Bot API
stand-in: a coordinator presses ❗ on an overdue item in the /status drill-down and types a
question; the agency's focal points and leader get the request (ledger rows, each in their
language); a focal point answers with text and a document; the requester gets the answer with
the document; the drill-down, /history and the export show it. Refusals: a focal point cannot
ask, another agency's focal point cannot answer; bad input changes nothing, /cancel drops the
draft. Unanswered, a request is reminded the working day before its due day and escalated to
the requester once late (Vietnamese), and a closed one plans nothing more."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import openpyxl
import pytest
import time_machine
from sqlalchemy import Engine, update
from sqlmodel import col, select

from bot.settings import Settings
from models.db import session_scope
from models.tables import Delivery, ExplanationDraft, ExplanationRequest, Item
from scheduler.dispatch import dispatch_due
from scheduler.jobs import refresh_schedule
from tests.bot_harness import bot_settings, stub  # noqa: F401
from tests.leaders_driver import Driver, data_with, driven
from tests.leaders_world import COORD_EN, COORD_VI, FP_EN, FP_VI, LEADER_VI, OTHER_FP, World, build
from tests.reminder_helpers import TZ, local, rules
from tests.stub_botapi import StubBotApi, UploadedFile

pytestmark = pytest.mark.e2e
ALWAYS = {"quiet_start": "00:00", "quiet_end": "00:00"}
QUESTION = "Vì sao chậm <quý 4>?"
ANSWER = "Chờ kinh phí & hướng dẫn"


@pytest.fixture
def world(plan_engine: Engine, bot_settings: Settings) -> World:  # noqa: F811
    today = datetime.now(bot_settings.tz).date()
    found = build(plan_engine, today)
    with session_scope(plan_engine) as s:  # the Q4 item of Hạ Long is ten days late
        s.execute(update(Item).where(col(Item.id) == found.item).values(due_on=today - timedelta(days=10)))
    return found


def keys(engine: Engine, prefix: str) -> set[int]:
    with session_scope(engine) as s:
        return {d.chat_id for d in s.exec(select(Delivery)) if d.key.startswith(prefix)}


async def test_request_answer_shown(stub: StubBotApi, bot_settings: Settings,  # noqa: F811
                                    plan_engine: Engine, world: World) -> None:
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver) as app:
        summary = await driver.text(COORD_EN, "/status 2026-Q4")
        await driver.press(COORD_EN, summary, f"st:og:2026-Q4:{world.ha_long}:0", forged=True)
        page = driver.message(COORD_EN, summary.message_id)
        ask = data_with(page, "ex:a:", str(world.item))
        assert "❗ Ask to explain 1.1" in page.button_texts()

        # A focal point has no ❗ and cannot forge one.
        assert await driver.press(FP_VI, summary, ask, forged=True) == "Không được phép."

        await driver.press(COORD_EN, page, ask)
        form = stub.last_message(COORD_EN)
        assert form is not None and form.contains("Request an explanation") and form.contains("1.1")
        form = await driver.text(COORD_EN, QUESTION)
        assert form.contains(f"Question: {QUESTION}")
        await driver.press(COORD_EN, form, data_with(form, "ex:s:"))
        sent = driver.message(COORD_EN, form.message_id)
        assert sent.contains("Request sent to UBND thành phố Hạ Long (3 people)")
        # Pressing ❗ again asks nothing more: the open request is shown.
        again = await driver.press(COORD_EN, page, ask)
        assert "was already asked" in again
        with session_scope(plan_engine) as s:
            (request,) = s.exec(select(ExplanationRequest)).all()
        assert (request.state, request.question) == ("open", QUESTION)

        # The agency's focal points and leader get it through the ledger, in their language.
        stats = await dispatch_due(app.bot, plan_engine, rules(**ALWAYS), default_language="vi")
        assert keys(plan_engine, f"explain:{request.id}:") == {FP_VI, FP_EN, LEADER_VI} and stats.sent == 3
        english = stub.last_message(FP_EN)
        assert english is not None and english.contains("Request for an explanation")
        assert english.contains("Hoa (SNV) asks UBND thành phố Hạ Long") and english.contains(QUESTION)
        notice = stub.last_message(FP_VI)
        assert notice is not None and notice.contains("Yêu cầu giải trình") and notice.contains(QUESTION)
        assert stub.sent_messages(OTHER_FP) == []

        # Another agency's focal point cannot answer it.
        reply = data_with(notice, "ex:r:")
        assert await driver.press(OTHER_FP, notice, reply, forged=True) == "Không được phép."

        # The focal point answers: text, then a document.
        await driver.press(FP_VI, notice, reply)
        answer = await driver.text(FP_VI, ANSWER)
        assert answer.contains(ANSWER)
        await driver.do(stub.send_document(FP_VI, "giai-trinh.pdf", b"%PDF-1.4", "application/pdf"))
        answer = stub.last_message(FP_VI)
        assert answer is not None and answer.contains("giai-trinh.pdf")
        await driver.press(FP_VI, answer, data_with(answer, "ex:d:"))
        assert driver.message(FP_VI, answer.message_id).contains("Hoa (SNV)")

        # The requester gets the answer with the document.
        await dispatch_due(app.bot, plan_engine, rules(**ALWAYS), default_language="vi")
        told = stub.last_message(COORD_EN)
        assert told is not None and told.document is not None
        assert told.contains("UBND thành phố Hạ Long answered your request to explain 1.1")
        assert told.contains(ANSWER)

        # Shown: the drill-down ...
        await driver.press(COORD_EN, summary, f"st:og:2026-Q4:{world.ha_long}:0", forged=True)
        page = driver.message(COORD_EN, summary.message_id)
        assert page.contains(f"answered: {ANSWER}") and page.contains("giai-trinh.pdf")
        # ... the item's history ...
        await driver.press(COORD_EN, page, f"hi:{world.item}:0", forged=True)
        history = stub.last_message(COORD_EN)
        assert history is not None and history.contains(f"Question: {QUESTION}")
        assert history.contains("Answered by Lan <Hạ Long>")
        assert history.contains(ANSWER) and history.contains("Document: giai-trinh.pdf")
        # ... and the export.
        await driver.text(COORD_EN, "/export 2026-Q4")
        call = await stub.await_call("sendDocument", timeout=60)
        upload: Any = call.params["document"]
        assert isinstance(upload, UploadedFile)
        sheet = openpyxl.load_workbook(io.BytesIO(upload.content))["Explanations"]
        header = [c.value for c in sheet[1]]
        rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(min_row=2)]
        (row,) = rows
        assert row["Task code"] == "1.1" and row["Agency"] == "UBND thành phố Hạ Long"
        assert row["Question"] == QUESTION and row["Answer"] == ANSWER and row["Document"] == "giai-trinh.pdf"


ASKED = local(2026, 12, 2, 10)  # a Wednesday: the answer is due Monday 7/12 (3 working days)
BEFORE = local(2026, 12, 4, 8, 30, 5)  # Friday, the working day before
LATE = local(2026, 12, 8, 8, 30, 5)  # Tuesday, one working day late
LATER = local(2026, 12, 10, 8, 30, 5)  # three working days late, answered meanwhile


async def step(at: datetime, settings: Settings, engine: Engine, driver: Driver) -> None:
    """Plan and send what is due at ``at``, with the bot's clock there."""
    with time_machine.travel(at, tick=True):
        async with driven(settings, engine, driver) as app:
            refresh_schedule(engine, rules(**ALWAYS), datetime.now(TZ), with_items=False)
            await dispatch_due(app.bot, engine, rules(**ALWAYS), default_language="vi")


async def test_an_unanswered_request_is_reminded_then_escalated_in_vietnamese(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine) -> None:  # noqa: F811
    world = build(plan_engine, ASKED.date())
    with session_scope(plan_engine) as s:
        s.execute(update(Item).where(col(Item.id) == world.item).values(due_on=date(2026, 11, 20)))
    driver = Driver(stub)
    with time_machine.travel(ASKED, tick=True):
        async with driven(bot_settings, plan_engine, driver) as app:
            summary = await driver.text(COORD_VI, "/status 2026-Q4")
            await driver.press(COORD_VI, summary, f"st:og:2026-Q4:{world.ha_long}:0", forged=True)
            page = driver.message(COORD_VI, summary.message_id)
            assert "❗ Yêu cầu giải trình 1.1" in page.button_texts()
            await driver.press(COORD_VI, page, data_with(page, "ex:a:"))
            form = stub.last_message(COORD_VI)
            assert form is not None and form.contains("Cũng có thể gửi mà không kèm nội dung")
            await driver.press(COORD_VI, form, data_with(form, "ex:s:"))  # no question
            sent = driver.message(COORD_VI, form.message_id)
            assert sent.contains("Đã gửi yêu cầu tới UBND thành phố Hạ Long (3 người)")
            assert sent.contains("Hạn trả lời: 7/12/26")
            await dispatch_due(app.bot, plan_engine, rules(**ALWAYS), default_language="vi")
            # The drill-down says it was asked and is not answered yet; no second ❗.
            await driver.press(COORD_VI, summary, f"st:og:2026-Q4:{world.ha_long}:0", forged=True)
            page = driver.message(COORD_VI, summary.message_id)
            assert page.contains("❗ Đã yêu cầu giải trình 2/12/26 — chưa trả lời (hạn 7/12/26)")
            assert not [d for d in page.button_datas() if d.startswith("ex:a:")]
    asked = len(stub.sent_messages(FP_VI))

    await step(BEFORE, bot_settings, plan_engine, driver)
    reminder = stub.last_message(FP_VI)
    assert len(stub.sent_messages(FP_VI)) == asked + 1 and reminder is not None
    assert reminder.contains("Nhắc việc: giải trình về 1.1 theo yêu cầu của Chị Mai có hạn 7/12/26")
    assert data_with(reminder, "ex:r:")
    assert len(stub.sent_messages(COORD_VI)) == 2  # /status and the form: the requester is not told yet

    await step(LATE, bot_settings, plan_engine, driver)
    late = stub.last_message(FP_EN)
    assert late is not None and late.contains("Explanation overdue") and late.contains("was due 12/7/26")
    escalated = stub.last_message(COORD_VI)
    assert escalated is not None
    assert escalated.contains("UBND thành phố Hạ Long chưa trả lời yêu cầu giải trình về 1.1")

    # Answered: the reminders still planned are dropped, the requester told.
    with session_scope(plan_engine) as s:
        (request,) = s.exec(select(ExplanationRequest)).all()
    with time_machine.travel(LATE, tick=True):
        async with driven(bot_settings, plan_engine, driver):
            await driver.press(LEADER_VI, late, f"ex:r:{request.id}", forged=True)
            form = await driver.text(LEADER_VI, "Đã bố trí kinh phí, hoàn thành trong tháng 12")
            await driver.press(LEADER_VI, form, data_with(form, "ex:d:"))
    seen = {chat: len(stub.sent_messages(chat)) for chat in (FP_VI, FP_EN, LEADER_VI)}
    await step(LATER, bot_settings, plan_engine, driver)
    assert {chat: len(stub.sent_messages(chat)) for chat in (FP_VI, FP_EN, LEADER_VI)} == seen
    answered = stub.last_message(COORD_VI)
    assert answered is not None and answered.contains("đã trả lời yêu cầu giải trình về 1.1 (Anh Tuấn)")
    with session_scope(plan_engine) as s:
        later = [d for d in s.exec(select(Delivery)) if d.key.startswith(f"exr:{request.id}:")
                 and d.slot_at >= LATER.astimezone(UTC) - timedelta(minutes=5)]
    assert later == []  # nothing planned for a closed request


async def test_bad_input_changes_nothing_and_cancel_drops_the_draft(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine, world: World) -> None:  # noqa: F811
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver):
        summary = await driver.text(COORD_EN, "/status 2026-Q4")
        await driver.press(COORD_EN, summary, f"ex:a:{world.item}", forged=True)
        form = await driver.text(COORD_EN, "x" * 1001)
        assert form.contains("That is too long: at most 1000 characters.")
        form = await driver.text(COORD_EN, "/cancel")
        assert form.contains("Cancelled. Nothing was sent.")
        with session_scope(plan_engine) as s:
            assert s.exec(select(ExplanationRequest)).all() == []
            assert s.exec(select(ExplanationDraft)).all() == []
        # Asked after all; the focal point answers with a photo whose caption is the text, then
        # thinks better of it: /cancel leaves the request open and unanswered.
        await driver.press(COORD_EN, summary, f"ex:a:{world.item}", forged=True)
        form = stub.last_message(COORD_EN)
        assert form is not None
        await driver.press(COORD_EN, form, data_with(form, "ex:s:"))
        with session_scope(plan_engine) as s:
            (request,) = s.exec(select(ExplanationRequest)).all()
        await driver.press(FP_EN, summary, f"ex:r:{request.id}", forged=True)
        await driver.do(stub.send_photo(FP_EN, b"\xff\xd8jpeg", caption="See the photo"))
        answer = stub.last_message(FP_EN)
        assert answer is not None and answer.contains("Your answer: See the photo")
        assert answer.contains("Document: photo.jpg") and data_with(answer, "ex:d:")
        done = await driver.text(FP_EN, "/cancel")
        assert done.contains("Cancelled. Nothing was sent.")
        with session_scope(plan_engine) as s:
            still = s.get(ExplanationRequest, request.id)
            assert still is not None and (still.state, still.answer_text) == ("open", "")
        # Text now is no longer an answer: it goes to the report flow.
        after = await driver.text(FP_EN, "hello")
        assert not after.contains("Your answer")

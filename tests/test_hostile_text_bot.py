"""Text in, through the real bot on both backends: a NUL character typed into any step changes
nothing and is answered clearly (not with "something went wrong"); control characters in what
is stored are removed; names, titles and file names that Telegram supplies are cleaned, never
refused."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlmodel import SQLModel, col

import models.all_tables  # noqa: F401
from bot.settings import Settings
from models import invitations
from models.db import session_scope
from models.tables import Broadcast, Chat, Evidence, Member, Report
from tests.bot_harness import bot_settings_fixture, stub_fixture  # noqa: F401
from tests.stub_botapi import StubBotApi
from tests.test_reporting_bot import COORD, FP1, HA_LONG, Driver, bot, cast, data_with  # noqa: F401

pytestmark = pytest.mark.e2e
NUL_ANSWER = "ký tự NUL"  # in "Tin nhắn của bạn có ký tự NUL (U+0000)..."
APOLOGY = "Xin lỗi"


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: "changes nothing" is this, before and after."""
    with session_scope(engine) as s:
        return {table.name: sorted((tuple(row) for row in s.execute(select(table))), key=repr)
                for table in SQLModel.metadata.sorted_tables}


async def refused(driver: Driver, engine: Engine, user: int, text: str) -> None:
    """The NUL answer, and only it (the refusal stops later handlers, so the driver's marker
    in the last group never runs: wait for the answer instead)."""
    stub = driver.stub
    before, sent = snapshot(engine), len(stub.sent_messages(user))
    answers = len([m for m in stub.sent_messages(user) if m.contains(NUL_ANSWER)])
    stub.send_text(user, text)
    await stub.await_message(user, contains=NUL_ANSWER, count=answers + 1, timeout=20)
    await asyncio.sleep(0.3)  # anything else it would have said comes now
    assert len(stub.sent_messages(user)) == sent + 1, [m.text for m in stub.sent_messages(user)[sent:]]
    assert snapshot(engine) == before, text


async def test_nul_at_every_typed_step_changes_nothing(stub: StubBotApi, bot_settings: Settings,
                                                      plan_engine: Engine, cast: dict[str, Any],  # noqa: F811
                                                      caplog: pytest.LogCaptureFixture) -> None:
    driver, item = Driver(stub), cast["item"]
    caplog.set_level(logging.ERROR)
    async with bot(bot_settings, plan_engine, driver):
        listing = await driver.text(FP1, "/report")
        await driver.press(FP1, listing, f"rp:{item}")
        prompt = stub.last_message(FP1)
        assert prompt is not None and prompt.message_id != listing.message_id
        await driver.press(FP1, prompt, data_with(prompt, "d:", ":state:done"))
        await refused(driver, plan_engine, FP1, "Đã họp\x00 xong")  # the note
        evidence = await driver.text(FP1, "Đã họp\x1b[31m\x0bxong\u2028rồi")  # controls: stored cleaned
        assert evidence.contains("Gửi minh chứng")
        await refused(driver, plan_engine, FP1, "123/BC\x00-UBND")  # the document number
        await driver.do(stub.send_document(FP1, "bao\x00cao\x07.pdf", b"%PDF-1.4", "application/pdf"))
        numbered = await driver.text(FP1, "Số 45/2026/QĐ-UBND\x7f")
        assert numbered.contains("45/2026/QĐ-UBND")
        await driver.press(FP1, numbered, data_with(numbered, "d:", ":evidence:next"))
        review = driver.message(FP1, numbered.message_id)
        await driver.press(FP1, review, data_with(review, "d:", ":review:ok"))

        # The coordinator's reason for sending it back.
        card = await driver.text(COORD, "/review")
        with session_scope(plan_engine) as s:
            report = s.exec(select(Report)).scalars().one()
        await driver.press(COORD, card, f"rv:{report.id}:1:r")
        await refused(driver, plan_engine, COORD, "Thiếu\x00 biên bản")
        returned = await driver.text(COORD, "Thiếu\x9b biên bản")
        assert returned.contains("Đã trả lại")

        # An announcement's text.
        started = await driver.text(COORD, "/broadcast")
        assert started.contains("Thông báo mới"), started.text
        await refused(driver, plan_engine, COORD, "Họp giao ban\x00 thứ Hai")
        stub.send_text(COORD, "Họp giao ban\x0b thứ Hai")  # (the draft's handler stops the others)
        choose = await stub.await_message(COORD, contains="Ai sẽ nhận")
        assert any(d.startswith("bc:a:") for d in choose.button_datas())

        # A start token with NUL finds no invitation (and says so).
        with session_scope(plan_engine) as s:
            token = invitations.create_invitation(s, agency_id=HA_LONG, role="focal_point",
                                                  created_by="cli").token
        before = snapshot(plan_engine)
        stranger = stub.user(5555, "Người\x00 lạ\x1b", language_code="vi")
        answer = await driver.text(stranger["id"], f"/start {token}\x00")
        assert not answer.contains(APOLOGY) and snapshot(plan_engine) == before
        # The real token registers them, their Telegram name cleaned rather than refused.
        joined = await driver.text(stranger["id"], f"/start {token}")
        assert not joined.contains(APOLOGY)

    with session_scope(plan_engine) as s:
        report = s.exec(select(Report)).scalars().one()
        assert report.note == "Đã họp[31m\nxong\nrồi"
        assert report.document_number == "45/2026/QĐ-UBND"
        assert report.review_reason == "Thiếu biên bản"
        names = [e.file_name for e in s.exec(select(Evidence)).scalars()]
        assert names == ["baocao.pdf"]
        draft = s.exec(select(Broadcast)).scalars().one()
        assert draft.text == "Họp giao ban\n thứ Hai" and draft.step == "audience"
        newcomer = s.exec(select(Member).where(col(Member.telegram_user_id) == 5555)).scalars().one()
        assert newcomer.full_name == "Người lạ"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.records
    assert not [m for m in stub.sent_messages() if m.contains(APOLOGY)]


async def test_group_title_with_controls_is_stored_clean(stub: StubBotApi, bot_settings: Settings,
                                                        plan_engine: Engine, cast: dict[str, Any]) -> None:  # noqa: F811
    driver = Driver(stub)
    group = stub.group(-4242, "Nhóm\x00 đầu\x1b mối\nHạ Long")
    async with bot(bot_settings, plan_engine, driver):
        for update in stub.add_bot_to_group(FP1, group):
            await driver.do(update)
    with session_scope(plan_engine) as s:
        chat = s.exec(select(Chat).where(col(Chat.telegram_chat_id) == -4242)).scalars().one()
        assert chat.title == "Nhóm đầu mối Hạ Long"


@pytest.fixture
def bot_at_note_step(stub: StubBotApi, bot_settings: Settings, plan_engine: Engine,
                     cast: dict[str, Any]) -> Iterator[None]:  # noqa: F811
    """The bot running in a thread of its own (so that a synchronous hypothesis test can talk to
    it through the stand-in), with FP1's report draft waiting for its note."""
    ready, stop, failed = threading.Event(), threading.Event(), []

    async def serve() -> None:
        driver = Driver(stub)
        async with bot(bot_settings, plan_engine, driver):
            listing = await driver.text(FP1, "/report")
            await driver.press(FP1, listing, f"rp:{cast['item']}")
            prompt = stub.last_message(FP1)
            assert prompt is not None and prompt.message_id != listing.message_id
            await driver.press(FP1, prompt, data_with(prompt, "d:", ":state:done"))
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)

    def run() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # reported by the test, not lost in the thread
            failed.append(exc)
            ready.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(60) and not failed, failed
    yield
    stop.set()
    thread.join(30)
    assert not failed, failed


ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=200)


@settings(max_examples=int(os.environ.get("DONDOC_HOSTILE_EXAMPLES", "25")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=ANY_TEXT, after=ANY_TEXT)
def test_any_text_with_a_nul_changes_nothing(stub: StubBotApi, plan_engine: Engine,
                                             bot_at_note_step: None, before: str, after: str) -> None:
    """Arbitrary Unicode (every control character possible) around a NUL, as a report's note."""
    state = snapshot(plan_engine)
    answers = len([m for m in stub.sent_messages(FP1) if m.contains(NUL_ANSWER)])
    stub.send_text(FP1, f"{before}\x00{after}")
    stub.wait_for_message(FP1, contains=NUL_ANSWER, count=answers + 1, timeout=20)
    assert snapshot(plan_engine) == state
    assert not [m for m in stub.sent_messages(FP1) if m.contains(APOLOGY)]

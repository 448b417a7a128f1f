"""The reporting flow through the real Application, polling the Bot API stand-in over HTTP:
/tasks and its pages, a report with a document, the coordinator's review (return, resubmit,
approve), a restart in the middle of a report, forged and stale buttons, group chats."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.settings import Settings
from domain.periods import DueRules
from models.db import session_scope
from models.items import reportable_items
from models.tables import Evidence, Item, Member, MemberRole, Plan, Report, ReportDraft
from scheduler.deadlines import sync_items
from scheduler.dispatch import dispatch_due
from tests.bot_harness import Driver, bot_settings_fixture, data_with, driven, stub_fixture  # noqa: F401
from tests.reminder_helpers import rules
from tests.stub_botapi import SentMessage, StubBotApi

HA_LONG, MONG_CAI, SO_NOI_VU = 21, 22, 2
FP1, FP2, OTHER, COORD, LEADER, STRANGER = 1001, 1002, 2001, 3001, 4001, 9001


bot = driven


@pytest.fixture
def cast(plan_engine: Engine, bot_settings: Settings) -> dict[str, int]:
    """Plan 916's items as of today (the bot's today) and the people of these tests."""
    today = datetime.now(bot_settings.tz).date()
    with session_scope(plan_engine) as s:
        sync_items(s, s.exec(select(Plan)).one(), today, DueRules())
        for tg, agency, role, name in [
            (FP1, HA_LONG, MemberRole.FOCAL_POINT, "Lan <Hạ Long> & 🌊"),
            (FP2, HA_LONG, MemberRole.FOCAL_POINT, "Minh"),
            (OTHER, MONG_CAI, MemberRole.FOCAL_POINT, "Hùng"),
            (COORD, SO_NOI_VU, MemberRole.COORDINATOR, "Chị Hoa (Sở Nội vụ)"),
            (LEADER, HA_LONG, MemberRole.LEADER, "Anh Tuấn"),
        ]:
            s.add(Member(telegram_user_id=tg, agency_id=agency, role=role.value, full_name=name))
        s.flush()
        rows = reportable_items(s, HA_LONG, today)
        return {"item": rows[0].item_id, "code": rows[0].code, "count": len(rows)}  # type: ignore[dict-item]


def opened(stub_api: StubBotApi, user: int, origin: SentMessage) -> SentMessage:
    """The report form a button opened: a new message; the list or reminder stays as it was."""
    form = stub_api.last_message(user)
    assert form is not None and form.message_id != origin.message_id
    now = [m for m in stub_api.sent_messages(user) if m.message_id == origin.message_id][-1]
    assert (now.text, now.edit_count) == (origin.text, origin.edit_count)
    return form


def reports_of(engine: Engine, item_id: int) -> list[Report]:
    with session_scope(engine) as s:
        return list(s.exec(select(Report).where(Report.item_id == item_id).order_by(col(Report.version))))


def item_state(engine: Engine, item_id: int) -> str:
    with session_scope(engine) as s:
        item = s.get(Item, item_id)
        assert item is not None
        return item.state


async def test_tasks_list_pages_in_place(stub: StubBotApi, bot_settings: Settings,
                                         plan_engine: Engine, cast: dict[str, Any]) -> None:
    driver = Driver(stub)
    async with bot(bot_settings, plan_engine, driver):
        first = await driver.text(FP1, "/tasks")
        assert first.contains("Nhiệm vụ của UBND thành phố Hạ Long")
        assert first.contains(f"({cast['count']}), trang 1/")
        assert first.contains("Chưa thực hiện") and first.contains("hạn ")
        await driver.press(FP1, first, "tk:1")
        second = driver.message(FP1, first.message_id)
        assert second.edit_count == 1 and second.contains("trang 2/")
        assert "tk:0" in second.button_datas()
        await driver.press(FP1, second, "tk:0")
        back = driver.message(FP1, first.message_id)
        assert back.contains("trang 1/")
        await driver.press(FP1, back, data_with(back, "ti:", f":{cast['item']}:"))
        detail = driver.message(FP1, first.message_id)
        assert detail.contains("Chưa có báo cáo.") and f"rp:{cast['item']}" in detail.button_datas()
        assert len(stub.sent_messages(FP1)) == 1  # all of it in one message


async def test_report_return_resubmit_approve(stub: StubBotApi, bot_settings: Settings,
                                              plan_engine: Engine, cast: dict[str, Any]) -> None:
    driver, item = Driver(stub), cast["item"]
    async with bot(bot_settings, plan_engine, driver) as app:
        listing = await driver.text(FP1, "/report")
        assert listing.contains("Bạn báo cáo mục nào?")
        await driver.press(FP1, listing, f"rp:{item}")
        form = opened(stub, FP1, listing)
        prompt = driver.message(FP1, form.message_id)
        assert prompt.contains("Tình trạng thực hiện nhiệm vụ này thế nào?")
        await driver.press(FP1, prompt, data_with(prompt, "d:", ":state:done"))
        prompt = driver.message(FP1, form.message_id)
        assert prompt.contains("Nhập ghi chú ngắn")

        too_long = await driver.text(FP1, "x" * 1200)
        assert too_long.contains("Nội dung có 1.200 ký tự; giới hạn là 1.000")
        evidence = await driver.text(FP1, "Đã tổ chức 3 hội nghị <tuyên truyền> & 🎉")
        assert evidence.contains("Gửi minh chứng")
        sticker = await driver.do(stub.send_sticker(FP1))
        assert sticker and stub.last_message(FP1).contains("không dùng được loại tin nhắn")  # type: ignore[union-attr]
        await driver.do(stub.send_document(FP1, "virus.exe", b"MZ", "application/x-msdownload"))
        assert stub.last_message(FP1).contains("Loại tệp này không được chấp nhận")  # type: ignore[union-attr]
        await driver.do(stub.send_document(FP1, "bao-cao <quý>.pdf", b"%PDF-1.4", "application/pdf"))
        assert stub.last_message(FP1).contains("1 tệp: bao-cao <quý>.pdf")  # type: ignore[union-attr]
        numbered = await driver.text(FP1, "123/BC-UBND")
        assert numbered.contains("Số văn bản: 123/BC-UBND")
        # A command in the middle keeps the draft; the next button still works.
        await driver.text(FP1, "/tasks")
        await driver.press(FP1, numbered, data_with(numbered, "d:", ":evidence:next"))
        review = driver.message(FP1, numbered.message_id)
        assert review.contains("Kiểm tra báo cáo") and review.contains("<tuyên truyền> & 🎉")
        send = data_with(review, "d:", ":review:ok")
        await driver.press(FP1, review, send)
        assert driver.message(FP1, numbered.message_id).contains("Đã gửi: phiên bản 1")
        assert "đã được gửi trước đó" in await driver.press(FP1, review, send, forged=True)
        versions = reports_of(plan_engine, item)
        assert [(r.version, r.state, r.review_state) for r in versions] == [(1, "done", "pending")]
        assert item_state(plan_engine, item) == "reported"

        # The coordinator sees it, with the document sent again by its file id.
        card = await driver.text(COORD, "/review")
        assert card.contains("Cần xác nhận") and card.contains("<tuyên truyền> & 🎉")
        assert card.contains("123/BC-UBND") and card.contains("Lan <Hạ Long> & 🌊")
        sent_docs = [c for c in stub.calls("sendDocument") if c.params.get("chat_id") == COORD]
        assert len(sent_docs) == 1
        leader_view = await driver.text(LEADER, "/review")
        assert leader_view.contains("đang chờ xác nhận") and not leader_view.button_datas()
        version1 = versions[0]
        assert "Không được phép" in await driver.press(FP1, card, f"rv:{version1.id}:1:a", forged=True)
        assert "Không được phép" in await driver.press(LEADER, card, f"rv:{version1.id}:1:a", forged=True)
        await driver.press(COORD, card, f"rv:{version1.id}:1:r")
        assert driver.message(COORD, card.message_id).contains("Vì sao trả lại?")
        done = await driver.text(COORD, "Thiếu biên bản <ký> & dấu")
        assert done.contains("Đã trả lại")
        assert done.contains("Thông báo đang được gửi tới 2 cán bộ đầu mối của cơ quan.")
        assert item_state(plan_engine, item) == "returned"
        # The focal points' notices are ledger rows: queued with the return, sent by the dispatcher
        # (the harness runs no clock: it is run here), the stale "to verify" notice dropped.
        assert stub.sent_messages(FP2) == []
        stats = await dispatch_due(app.bot, plan_engine, rules(quiet_start="00:00", quiet_end="00:00"),
                                   default_language="vi")
        assert (stats.sent, stats.dropped) == (2, 1)
        notice = stub.last_message(FP2)
        assert notice is not None and notice.contains("bị Sở Nội vụ trả lại")
        assert notice.contains("Thiếu biên bản <ký> & dấu")

        # The other focal point resubmits from the notice; the draft starts from version 1.
        await driver.press(FP2, notice, f"rp:{item}")
        form = opened(stub, FP2, notice)
        prompt = driver.message(FP2, form.message_id)
        assert prompt.contains("Bắt đầu từ phiên bản 1")
        await driver.press(FP2, prompt, data_with(prompt, "d:", ":state:done"))
        prompt = driver.message(FP2, form.message_id)
        assert prompt.contains("Nội dung hiện tại")
        await driver.press(FP2, prompt, data_with(prompt, "d:", ":note:keep"))
        await driver.do(stub.send_photo(FP2, b"\xff\xd8\xff-jpeg"))
        evidence = stub.last_message(FP2)
        assert evidence is not None and evidence.contains("2 tệp")
        await driver.press(FP2, evidence, data_with(evidence, "d:", ":evidence:next"))
        review = driver.message(FP2, evidence.message_id)
        await driver.press(FP2, review, data_with(review, "d:", ":review:ok"))
        assert driver.message(FP2, evidence.message_id).contains("Đã gửi: phiên bản 2")

        # A stale Approve of version 1 changes nothing; version 2 gets approved.
        assert "đã thay đổi" in await driver.press(COORD, card, f"rv:{version1.id}:1:a", forged=True)
        card2 = await driver.text(COORD, "/review")
        assert card2.contains("Phiên bản 2")
        version2 = reports_of(plan_engine, item)[1]
        await driver.press(COORD, card2, f"rv:{version2.id}:2:a")
        assert driver.message(COORD, card2.message_id).contains("Đã xác nhận")
        listing = await driver.text(FP1, "/tasks")
        await driver.press(FP1, listing, "tk:99", forged=True)  # clamped to the last page
        assert driver.message(FP1, listing.message_id).contains("🟢")
        assert driver.message(FP1, listing.message_id).contains("Đã xác nhận")

    versions = reports_of(plan_engine, item)
    assert [(r.version, r.review_state) for r in versions] == [(1, "returned"), (2, "approved")]
    assert versions[0].review_reason == "Thiếu biên bản <ký> & dấu"
    assert item_state(plan_engine, item) == "verified"
    with session_scope(plan_engine) as s:
        kinds = [(e.report_id, e.kind) for e in s.exec(select(Evidence).order_by(col(Evidence.id)))]
    assert kinds == [(versions[0].id, "document"), (versions[1].id, "document"), (versions[1].id, "photo")]
    assert not [c for c in stub.calls() if not c.ok and c.method != "getUpdates"], \
        [(c.method, c.description) for c in stub.calls() if not c.ok]


async def test_a_restart_in_the_middle_continues(stub: StubBotApi, bot_settings: Settings,
                                                 plan_engine: Engine, cast: dict[str, Any]) -> None:
    driver, item = Driver(stub), cast["item"]
    async with bot(bot_settings, plan_engine, driver):
        listing = await driver.text(FP1, "/report")
        await driver.press(FP1, listing, f"rp:{item}")
        prompt = opened(stub, FP1, listing)
        await driver.press(FP1, prompt, data_with(prompt, "d:", ":state:prog"))
    driver = Driver(stub)
    async with bot(bot_settings, plan_engine, driver):  # a new process on the same database
        note_prompt = await driver.text(FP1, "40")
        assert note_prompt.contains("Nhập ghi chú ngắn")
    driver = Driver(stub)
    async with bot(bot_settings, plan_engine, driver):
        evidence = await driver.text(FP1, "Đang lấy ý kiến")
        await driver.press(FP1, evidence, data_with(evidence, "d:", ":evidence:next"))
        review = driver.message(FP1, evidence.message_id)
        assert review.contains("Đang thực hiện 40%")
        await driver.press(FP1, review, data_with(review, "d:", ":review:ok"))
    assert [(r.state, r.percent) for r in reports_of(plan_engine, item)] == [("in_progress", 40)]
    assert item_state(plan_engine, item) == "in_progress"


async def test_forged_and_stale_buttons_change_nothing(stub: StubBotApi, bot_settings: Settings,
                                                      plan_engine: Engine, cast: dict[str, Any]) -> None:
    driver, item = Driver(stub), cast["item"]
    async with bot(bot_settings, plan_engine, driver):
        listing = await driver.text(FP1, "/report")
        await driver.press(FP1, listing, f"rp:{item}")
        prompt = opened(stub, FP1, listing)
        state_done = data_with(prompt, "d:", ":state:done")
        await driver.press(FP1, prompt, state_done)
        assert "đã thay đổi" in await driver.press(FP1, prompt, state_done, forged=True)
        assert "Không được phép" in await driver.press(FP2, prompt, state_done, forged=True)
        assert "Không được phép" in await driver.press(OTHER, prompt, f"rp:{item}", forged=True)
        assert "Không được phép" in await driver.press(STRANGER, prompt, "d:1:state:done", forged=True)
        for junk in ("rp:abc", "rp:", "d:1:2", "d:x:state:done", "tk:-1", "ti:1", "rv:1:1:z", "rv:a:b:c",
                     "zz", f"rp:{2**70}", "d:99999:review:ok"):
            answer = await driver.press(FP1, prompt, junk, forged=True)
            assert answer, junk
        with session_scope(plan_engine) as s:
            drafts = list(s.exec(select(ReportDraft)))
            assert [(d.step, d.state) for d in drafts] == [("note", "done")]
            assert s.exec(select(Report)).first() is None
        assert all(len(d.encode()) <= 64 for m in stub.sent_messages() for d in m.button_datas())
        cancelled = await driver.text(FP1, "/cancel")
        assert cancelled.contains("Đã hủy")
        assert "đã thay đổi" in await driver.press(FP1, prompt, state_done.replace(":state:", ":note:"),
                                                   forged=True)
        assert (await driver.text(FP1, "/cancel")).contains("Không có gì để hủy")


async def test_group_chats_get_a_link_and_no_one_s_work(stub: StubBotApi, bot_settings: Settings,
                                                        plan_engine: Engine, cast: dict[str, Any]) -> None:
    driver, group = Driver(stub), -500
    stub.group(group, "Đầu mối <Hạ Long>")
    async with bot(bot_settings, plan_engine, driver):
        for command in ("/tasks", "/report", "/review", "/cancel"):  # addressed to the bot
            answer = await driver.text(FP1, command + "@dondoc_test_bot", group)
            assert answer.contains("https://t.me/dondoc_test_bot"), command
            assert not answer.contains("Nhiệm vụ của") and not answer.button_datas()
        before = len(stub.sent_messages(group))
        await driver.do(stub.send_text(FP1, "Chào cả nhà <b>", group))
        assert len(stub.sent_messages(group)) == before
        # A reminder's button pressed in a group opens the report in the private chat.
        reminder = stub.last_message(group)
        assert reminder is not None
        answer = await driver.press(FP1, reminder, f"rp:{cast['item']}", forged=True)
        assert "riêng" in answer
        private = stub.last_message(FP1)
        assert private is not None and private.contains("Tình trạng thực hiện nhiệm vụ này thế nào?")
        assert "Không được phép" in await driver.press(OTHER, reminder, f"rp:{cast['item']}", forged=True)
        assert stub.last_message(OTHER) is None

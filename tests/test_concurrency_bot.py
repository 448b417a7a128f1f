"""Updates handled concurrently (bot/updates.py) through the real Application and the Bot API
stand-in: two focal points submitting at once keep both versions, Approve pressed 20 times by two
coordinators at once approves once, Send pressed 20 times queues one copy per recipient, and a
leader's slow /export does not hold anyone else's answer."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.settings import Settings
from domain.periods import DueRules
from models.db import session_scope
from models.items import reportable_items
from models.tables import Agency, Broadcast, Delivery, Member, MemberRole, Plan, Report
from scheduler.deadlines import sync_items
from tests.bot_harness import bot_settings, running_bot, stub  # noqa: F401
from tests.stub_botapi import SentMessage, StubBotApi

HA_LONG, SO_NOI_VU = 21, 2
FP1, FP2, COORD, COORD2, LEADER = 1001, 1002, 3001, 3002, 4001
OTHERS = (5001, 5002, 5003)
CHANGED = "Nội dung đã thay đổi kể từ khi nút được hiển thị. Không có thao tác nào được thực hiện."


@pytest.fixture
def item(plan_engine: Engine, bot_settings: Settings) -> int:  # noqa: F811
    """Plan 916's items as of the bot's today, two focal points of Hạ Long, two coordinators,
    a leader and three more focal points elsewhere; the first item Hạ Long owes."""
    today = datetime.now(bot_settings.tz).date()
    with session_scope(plan_engine) as s:
        sync_items(s, s.exec(select(Plan)).one(), today, DueRules())
        for tg, agency, role in [(FP1, HA_LONG, MemberRole.FOCAL_POINT),
                                 (FP2, HA_LONG, MemberRole.FOCAL_POINT),
                                 (COORD, SO_NOI_VU, MemberRole.COORDINATOR),
                                 (COORD2, SO_NOI_VU, MemberRole.COORDINATOR),
                                 (LEADER, HA_LONG, MemberRole.LEADER),
                                 *((uid, HA_LONG, MemberRole.FOCAL_POINT) for uid in OTHERS)]:
            s.add(Member(telegram_user_id=tg, agency_id=agency, role=role.value, full_name=f"Member {tg}"))
        s.flush()
        return reportable_items(s, HA_LONG, today)[0].item_id


def button(message: SentMessage, prefix: str, contains: str = "") -> str:
    found = [d for d in message.button_datas() if d.startswith(prefix) and contains in d]
    assert found, (prefix, message.button_datas(), message.text)
    return found[0]


def current(api: StubBotApi, chat: int, message_id: int) -> SentMessage:
    return next(m for m in api.sent_messages(chat) if m.message_id == message_id)


async def answers(api: StubBotApi, updates: list[dict[str, Any]]) -> list[str]:
    """The callback answers' texts of these presses, waiting for every one."""
    found = []
    for update in updates:
        qid = update["callback_query"]["id"]
        answer = await api.await_for(lambda qid=qid: api.callback_answer(qid), timeout=30)
        found.append(str(answer.get("text") or ""))
    return found


async def draft_to_review(api: StubBotApi, user: int, item: int, note: str) -> SentMessage:
    """/report, the item, done, a note, a document number: the draft's review screen."""
    person = api.user(user, f"Member {user}")
    api.send_text(person, "/report")
    listing = await api.await_message(user, contains="Bạn báo cáo mục nào?")
    api.press_button(person, listing, f"rp:{item}")
    form = await api.await_message(user, contains="Tình trạng")  # the form: a new message
    prompt = current(api, user, form.message_id)
    api.press_button(person, prompt, button(prompt, "d:", ":state:done"))
    await api.await_for(lambda: current(api, user, form.message_id).contains("Nhập ghi chú"), timeout=20)
    api.send_text(person, note)
    await api.await_message(user, contains="Gửi minh chứng")
    api.send_text(person, "12/BC-UBND")
    numbered = await api.await_message(user, contains="Số văn bản: 12/BC-UBND")
    api.press_button(person, numbered, button(numbered, "d:", ":evidence:next"))
    await api.await_for(lambda: current(api, user, numbered.message_id).contains("Kiểm tra báo cáo"),
                        timeout=20)
    return current(api, user, numbered.message_id)


def reports_of(engine: Engine, item: int) -> list[Report]:
    with session_scope(engine) as s:
        return list(s.exec(select(Report).where(Report.item_id == item).order_by(col(Report.version))))


async def test_two_submitters_at_once_and_approve_pressed_20_times(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine, item: int) -> None:  # noqa: F811
    async with running_bot(bot_settings, plan_engine):
        one = await draft_to_review(stub, FP1, item, "Ghi chú của Lan")
        two = await draft_to_review(stub, FP2, item, "Ghi chú của Minh")
        # Both Send buttons pressed in the same instant: two people, handled concurrently.
        stub.press_button(stub.user(FP1, "Lan"), one, button(one, "d:", ":review:ok"))
        stub.press_button(stub.user(FP2, "Minh"), two, button(two, "d:", ":review:ok"))
        await stub.await_for(lambda: current(stub, FP1, one.message_id).contains("Đã gửi: phiên bản")
                             and current(stub, FP2, two.message_id).contains("Đã gửi: phiên bản"), timeout=20)
        versions = reports_of(plan_engine, item)
        assert [r.version for r in versions] == [1, 2]
        members = {r.member_id for r in versions}
        assert len(members) == 2

        latest = versions[-1]
        cards = {}
        for coordinator in (COORD, COORD2):
            stub.send_text(stub.user(coordinator, "Coord"), "/review")
            cards[coordinator] = await stub.await_message(coordinator, contains="Cần xác nhận")
        approve = f"rv:{latest.id}:{latest.version}:a"
        presses = []
        for _ in range(10):  # two coordinators, ten presses each, all queued at once
            for coordinator in (COORD, COORD2):
                presses.append(stub.press_button(stub.user(coordinator, "Coord"), cards[coordinator],
                                                 approve, forged=True))
        said = await answers(stub, presses)
        shown = [current(stub, c, cards[c].message_id) for c in (COORD, COORD2)]
    assert [r.review_state for r in reports_of(plan_engine, item)] == ["pending", "approved"]
    # One press approved (its card now says so); the other 19 were told it had changed.
    assert sorted(said) == [""] + [CHANGED] * 19, Counter(said)
    assert sum(m.contains("Đã xác nhận: 1.1") for m in shown) == 1


async def test_send_pressed_20_times_queues_one_copy_each(
        stub: StubBotApi, bot_settings: Settings, engine: Engine) -> None:  # noqa: F811
    with session_scope(engine) as s:
        agency = Agency(name="Sở Nội vụ", code="SNV", level="department")
        s.add(agency)
        s.flush()
        s.add(Member(telegram_user_id=1, role="admin", full_name="Admin", language="en"))
        for uid in range(1000, 1010):
            s.add(Member(telegram_user_id=uid, role="focal_point", agency_id=agency.id, full_name=f"O {uid}"))
    admin = stub.user(1, "Admin", language_code="en")
    async with running_bot(bot_settings, engine):
        stub.send_text(admin, "/broadcast")
        await stub.await_message(1, contains="New announcement")
        stub.send_text(admin, "Họp giao ban")
        choose = await stub.await_message(1, contains="Who should receive it?")
        broadcast_id = int(button(choose, "bc:a:").split(":")[2])
        stub.press_button(admin, choose, f"bc:a:{broadcast_id}:e")
        control = await stub.await_message(1, contains="Announcement preview")
        presses = [stub.press_button(admin, control, f"bc:ok:{broadcast_id}", forged=True) for _ in range(20)]
        said = await answers(stub, presses)
    with session_scope(engine) as s:
        rows = s.exec(select(Delivery).where(Delivery.kind == "broadcast")).all()
        assert s.get(Broadcast, broadcast_id).status != "draft"  # type: ignore[union-attr]
    assert len(rows) == 11 and len({r.chat_id for r in rows}) == 11  # everyone once, the admin included
    assert len(said) == 20 and sum("Already sent" in text for text in said) >= 19, said


async def test_others_are_answered_while_an_export_is_written(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine, item: int,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A workbook that takes 3 s to write: the other people's /help answers come at once,
    before the workbook."""
    from views import export as export_views

    write = export_views.write_xlsx

    def slow_write(*args: Any, **kwargs: Any) -> bytes:
        time.sleep(3)
        return write(*args, **kwargs)

    monkeypatch.setattr(export_views, "write_xlsx", slow_write)
    async with running_bot(bot_settings, plan_engine):
        started = time.monotonic()
        stub.send_text(stub.user(LEADER, "Leader"), "/export")
        await asyncio.sleep(0.3)  # the export is being written
        for uid in OTHERS:
            stub.send_text(stub.user(uid, f"Member {uid}"), "/help")
        for uid in OTHERS:
            await stub.await_message(uid, timeout=20)
        answered = time.monotonic() - started
        await stub.await_for(lambda: [c for c in stub.calls("sendDocument") if c.chat_id == LEADER],
                             timeout=30)
        exported = time.monotonic() - started
    assert answered < 2.5, answered  # not behind the 3 s workbook
    assert exported >= 3
    assert all(stub.sent_messages(uid) for uid in OTHERS)

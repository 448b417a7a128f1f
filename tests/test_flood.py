"""Fairness under flood (handlers/flood.py): beyond N updates a minute a person is told once to
slow down, then ignored for the cooldown; others are answered meanwhile; admins are not limited."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine

from bot.settings import Settings
from handlers.flood import MAX_TRACKED, FloodGate
from models.db import session_scope
from models.tables import Agency, Member
from tests.bot_harness import make_settings, running_bot, stub  # noqa: F401
from tests.stub_botapi import StubBotApi

STRANGER, MEMBER, ADMIN = 9001, 1001, 1
SLOW_VI = "Bạn gửi quá nhiều tin nhắn cùng lúc. Vui lòng chờ 60 giây rồi thử lại."


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_gate_warns_once_then_ignores_until_the_cooldown_ends() -> None:
    clock = Clock()
    gate = FloodGate(clock)
    verdicts = [gate.check(7, 30, 60) for _ in range(35)]
    assert verdicts == ["ok"] * 30 + ["warn"] + ["ignore"] * 4
    assert gate.check(8, 30, 60) == "ok"  # someone else is not affected
    clock.now += 59
    assert gate.check(7, 30, 60) == "ignore"
    clock.now += 2
    assert gate.check(7, 30, 60) == "ok"  # the cooldown is over and the count starts afresh


def test_a_sliding_minute() -> None:
    clock = Clock()
    gate = FloodGate(clock)
    for _ in range(30):
        assert gate.check(7, 30, 60) == "ok"
        clock.now += 2.1  # 30 in 63 s: never 31 within one minute
    assert gate.check(7, 30, 60) == "ok"


def test_the_window_is_bounded() -> None:
    gate = FloodGate(Clock())
    for user in range(MAX_TRACKED + 50):
        gate.check(user, 30, 60)
    assert len(gate.people) == MAX_TRACKED
    assert 0 not in gate.people and MAX_TRACKED + 49 in gate.people


def settings_for(stub_api: StubBotApi, db_url: str) -> Settings:
    return make_settings(stub_api, db_url, flood_per_minute=5, flood_cooldown_seconds=60,
                         admin_ids=str(ADMIN))


async def test_a_stranger_flooding_is_told_once_and_others_are_answered(
        stub: StubBotApi, db_url: str, engine: Engine) -> None:  # noqa: F811
    with session_scope(engine) as s:
        agency = Agency(name="Sở Nội vụ", code="SNV", level="department")
        s.add(agency)
        s.flush()
        s.add(Member(telegram_user_id=MEMBER, role="focal_point", agency_id=agency.id, full_name="Lan"))
    stranger = stub.user(STRANGER, "Stranger")
    member = stub.user(MEMBER, "Lan")
    admin = stub.user(ADMIN, "Admin")
    async with running_bot(settings_for(stub, db_url), engine):
        for i in range(40):
            stub.send_text(stranger, f"spam {i}")
        stub.send_text(member, "/help")
        for _ in range(20):
            stub.send_text(admin, "/help")
        await stub.await_message(MEMBER, timeout=20)
        await stub.await_message(ADMIN, count=20, timeout=30)
        await stub.await_message(STRANGER, contains=SLOW_VI, timeout=20)
        await asyncio.sleep(1.0)  # the rest of the flood is ignored: nothing more comes
        to_stranger = [m.raw_text or "" for m in stub.sent_messages(STRANGER)]
    assert len(to_stranger) == 6, to_stranger  # five answers, then "slow down" once
    assert to_stranger[-1] == SLOW_VI and SLOW_VI not in to_stranger[:-1]
    assert len(stub.sent_messages(ADMIN)) == 20  # administrators are not limited
    assert not any(SLOW_VI in (m.raw_text or "") for m in stub.sent_messages(ADMIN))
    assert len(stub.sent_messages(MEMBER)) == 1


async def test_button_presses_count_and_are_answered_with_a_toast(
        stub: StubBotApi, db_url: str, engine: Engine) -> None:  # noqa: F811
    stranger = stub.user(STRANGER, "Stranger")
    async with running_bot(settings_for(stub, db_url), engine):
        stub.send_text(stranger, "/start")
        first = await stub.await_message(STRANGER, timeout=20)
        presses = [stub.press_button(stranger, first, "tk:0", forged=True) for _ in range(8)]
        sixth = presses[4]["callback_query"]["id"]
        answer = await stub.await_for(lambda: stub.callback_answer(sixth), timeout=20)
        await asyncio.sleep(0.5)
        late = [stub.callback_answer(p["callback_query"]["id"]) for p in presses[5:]]
    assert answer.get("text") == SLOW_VI  # /start and four presses, then the sixth update
    assert late == [None, None, None]  # ignored


def test_only_the_cooldown_is_quieted() -> None:
    clock = Clock()
    gate = FloodGate(clock)
    for _ in range(30):
        gate.check(7, 30, 60)
    assert not gate.quieted(7)  # at the limit, not beyond
    assert gate.check(7, 30, 60) == "warn"
    assert gate.quieted(7) and not gate.quieted(8)
    clock.now += 61
    assert not gate.quieted(7)

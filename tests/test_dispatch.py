"""The dispatcher against the Bot API stand-in, with a real ``telegram.Bot``: Telegram's faults
(429, 5xx, 403, 400) and two instances racing on PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta

import pytest
import telegram
import time_machine
from sqlalchemy import Engine
from sqlmodel import select
from telegram.constants import ParseMode
from telegram.ext import Defaults, ExtBot

from models import ledger
from models.db import make_engine, session_scope
from models.tables import Delivery, DeliveryState, Member
from scheduler.dispatch import DispatchStats, Sender, claim, dispatch_due
from scheduler.jobs import refresh_schedule
from tests.conftest import load_plan916
from tests.reminder_helpers import COORD, HALONG, SYT, TZ, add_member, local, populate_world, rules
from tests.reminder_helpers import ledger as ledger_rows
from tests.stub_botapi import StubBotApi

SEND_AT = local(2027, 3, 24, 8, 30, 5)  # 7 days before Q1 2027 ends: SYT and Hạ Long owe


@pytest.fixture
def stub() -> Iterator[StubBotApi]:
    with StubBotApi() as server:
        yield server


@pytest.fixture
async def bot(stub: StubBotApi) -> AsyncIterator[telegram.Bot]:
    """A bot like the application's: HTML by default (bot/app.py sets the same Defaults)."""
    async with ExtBot(stub.token, base_url=stub.url + "/bot",
                      defaults=Defaults(parse_mode=ParseMode.HTML)) as b:
        yield b


@pytest.fixture
def world(plan_engine: Engine) -> Engine:
    return populate_world(plan_engine)


def sent_ok(stub: StubBotApi) -> Counter[int]:
    return Counter(c.chat_id for c in stub.calls("sendMessage") if c.ok)


async def dispatch(engine: Engine, bot: telegram.Bot, at: datetime, *, tick: bool = False,
                   plan: bool = True) -> DispatchStats:
    r = rules()
    with time_machine.travel(at, tick=tick):
        if plan:
            refresh_schedule(engine, r, datetime.now(TZ), with_items=True)
        return await dispatch_due(bot, engine, r, default_language="en", instance="test")


async def test_429_waits_retry_after_and_drops_nothing(world: Engine, stub: StubBotApi,
                                                        bot: telegram.Bot) -> None:
    stub.fail("sendMessage", 429, retry_after=1, times=2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    stats = await dispatch(world, bot, SEND_AT, tick=True)
    assert loop.time() - started >= 1.9  # waited twice as told
    assert stats.retried == 2 and stats.sent == 2
    assert sent_ok(stub) == {SYT: 1, HALONG: 1}
    assert [c.response_status for c in stub.calls("sendMessage")][:2] == [429, 429]
    assert {(r.state, r.attempts) for r in ledger_rows(world)} == {(DeliveryState.SENT.value, 1)}


async def test_a_429_holds_the_batch_through_the_pause_then_sends_it_on(
        world: Engine, stub: StubBotApi, bot: telegram.Bot) -> None:
    """The rest of the batch stays claimed by this dispatcher during the pause (not handed back
    to be claimed and rendered again), then goes out: each message once."""
    stub.fail("sendMessage", 429, retry_after=1, times=1)
    seen: list[set[tuple[str, str | None]]] = []

    async def look_during_the_pause() -> None:
        while not stub.calls("sendMessage"):
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.4)
        seen.append({(row.state, row.claimed_by) for row in await asyncio.to_thread(ledger_rows, world)})

    looking = asyncio.create_task(look_during_the_pause())
    stats = await dispatch(world, bot, SEND_AT, tick=True)
    await looking
    first = stub.calls("sendMessage")[0].chat_id
    other = ({SYT, HALONG} - {first}).pop()
    # during the pause: the refused one waits as pending; the other is still held, not given back
    assert seen == [{("pending", None), ("sending", "test")}]
    assert stats.sent == 2 and sent_ok(stub) == {SYT: 1, HALONG: 1}
    assert [c.chat_id for c in stub.calls("sendMessage")][1:] == [other, first]
    assert {(r.state, r.attempts) for r in ledger_rows(world)} == {(DeliveryState.SENT.value, 1)}


async def test_stopping_during_a_429_pause_gives_the_batch_back_at_once(
        world: Engine, stub: StubBotApi, bot: telegram.Bot) -> None:
    stub.fail("sendMessage", 429, retry_after=30, times=1)
    r = rules()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with time_machine.travel(SEND_AT, tick=True):
        refresh_schedule(world, r, datetime.now(TZ), with_items=True)
        stats = await dispatch_due(bot, world, r, default_language="en", instance="test",
                                   keep_going=lambda: not stub.calls("sendMessage"))
    assert loop.time() - started < 15  # not the 30 s pause
    assert stats.sent == 0 and len(stub.calls("sendMessage")) == 1
    # nothing left claimed: a restart sends both (the refused one after its pause)
    assert {(row.state, row.claimed_by) for row in ledger_rows(world)} == {("pending", None)}


async def test_5xx_is_retried_with_backoff(world: Engine, stub: StubBotApi, bot: telegram.Bot) -> None:
    stub.fail("sendMessage", 502, times=1, chat_id=SYT)
    stub.fail("sendMessage", 500, times=1, chat_id=SYT)
    stats = await dispatch(world, bot, SEND_AT)
    assert stats.sent == 1 and stats.retried == 1 and sent_ok(stub) == {HALONG: 1}
    (row,) = [r for r in ledger_rows(world) if r.chat_id == SYT]
    assert row.state == DeliveryState.PENDING.value and "Bad Gateway" in row.last_error
    assert row.next_attempt_at == SEND_AT + timedelta(seconds=5)
    await dispatch(world, bot, SEND_AT + timedelta(seconds=3), plan=False)  # not yet
    assert sent_ok(stub) == {HALONG: 1}
    await dispatch(world, bot, SEND_AT + timedelta(seconds=6), plan=False)  # 500: backs off longer
    (row,) = [r for r in ledger_rows(world) if r.chat_id == SYT]
    assert row.attempts == 2 and row.next_attempt_at == SEND_AT + timedelta(seconds=16)
    await dispatch(world, bot, SEND_AT + timedelta(seconds=17), plan=False)
    assert sent_ok(stub) == {HALONG: 1, SYT: 1}
    assert [r.state for r in ledger_rows(world)] == [DeliveryState.SENT.value] * 2


async def test_403_marks_the_member_unreachable_and_tells_coordinators_once(
        world: Engine, stub: StubBotApi, bot: telegram.Bot) -> None:
    add_member(world, 106, "SNV", role="coordinator")
    stub.block(SYT)
    stats = await dispatch(world, bot, SEND_AT)
    assert stats.blocked == 1
    with session_scope(world) as s:
        member = s.exec(select(Member).where(Member.telegram_user_id == SYT)).one()
        assert member.unreachable_at is not None
    notices = [m for m in stub.sent_messages() if m.contains("can no longer be reached")]
    assert sorted(m.chat_id for m in notices) == [COORD, 106]
    assert all("User 101" in m.text and "Sở Y tế" in (m.text or "") for m in notices)
    # no retries, no more reminders for them, and no second notice
    for days in (1, 5):
        await dispatch(world, bot, local(2027, 3, 24 + days, 8, 30, 5))
    assert [c.ok for c in stub.calls("sendMessage") if c.chat_id == SYT] == [False]
    assert len([m for m in stub.sent_messages() if m.contains("can no longer be reached")]) == 2
    blocked = [r for r in ledger_rows(world) if r.chat_id == SYT]
    assert [r.state for r in blocked] == [DeliveryState.BLOCKED.value]


async def test_400_fails_with_the_reason_and_is_not_retried(world: Engine, stub: StubBotApi,
                                                            bot: telegram.Bot) -> None:
    stub.fail("sendMessage", 400, description="Bad Request: chat not found", chat_id=HALONG)
    stats = await dispatch(world, bot, SEND_AT)
    assert stats.failed == 1 and stats.sent == 1
    (row,) = [r for r in ledger_rows(world) if r.chat_id == HALONG]
    assert row.state == DeliveryState.FAILED.value and "chat not found" in row.last_error.lower()
    await dispatch(world, bot, SEND_AT + timedelta(minutes=10))
    assert len(stub.calls("sendMessage")) == 2


async def test_reminder_html_is_accepted_by_telegram(world: Engine, stub: StubBotApi,
                                                      bot: telegram.Bot) -> None:
    await dispatch(world, bot, SEND_AT)
    (message,) = stub.sent_messages(SYT)
    assert message.parse_mode == "HTML" and message.raw_text is not None and "<b>" in message.raw_text
    assert message.text is not None and "<b>" not in message.text  # parsed as HTML by the stub
    assert message.reply_markup is not None and "rp:" in str(message.reply_markup)


# --- several instances ----------------------------------------------------------------------

MANY = 400


def _race(db_url: str, stub: StubBotApi, name: str, barrier: threading.Barrier,
          results: dict[str, DispatchStats]) -> None:
    async def run() -> None:
        engine = make_engine(db_url)
        try:
            async with telegram.Bot(stub.token, base_url=stub.url + "/bot") as b:
                await asyncio.to_thread(barrier.wait)
                results[name] = await dispatch_due(b, engine, rules(), default_language="en",
                                                   instance=name)
        finally:
            engine.dispose()

    asyncio.run(run())


@pytest.fixture
def pg_plan_engine(pg_url: str) -> Iterator[Engine]:
    """Plan 916 on PostgreSQL: concurrent instances need it (SQLite allows one instance)."""
    engine = make_engine(pg_url)
    load_plan916(engine)
    yield engine
    engine.dispose()


def test_two_dispatchers_on_postgresql_send_every_key_once(pg_plan_engine: Engine, pg_url: str,
                                                            stub: StubBotApi) -> None:
    plan_engine, db_url = pg_plan_engine, pg_url
    populate_world(plan_engine)
    for n in range(MANY):
        add_member(plan_engine, 10_000 + n, "SYT")
    with time_machine.travel(SEND_AT, tick=True):
        refresh_schedule(plan_engine, rules(), datetime.now(TZ), with_items=True)
        with session_scope(plan_engine) as s:
            keys = len(list(s.exec(select(Delivery.key))))
        assert keys == MANY + 2
        barrier = threading.Barrier(2)
        results: dict[str, DispatchStats] = {}
        threads = [threading.Thread(target=_race, args=(db_url, stub, name, barrier, results))
                   for name in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    counts = sent_ok(stub)
    assert len(counts) == MANY + 2 and set(counts.values()) == {1}
    assert results["a"].sent + results["b"].sent == MANY + 2
    assert results["a"].sent > 0 and results["b"].sent > 0, results
    with session_scope(plan_engine) as s:
        rows = list(s.exec(select(Delivery)))
    assert {r.state for r in rows} == {DeliveryState.SENT.value}
    assert {r.claimed_by for r in rows} == {"a", "b"}


async def test_a_lapsed_claim_sends_nothing_and_gives_back_nothing(world: Engine, stub: StubBotApi,
                                                                   bot: telegram.Bot) -> None:
    """Rows held past the lease (a slow batch, long 429 pauses) are taken over by a later claim;
    the first claim must then neither send them nor hand them back: each goes out once."""
    r = rules()
    with time_machine.travel(SEND_AT, tick=False):
        refresh_schedule(world, r, datetime.now(TZ), with_items=True)
        first = claim(world, datetime.now(TZ), r, "one", "en")
    assert {o.chat_id for o in first} == {SYT, HALONG}
    with time_machine.travel(SEND_AT + r.lease + timedelta(seconds=1), tick=False):
        second = claim(world, datetime.now(TZ), r, "two", "en")  # takes the lapsed rows over
        assert {o.chat_id for o in second} == {SYT, HALONG}
        now = datetime.now(TZ)
        assert ledger.advance(world, None, first[0].held, now) is ledger.Renewal.LAPSED
        ledger.give_back(world, [o.held for o in first], now)  # the first claim's late give-back: a no-op
        assert {(row.state, row.claimed_by) for row in ledger_rows(world)} == {("sending", "two")}
        stats = DispatchStats()
        sender = Sender(bot, world, stats)
        for out in first + second:
            await sender.send(out)
        await sender.flush()
    assert stats.sent == 2 and sent_ok(stub) == {SYT: 1, HALONG: 1}
    assert {row.state for row in ledger_rows(world)} == {DeliveryState.SENT.value}

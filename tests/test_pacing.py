"""The pacing limiter (scheduler/pacing.py): beats, lanes, groups, 429s."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from telegram.error import RetryAfter

from scheduler.pacing import BULK, Pacer

Sent = list[tuple[str, float]]


def recorder(sent: Sent) -> Callable[[str], Callable[[], Coroutine[Any, Any, bool]]]:
    def make(name: str) -> Callable[[], Coroutine[Any, Any, bool]]:
        async def call() -> bool:
            sent.append((name, asyncio.get_running_loop().time()))
            return True
        return call
    return make


async def request(pacer: Pacer, call: Callable[[], Coroutine[Any, Any, Any]], chat: int | None,
                  lane: str | None = None) -> Any:
    data = {"chat_id": chat} if chat is not None else {}
    return await pacer.process_request(call, (), {}, "sendMessage", data,
                                       {"lane": lane} if lane else None)


async def waited(pacer: Pacer, call: Callable[[], Coroutine[Any, Any, Any]], chat: int) -> float:
    """Seconds a reply to ``chat`` took to get through the limiter."""
    loop = asyncio.get_running_loop()
    asked = loop.time()
    await request(pacer, call, chat)
    return loop.time() - asked


def peak(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_never_more_than_30_in_any_second() -> None:
    pacer, sent = Pacer(), []  # the production figures
    make = recorder(sent)
    await asyncio.gather(*(request(pacer, make(f"m{i}"), 100 + i % 7, BULK if i % 2 else None)
                           for i in range(75)))
    times = [t for _, t in sent]
    assert len(times) == 75
    assert peak(times, 1.0) <= 30
    assert times[-1] - times[0] >= 2 * 1.0  # 75 need three windows


async def test_bulk_goes_on_an_even_beat() -> None:
    pacer, sent = Pacer(), []
    make = recorder(sent)
    await asyncio.gather(*(request(pacer, make(f"b{i}"), 100 + i, BULK) for i in range(60)))
    times = [t for _, t in sent]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert peak(times, 1.0) <= 30
    assert min(gaps) >= 0.7 / 29.4  # no bursts (a late wake-up shortens the next gap, at most by a quarter)
    assert 59 / 29.4 * 0.97 <= times[-1] - times[0] <= 59 / 29.4 * 1.06  # and little drift (a busy machine)


async def test_a_late_resume_is_counted_when_it_ran() -> None:
    """The event loop busy right after a slot was given (a heavy render): the window counts
    when each request ran, so no window ever holds more than the limit."""
    pacer, sent = Pacer(limit=3, window=0.5, bulk_per_second=6.5), []

    async def busy(name: str) -> bool:
        sent.append((name, asyncio.get_running_loop().time()))
        if name.endswith("0"):
            time.sleep(0.12)  # blocks the loop: the next ones resume late, all at once
        return True

    await asyncio.gather(*(request(pacer, lambda n=f"m{i}": busy(n), 10 + i, BULK if i % 3 else None)
                           for i in range(21)))
    assert len(sent) == 21
    assert peak([t for _, t in sent], 0.5) <= 3


async def test_replies_go_before_waiting_bulk_and_take_turns_between_chats() -> None:
    pacer, sent = Pacer(limit=3, window=0.3, bulk_per_second=10, reserve=0), []
    make = recorder(sent)
    bulk = [asyncio.create_task(request(pacer, make(f"bulk{i}"), 500 + i, BULK)) for i in range(10)]
    await asyncio.sleep(0.12)  # a couple of bulk sends are out; the rest wait
    chatty = [asyncio.create_task(request(pacer, make(f"chatty{i}"), 1)) for i in range(4)]
    await asyncio.sleep(0)
    other = asyncio.create_task(request(pacer, make("other"), 2))
    await asyncio.gather(*bulk, *chatty, other)
    order = [name for name, _ in sent]
    first_reply = min(order.index(n) for n in ("chatty0", "other"))
    assert all(n.startswith("bulk") for n in order[:first_reply])
    assert first_reply <= 4
    # Every reply before any of the bulk still waiting; the other person's answer second, not fifth.
    replies = order[first_reply:first_reply + 5]
    assert sorted(replies) == sorted(["chatty0", "chatty1", "chatty2", "chatty3", "other"])
    assert replies.index("other") == 1
    assert order[first_reply + 5:] == [f"bulk{i}" for i in range(10) if f"bulk{i}" not in order[:first_reply]]
    assert peak([t for _, t in sent], 0.3) <= 3


async def test_a_reply_takes_a_free_slot_without_waiting_for_the_bulk_beat() -> None:
    """The limiter holds no lock while it waits: with bulk two a second, a reply that arrives
    between two beats goes at once, ahead of the bulk queued before it."""
    pacer, sent = Pacer(bulk_per_second=2), []
    make = recorder(sent)
    bulk = [asyncio.create_task(request(pacer, make(f"bulk{i}"), 500 + i, BULK)) for i in range(3)]
    await asyncio.sleep(0.2)
    reply = asyncio.create_task(request(pacer, make("reply"), 7))
    await asyncio.gather(*bulk, reply)
    assert [name for name, _ in sent] == ["bulk0", "reply", "bulk1", "bulk2"]
    assert sent[1][1] - sent[0][1] == pytest.approx(0.2, abs=0.05)


async def test_bulk_leaves_room_for_replies_while_people_are_answered() -> None:
    """Bulk as fast as the window lets it: once a reply went out, bulk keeps slots of the
    window free, so the next replies never wait for one."""
    pacer, sent = Pacer(limit=10, window=0.5, bulk_per_second=19.6, reserve=2), []
    make = recorder(sent)
    bulk = [asyncio.create_task(request(pacer, make(f"bulk{i}"), 500 + i, BULK)) for i in range(60)]
    await asyncio.sleep(0.2)  # the window is full of bulk
    await request(pacer, make("first"), 7)  # may wait for a slot
    waits = []
    for n in range(6):
        await asyncio.sleep(0.25)
        waits.append(await waited(pacer, make(f"reply{n}"), 8 + n))
    for task in bulk:
        task.cancel()
    await asyncio.gather(*bulk, return_exceptions=True)
    # Waiting for a slot would take up to window / limit = 50 ms; a free slot is taken at once
    # (well under that even on a loaded machine, where the loop itself wakes late).
    assert max(waits) < 0.03, waits
    # bulk went on meanwhile (some 8 a window at best; a loaded machine's late wake-ups cost some)
    assert sum(name.startswith("bulk") for name, _ in sent) >= 12
    assert peak([t for _, t in sent], 0.5) <= 10


async def test_a_burst_of_replies_finds_free_slots_while_people_use_the_bot() -> None:
    """Five people asking at once in the middle of a broadcast (it prompted them all), a second
    after someone else was answered: each takes a slot without waiting (production figures)."""
    pacer, sent = Pacer(), []
    make = recorder(sent)
    bulk = [asyncio.create_task(request(pacer, make(f"bulk{i}"), 500 + i, BULK)) for i in range(200)]
    await asyncio.sleep(0.1)
    await request(pacer, make("earlier"), 7)
    await asyncio.sleep(1.2)  # the window has been as full of bulk as bulk may fill it
    waits = await asyncio.gather(*(waited(pacer, make(f"reply{10 + n}"), 10 + n) for n in range(5)))
    for task in bulk:
        task.cancel()
    await asyncio.gather(*bulk, return_exceptions=True)
    # Waiting for a slot would take a bulk beat (34 ms) for each reply ahead; a free slot is
    # taken at once (well under one beat even on a loaded machine).
    assert max(waits) < 0.03, waits
    assert sum(name.startswith("bulk") for name, _ in sent) >= 15  # bulk went on meanwhile (about 30 at best)
    assert peak([t for _, t in sent], 1.0) <= 30


async def test_bulk_has_the_whole_window_once_nobody_was_answered_for_a_while() -> None:
    pacer, sent = Pacer(limit=10, window=0.5, bulk_per_second=19.6, reserve=5, reserve_seconds=1.0), []
    make = recorder(sent)
    loop = asyncio.get_running_loop()
    bulk = [asyncio.create_task(request(pacer, make(f"bulk{i}"), 500 + i, BULK)) for i in range(100)]
    await request(pacer, make("reply"), 7)
    await asyncio.sleep(0.9)
    kept = [t for name, t in sent if name.startswith("bulk") and t >= loop.time() - 0.5]
    await asyncio.sleep(1.6)  # nobody answered for reserve_seconds
    free = [t for name, t in sent if name.startswith("bulk") and t >= loop.time() - 0.5]
    for task in bulk:
        task.cancel()
    await asyncio.gather(*bulk, return_exceptions=True)
    assert peak(kept, 0.5) <= 5  # limit - reserve while people were being answered
    assert peak(free, 0.5) >= 9  # then the whole window (bar the one a late answer still holds)
    assert peak([t for _, t in sent], 0.5) <= 10


async def test_a_group_waits_its_spacing_while_others_go_on() -> None:
    pacer, sent = Pacer(group_spacing=0.3), []
    make = recorder(sent)
    await asyncio.gather(*(request(pacer, make(f"g{i}"), -42) for i in range(3)),
                         *(request(pacer, make(f"p{i}"), 10 + i) for i in range(5)))
    group = [t for name, t in sent if name.startswith("g")]
    assert [round(b - a, 1) for a, b in itertools.pairwise(group)] == [0.3, 0.3]
    people = [t for name, t in sent if name.startswith("p")]
    assert max(people) < group[1]  # the people were not held behind the group's wait


async def test_requests_without_a_chat_are_not_paced() -> None:
    pacer, sent = Pacer(limit=1), []
    make = recorder(sent)
    started = asyncio.get_running_loop().time()
    await asyncio.gather(*(request(pacer, make(f"a{i}"), None) for i in range(5)))
    assert asyncio.get_running_loop().time() - started < 0.2


async def test_a_429_stops_every_lane_and_a_reply_is_tried_again() -> None:
    pacer, sent = Pacer(), []
    make = recorder(sent)
    refused: list[float] = []

    async def once_refused() -> bool:
        if not refused:
            refused.append(asyncio.get_running_loop().time())
            raise RetryAfter(1)
        return await make("reply")()

    reply = asyncio.create_task(request(pacer, once_refused, 7))
    await asyncio.sleep(0.05)
    bulk = asyncio.create_task(request(pacer, make("bulk"), 8, BULK))
    assert await reply is True
    await bulk
    assert [name for name, _ in sent] == ["reply", "bulk"]
    assert min(t for _, t in sent) - refused[0] >= 1.0


async def test_a_429_on_a_bulk_send_goes_back_to_the_dispatcher() -> None:
    pacer = Pacer()
    calls: list[int] = []

    async def refused() -> bool:
        calls.append(1)
        raise RetryAfter(2)

    with pytest.raises(RetryAfter):
        await request(pacer, refused, 8, BULK)
    assert calls == [1]  # not retried: the ledger row is given back for after the pause


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    pacer, sent = Pacer(limit=1, window=0.5), []
    make = recorder(sent)
    first = asyncio.create_task(request(pacer, make("first"), 1))
    doomed = asyncio.create_task(request(pacer, make("doomed"), 2))
    await asyncio.sleep(0.05)
    doomed.cancel()
    await first
    with pytest.raises(asyncio.CancelledError):
        await doomed
    await request(pacer, make("later"), 3)
    assert [name for name, _ in sent] == ["first", "later"]
    assert pacer.waiting() == 0
    await pacer.shutdown()


async def test_a_request_counts_until_a_window_after_its_answer() -> None:
    """Telegram receives a request somewhere between its start and its answer: the request
    ``limit`` places later starts only a window after that answer, so no window at Telegram's
    end can hold more than the limit, however slow or uneven the answers."""
    pacer, spans = Pacer(limit=3, window=0.4, bulk_per_second=100), []
    loop = asyncio.get_running_loop()

    async def slow(seconds: float) -> bool:
        started = loop.time()
        await asyncio.sleep(seconds)
        spans.append((started, loop.time()))
        return True

    durations = [0.01, 0.15, 0.02, 0.3, 0.01, 0.05, 0.2, 0.01, 0.01, 0.1, 0.02, 0.01]
    await asyncio.gather(*(request(pacer, lambda d=d: slow(d), 10 + i, BULK if i % 2 else None)
                           for i, d in enumerate(durations)))
    spans.sort()
    for j, (start, _end) in enumerate(spans):
        # When it started: fewer than 3 before it under way or answered within the window.
        assert sum(1 for _, end in spans[:j] if end > start - 0.4 + 1e-3) < 3, (j, spans)

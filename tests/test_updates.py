"""bot/updates.py: each person's updates in order, different people's at once."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update, User

from bot.updates import PerUserProcessor


def update(update_id: int, user: int) -> Update:
    person = User(user, "U", is_bot=False)
    message = Message(update_id, None, Chat(user, "private"), from_user=person)  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_one_person_in_order_others_at_once() -> None:
    processor = PerUserProcessor(workers=4)
    await processor.initialize()
    done: list[tuple[int, int]] = []

    async def handle(user: int, n: int, seconds: float) -> None:
        await asyncio.sleep(seconds)
        done.append((user, n))

    # Alice's first update is slow; her second must wait for it, Bob's need not.
    jobs = [(1, 1, 0.3), (1, 2, 0.0), (2, 1, 0.0), (1, 3, 0.0), (2, 2, 0.0)]
    await asyncio.gather(*(processor.process_update(update(i, user), handle(user, n, s))
                           for i, (user, n, s) in enumerate(jobs)))
    assert [n for user, n in done if user == 1] == [1, 2, 3]
    assert done[:2] == [(2, 1), (2, 2)]
    await processor.shutdown()


async def test_a_flooding_person_does_not_take_the_workers() -> None:
    """600 updates of one person queue behind each other, holding no worker: another person's
    update is handled while they wait."""
    processor = PerUserProcessor(workers=2)
    await processor.initialize()
    gate = asyncio.Event()
    done: list[int] = []

    async def flood(n: int) -> None:
        await gate.wait()
        done.append(n)

    async def other() -> None:
        done.append(-1)
        gate.set()

    tasks = [asyncio.create_task(processor.process_update(update(i, 1), flood(i))) for i in range(600)]
    await asyncio.sleep(0.05)
    await asyncio.wait_for(processor.process_update(update(999, 2), other()), 2)
    await asyncio.gather(*tasks)
    assert done[0] == -1 and done[1:] == list(range(600))
    await processor.shutdown()

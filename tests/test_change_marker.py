"""Plan only what changed: the change counters in the database, the planner's and the item
sync's marks, and the sync's chunks and stop flag (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy import Engine, func, update
from sqlmodel import select

from models import calendar_days, changes, events
from models.agencies import find_agency
from models.db import session_scope
from models.tables import AgencyClass, AgencyClassMember, Delivery, Item, ItemState, Member
from scheduler import deadlines
from scheduler.deadlines import sync_due, sync_items
from scheduler.jobs import plan_if_changed
from tests.reminder_helpers import SYT, TZ, add_member, local, plan_of, populate_world, rules

# Wednesday 24 March 2027 08:00: the "7 days before" reminders of Q1 (due 31 March) are near.
NOW = local(2027, 3, 24, 8, 0)


@pytest.fixture
def world(plan_engine: Engine) -> Engine:
    engine = populate_world(plan_engine)
    sync_due(engine, rules().due, NOW.date())
    return engine


def plan_at(engine: Engine, at: datetime = NOW) -> int | None:
    with time_machine.travel(at, tick=False):
        return plan_if_changed(engine, rules(), datetime.now(TZ))


def reminders(engine: Engine) -> list[tuple[int | None, int | None]]:
    with session_scope(engine) as s:
        return sorted(s.exec(select(Delivery.member_id, Delivery.item_id)
                             .where(Delivery.state == "pending")).all())


def counters(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        return changes.counters(s)


def item_count(engine: Engine) -> int:
    with session_scope(engine) as s:
        return int(s.exec(select(func.count()).select_from(Item)).one())


def test_a_tick_with_nothing_changed_plans_nothing(world: Engine) -> None:
    assert plan_at(world) == 2  # Sở Y tế's and Hạ Long's focal points
    planned = reminders(world)
    assert plan_at(world) is None  # same day, same counters, same rules: nothing read, nothing planned
    assert plan_at(world, local(2027, 3, 24, 8, 59)) is None
    assert reminders(world) == planned
    assert plan_at(world, local(2027, 3, 25, 0, 1)) == 2  # a new day plans again: Friday 26th, 3 days before
    assert plan_at(world, local(2027, 3, 25, 9, 0)) is None


def test_a_member_added_is_planned_at_the_next_tick(world: Engine) -> None:
    plan_at(world)
    member_id = add_member(world, 301, "SYT")
    assert plan_at(world) == 1
    assert {m for m, _ in reminders(world)} >= {member_id}
    # ... and one who leaves has their pending reminder skipped
    with session_scope(world) as s:
        s.execute(update(Member).where(Member.id == member_id).values(active=False))
    assert plan_at(world) == 0
    assert member_id not in {m for m, _ in reminders(world)}


def test_a_language_change_does_not_re_plan_but_unreachable_does(world: Engine) -> None:
    plan_at(world)
    before = counters(world)
    with session_scope(world) as s:
        s.execute(update(Member).where(Member.telegram_user_id == SYT).values(language="vi",
                                                                               full_name="Lan"))
    assert counters(world) == before and plan_at(world) is None
    with session_scope(world) as s:
        s.execute(update(Member).where(Member.telegram_user_id == SYT).values(
            unreachable_at=datetime.now(TZ)))
    assert counters(world)[changes.PEOPLE] > before[changes.PEOPLE]
    assert plan_at(world) == 0
    assert len(reminders(world)) == 1  # Sở Y tế's reminder skipped, Hạ Long's kept


def test_a_calendar_day_added_re_plans(world: Engine) -> None:
    plan_at(world)
    with session_scope(world) as s:
        calendar_days.set_day(s, day=date(2027, 3, 24), kind=calendar_days.DAY_OFF)
    assert plan_at(world) is not None  # the reminders move to the 23rd (within grace)
    with session_scope(world) as s:
        days = {d.astimezone(TZ).day for d in s.exec(select(Delivery.slot_at)
                                                      .where(Delivery.state == "pending"))}
    assert days == {23}


def test_an_item_added_or_reported_re_plans(world: Engine) -> None:
    plan_at(world)
    with time_machine.travel(local(2027, 3, 24, 8), tick=False), session_scope(world) as s:
        events.record_event(s, plan=plan_of(s), task_code="2.3c", occurred_on=date(2027, 3, 10),
                            days_allowed=20, today=date(2027, 3, 24), limits=events.EventLimits())
    before = counters(world)
    assert sync_due(world, rules().due, NOW.date()).added == 16  # the event's items, nothing else
    assert counters(world)[changes.ITEMS] > before[changes.ITEMS]
    assert plan_at(world) is not None
    assert plan_at(world) is None
    with session_scope(world) as s:
        s.execute(update(Item).values(state=ItemState.REPORTED.value))
    assert plan_at(world) == 0
    assert reminders(world) == []


def test_sync_of_a_new_period_adds_exactly_its_items(world: Engine) -> None:
    before = item_count(world)
    assert sync_due(world, rules().due, NOW.date()).added == 0  # same day: nothing to do
    assert sync_due(world, rules().due, date(2027, 3, 31)).added == 0  # no period begins
    added = sync_due(world, rules().due, date(2027, 4, 1)).added  # Q2 begins (quarterly tasks)
    with session_scope(world) as s:
        new = s.exec(select(Item.period_key, func.count()).where(Item.period_start == date(2027, 4, 1))
                     .group_by(Item.period_key)).all()
    assert added > 0 and dict(new) == {"2027-Q2": added}
    assert item_count(world) == before + added
    assert sync_due(world, rules().due, date(2027, 4, 2)).added == 0
    assert sync_due(world, rules().due, date(2027, 7, 1)).added > 0  # Q3 and H2


def test_who_owes_changing_syncs_every_begun_period_again(world: Engine) -> None:
    with session_scope(world) as s:
        district = find_agency(s, "HA-LONG")
        assert district is not None and district.id is not None
        communes = s.exec(select(AgencyClass).where(AgencyClass.code == "UBND-XA")).one()
        before = s.exec(select(func.count()).select_from(Item).where(Item.agency_id == district.id)).one()
        s.add(AgencyClassMember(class_id=communes.id, agency_id=district.id))  # now it owes theirs too
    added = sync_due(world, rules().due, NOW.date()).added
    with session_scope(world) as s:
        stored = set(s.exec(select(Item.task_id, Item.period_key).where(Item.agency_id == district.id)))
        wanted = {(r["task_id"], r["period_key"]) for r in
                  deadlines._period_rows(s, plan_of(s), None, NOW.date(), rules().due)
                  if r["agency_id"] == district.id}
    assert added > 0 and len(stored) == before + added and stored == wanted


def test_the_sync_stops_between_chunks_and_goes_on_later(plan_engine: Engine,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    engine = populate_world(plan_engine)
    with session_scope(engine) as s:
        full = len(list(deadlines._period_rows(s, plan_of(s), None, NOW.date(), rules().due)))
    monkeypatch.setattr(deadlines, "CHUNK", 10)
    asked: list[int] = []

    def keep_going() -> bool:
        asked.append(item_count(engine))  # each chunk is committed before the question
        return len(asked) < 3

    first = sync_due(engine, rules().due, NOW.date(), keep_going=keep_going)
    assert not first.finished and first.added == 30 and asked == [10, 20, 30]
    assert item_count(engine) == 30
    with session_scope(engine) as s:
        assert changes.mark(s, changes.ITEMS_SYNCED) is None  # not marked: the next sync goes on
    second = sync_due(engine, rules().due, NOW.date())
    assert second.finished and item_count(engine) == full
    with session_scope(engine) as s:
        assert sync_items(s, plan_of(s), NOW.date(), rules().due) == 0  # nothing was left out


def test_owing_by_class_says_what_owing_agencies_says(world: Engine) -> None:
    """The preview reads who owes what per class (one row per membership); the answer is the
    same as the expanded one the item sync uses."""
    from models.obligations import live_tasks, owing, owing_agencies

    with session_scope(world) as s:
        ids = [t.id for t in live_tasks(s, plan_of(s)) if t.id is not None]
        expanded = owing_agencies(s, ids)
        by_class = owing(s, ids)
    inverted: dict[int, set[int]] = {}
    for task_id, agencies in expanded.items():
        for agency_id in agencies:
            inverted.setdefault(agency_id, set()).add(task_id)
    assert inverted and {a: by_class.tasks_of(a) for a in by_class.agencies()} == inverted


async def test_a_tick_plans_nothing_while_items_are_being_stored(
        world: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slot planned from part of a person's items and again once the rest is stored reached
    them as two messages (bench/faults.py under 429s): while the item sync runs, a tick only
    sends what is planned already; once the sync is done, the next tick plans."""
    import asyncio
    from types import SimpleNamespace

    from scheduler import jobs
    from scheduler.dispatch import DispatchStats

    storing = asyncio.Event()
    sync = asyncio.create_task(storing.wait())
    monkeypatch.setattr(jobs, "_start_item_sync", lambda *_: sync)
    monkeypatch.setattr(jobs, "SYNC_WAIT", 0.05)

    async def dispatched(*_: object, **__: object) -> DispatchStats:
        return DispatchStats()

    async def no_wake(*_: object, **__: object) -> None:
        return None

    monkeypatch.setattr(jobs, "dispatch_due", dispatched)
    monkeypatch.setattr(jobs, "_schedule_wake", no_wake)
    monkeypatch.setattr(jobs, "plan_digests_now", lambda *_: 0)
    context = SimpleNamespace(
        bot_data=SimpleNamespace(dispatch_lock=asyncio.Lock()), engine=world, bot=None,
        config=SimpleNamespace(rules=rules(), default_language="vi"),
        application=SimpleNamespace(running=True), job_queue=None)
    with time_machine.travel(NOW, tick=False):
        await jobs.tick(context)  # type: ignore[arg-type]
        assert reminders(world) == []  # the sync is still storing: nothing planned
        storing.set()
        await sync
        await jobs.tick(context)  # type: ignore[arg-type]
    assert len(reminders(world)) > 0

"""Several plans (issue 14, item 3) at the model level: a second plan imported beside Plan 916
leaves 916 alone; items, roll-ups and reminders stay per plan; a closed plan gets no reminder
(the pending ones are skipped, none planned again), its history stays."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy import Engine
from sqlmodel import col, func, select

from domain.access import EVERYTHING
from domain.plan_parser import parse_plan
from models import registry
from models.db import session_scope
from models.rollup import compute_rollup, parse_period
from models.tables import AuditLog, DeliveryState, Item, Plan, Task
from scheduler.jobs import refresh_schedule
from tests.reminder_helpers import SYT, TZ, RecordingBot, ledger, local, populate_world, rules
from tests.second_plan import NUMBER, second_plan

PLAN916 = "916/KH-UBND"


def import_second(engine: Engine, start: date = date(2027, 1, 1)) -> registry.ImportReport:
    raw = second_plan()
    with session_scope(engine) as s:
        return registry.import_plan(s, parse_plan(raw), raw=raw, source_name="kh25.txt",
                                    active_from=start, actor="test")


@pytest.fixture
def two_plans(plan_engine: Engine) -> Engine:
    populate_world(plan_engine)  # 916 in force since 1 Oct 2026; Sở Y tế's focal point (SYT)
    report = import_second(plan_engine)
    assert report.created and len(report.added) == 3 and not report.retired
    return plan_engine


def _items(engine: Engine, number: str, agency_code: str | None = None) -> list[tuple[str, str]]:
    with session_scope(engine) as s:
        query = (select(Task.code, Item.period_key).join(Task, col(Task.id) == Item.task_id)
                 .join(Plan, col(Plan.id) == Task.plan_id).where(Plan.number == number))
        return sorted((c, p) for c, p in s.exec(query))


def test_a_second_plan_stands_beside_916(two_plans: Engine) -> None:
    with session_scope(two_plans) as s:
        assert [p.number for p in registry.active_plans(s)] == [NUMBER, PLAN916]
        live = dict(s.exec(select(Plan.number, func.count()).join(Task, col(Task.plan_id) == Plan.id)
                           .where(col(Task.retired_at).is_(None)).group_by(col(Plan.number))).all())
        assert live == {PLAN916: 40, NUMBER: 3}  # 916 untouched: nothing retired
        with pytest.raises(registry.SeveralPlans, match="916/KH-UBND"):
            registry.require_plan(s)
        assert registry.require_plan(s, NUMBER).title.startswith("KẾ HOẠCH CẢI CÁCH")
        with pytest.raises(registry.NoPlan, match="no plan numbered"):
            registry.require_plan(s, "99/KH-UBND")
    # Re-importing either document touches only its own plan.
    assert not import_second(two_plans).changed
    raw = registry_raw()
    with session_scope(two_plans) as s:
        again = registry.import_plan(s, parse_plan(raw), raw=raw, source_name="plan916.txt")
        assert not again.retired and not again.needs_retire
        assert len(registry.list_tasks(s, registry.require_plan(s, NUMBER))) == 3


def registry_raw() -> bytes:
    from models.agencies import bundled
    return bundled("plan916.txt")


def test_items_and_rollups_stay_per_plan(two_plans: Engine) -> None:
    with time_machine.travel(local(2027, 3, 24, 8, 0), tick=False):
        refresh_schedule(two_plans, rules(), datetime.now(TZ))
    second = _items(two_plans, NUMBER)
    # 1.1 (Sở Y tế), 1.2 (Sở Tài chính), 2.1 (both): four items of 2027-Q1, none earlier.
    assert second == [("1.1", "2027-Q1"), ("1.2", "2027-Q1"), ("2.1", "2027-Q1"), ("2.1", "2027-Q1")]
    assert ("1.1", "2026-Q4") in _items(two_plans, PLAN916)
    period = parse_period("2027-Q1")
    with session_scope(two_plans) as s:
        ours = compute_rollup(s, registry.require_plan(s, NUMBER), period, date(2027, 3, 24), EVERYTHING)
        theirs = compute_rollup(s, registry.require_plan(s, PLAN916), period, date(2027, 3, 24), EVERYTHING)
    assert ours.totals.owed == 4
    assert theirs.totals.owed > 4 and len(theirs.axes) == 6 and len(ours.axes) == 2


async def test_reminders_name_both_plans_and_closing_one_stops_its_own(two_plans: Engine) -> None:
    bot = RecordingBot()
    r = rules()
    with time_machine.travel(local(2027, 3, 24, 8, 30, 5), tick=False):
        refresh_schedule(two_plans, r, datetime.now(TZ))
        with session_scope(two_plans) as s:
            preview = registry.close_plan(s, NUMBER)  # without apply: only what it would stop
            assert preview.reminders_stopped == 2 and preview.tasks == 3
        assert all(d.state == DeliveryState.PENDING.value for d in ledger(two_plans))
        from scheduler.dispatch import dispatch_due
        await dispatch_due(bot, two_plans, r, default_language="en", instance="test")  # type: ignore[arg-type]
    (message,) = bot.to(SYT)  # one message, the items of both plans, each naming its plan
    assert f"[{NUMBER}] <b>1.1</b>" in message.text and f"[{NUMBER}] <b>2.1</b>" in message.text
    assert f"[{PLAN916}] <b>6.1b</b>" in message.text

    # The next slot (3 days before the end: Sunday 28 March, so Friday 26th): planned at 08:00,
    # plan 25 closed before 08:30.
    with time_machine.travel(local(2027, 3, 26, 8, 0), tick=False):
        refresh_schedule(two_plans, r, datetime.now(TZ))
    planned = [d for d in ledger(two_plans) if d.state == DeliveryState.PENDING.value]
    ours = _item_ids(two_plans, NUMBER)
    assert {d.item_id for d in planned} & ours  # the second plan's items have pending rows
    with session_scope(two_plans) as s:
        closed = registry.close_plan(s, NUMBER, actor="test", apply=True)
        assert closed.reminders_stopped == len([d for d in planned if d.item_id in ours])
        assert [p.number for p in registry.active_plans(s)] == [PLAN916]
        audit = s.exec(select(AuditLog).where(AuditLog.action == "plan.close")).one()
        assert NUMBER in audit.details
    with time_machine.travel(local(2027, 3, 26, 8, 30, 10), tick=False):
        refresh_schedule(two_plans, r, datetime.now(TZ))  # planning again adds none for plan 25
        await dispatch_due(bot, two_plans, r, default_language="en", instance="test")  # type: ignore[arg-type]
    rows = ledger(two_plans)
    assert not [d for d in rows if d.item_id in ours and d.state == DeliveryState.PENDING.value]
    assert {d.last_error for d in rows if d.item_id in ours and d.state == DeliveryState.SKIPPED.value} \
        == {"plan closed"}
    last = bot.to(SYT)[-1]
    assert "6.1b" in last.text and NUMBER not in last.text and "[" not in last.text  # one plan: unnamed
    # Its history stays: tasks and items are still there; a later day stores no new period.
    with time_machine.travel(local(2027, 4, 2, 8, 0), tick=False):
        refresh_schedule(two_plans, r, datetime.now(TZ))
    assert _items(two_plans, NUMBER) == [("1.1", "2027-Q1"), ("1.2", "2027-Q1"), ("2.1", "2027-Q1"),
                                         ("2.1", "2027-Q1")]
    with session_scope(two_plans) as s:
        assert registry.close_plan(s, NUMBER, apply=True).already
        assert registry.require_plan(s).number == PLAN916  # the only one in force again


def _item_ids(engine: Engine, number: str) -> set[int]:
    with session_scope(engine) as s:
        return {int(i) for i in s.exec(select(Item.id).join(Task, col(Task.id) == Item.task_id)
                                       .join(Plan, col(Plan.id) == Task.plan_id)
                                       .where(Plan.number == number))}




def test_a_calendar_feed_holds_both_plans_deadlines_each_named(two_plans: Engine) -> None:
    from models import calendar_feeds
    from models.members import load_actor

    with time_machine.travel(local(2027, 3, 24, 8, 0), tick=False):
        refresh_schedule(two_plans, rules(), datetime.now(TZ))
    with session_scope(two_plans) as s:
        actor = load_actor(s, SYT, frozenset())
    token = calendar_feeds.new_link(two_plans, actor, local(2027, 3, 24)).token
    assert token is not None
    found = calendar_feeds.feed(two_plans, token, date(2027, 3, 24), frozenset())
    assert found is not None
    q1 = {e.task_code: e.uid for e in found.events if e.period_key == "2027-Q1"}
    assert {f"[{NUMBER}] 1.1", f"[{NUMBER}] 2.1", f"[{PLAN916}] 6.1b"} <= set(q1)
    assert q1[f"[{NUMBER}] 1.1"] != q1.get(f"[{PLAN916}] 1.1") and q1[f"[{NUMBER}] 1.1"].endswith(
        f".p{_plan_id(two_plans, NUMBER)}")
    with session_scope(two_plans) as s:
        registry.close_plan(s, NUMBER, apply=True)
    alone = calendar_feeds.feed(two_plans, token, date(2027, 3, 24), frozenset())
    assert alone is not None and "6.1b" in {e.task_code for e in alone.events}
    assert not [e for e in alone.events if "[" in e.task_code]  # one plan: as before


def _plan_id(engine: Engine, number: str) -> int:
    with session_scope(engine) as s:
        return int(s.exec(select(Plan.id).where(Plan.number == number)).one() or 0)

"""Deadlines per owing agency: cadences, classes expanded, events and milestones, the plan's
active window, due-day settings, and refusals that change nothing."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import Engine, func, update
from sqlmodel import select

from bot.settings import SettingsError, load_settings, schedule_rules
from domain.periods import DueRules
from models import events
from models.db import session_scope
from models.tables import AuditLog, Event, Item, Milestone, Plan, Task
from models.types import utcnow
from scheduler.deadlines import deadlines_between, sync_items
from tests.reminder_helpers import agency, local, plan_of, set_active_from

RULES = DueRules()
LIMITS = events.EventLimits(max_past_days=30, max_future_days=60)


@pytest.fixture
def plan(plan_engine: Engine) -> Engine:
    set_active_from(plan_engine, date(2026, 1, 1))
    return plan_engine


def _due(engine: Engine, code: str, first: date, last: date, rules: DueRules = RULES) -> Counter[date]:
    with session_scope(engine) as s:
        task = s.exec(select(Task).where(Task.code == code)).one()
        found = [d for d in deadlines_between(s, plan_of(s), first, last, rules) if d.task_id == task.id]
    return Counter(d.due_on for d in found)


def test_quarterly_task_owes_each_quarter_end(plan: Engine) -> None:
    # 6.1b: Sở Y tế, "Định kỳ hàng quý"
    assert _due(plan, "6.1b", date(2027, 1, 1), date(2027, 12, 31)) == {
        date(2027, 3, 31): 1, date(2027, 6, 30): 1, date(2027, 9, 30): 1, date(2027, 12, 31): 1}


def test_december_and_annual_tasks_owe_31_december(plan: Engine) -> None:
    # 2.1 "Tháng 12 hàng năm": every district; 2.2b "Hàng năm": Sở Tài chính + every district
    assert _due(plan, "2.1", date(2027, 1, 1), date(2028, 12, 31)) == {
        date(2027, 12, 31): 14, date(2028, 12, 31): 14}
    assert _due(plan, "2.2b", date(2027, 1, 1), date(2027, 12, 31)) == {date(2027, 12, 31): 15}


@pytest.mark.parametrize("code", ["1.4", "4.4b", "5.2c", "6.4b"])
def test_ongoing_periodic_roadmap_and_master_plan_report_every_six_months(plan: Engine, code: str) -> None:
    assert set(_due(plan, code, date(2027, 1, 1), date(2027, 12, 31))) == {date(2027, 6, 30),
                                                                           date(2027, 12, 31)}


def test_classes_are_expanded_to_their_members(plan: Engine) -> None:
    # 4.1b: "Các Sở, ban, ngành" (14 departments), "UBND cấp huyện" (14 districts), "UBND cấp xã" (none
    # loaded) -> 28 agencies, each owing its own report.
    with session_scope(plan) as s:
        found = [d for d in deadlines_between(s, plan_of(s), date(2027, 6, 30), date(2027, 6, 30), RULES)
                 if d.task_id == s.exec(select(Task.id).where(Task.code == "4.1b")).one()]
        assert len({d.agency_id for d in found}) == len(found) == 28
        assert agency(s, "SNV").id in {d.agency_id for d in found}
        assert agency(s, "HA-LONG").id in {d.agency_id for d in found}


def test_event_driven_tasks_owe_nothing_until_an_event(plan: Engine) -> None:
    assert _due(plan, "2.3c", date(2026, 1, 1), date(2028, 12, 31)) == {}
    assert _due(plan, "1.2", date(2026, 1, 1), date(2028, 12, 31)) == {}


@time_machine.travel(local(2026, 12, 1, 10), tick=False)
def test_recorded_event_opens_a_deadline_for_every_owing_agency(plan: Engine) -> None:
    with session_scope(plan) as s:
        event = events.record_event(s, plan=plan_of(s), task_code="2.3c", occurred_on=date(2026, 11, 20),
                                    days_allowed=30, today=date(2026, 12, 1), limits=LIMITS, note="QĐ 1")
        sync_items(s, plan_of(s), date(2026, 12, 1), RULES)
        items = list(s.exec(select(Item).where(Item.event_id == event.id)))
    # Văn phòng UBND tỉnh, Sở TN&MT and the 14 districts
    assert len(items) == 16 and {i.due_on for i in items} == {date(2026, 12, 20)}
    assert {i.period_key for i in items} == {f"E{event.id}"} and {i.period_kind for i in items} == {"event"}
    assert _due(plan, "2.3c", date(2026, 12, 1), date(2026, 12, 31)) == {date(2026, 12, 20): 16}


@time_machine.travel(local(2026, 12, 1, 10), tick=False)
def test_milestones_add_deadlines_to_roadmap_tasks(plan: Engine) -> None:
    with session_scope(plan) as s:
        events.add_milestone(s, plan=plan_of(s), task_code="5.2d", due_on=date(2027, 3, 15),
                             target="over 90% of communes")
        assert [(m.code, m.due_on, m.target) for m in events.list_milestones(s, plan_of(s))] == [
            ("5.2d", date(2027, 3, 15), "over 90% of communes")]
    assert _due(plan, "5.2d", date(2027, 1, 1), date(2027, 6, 30)) == {date(2027, 3, 15): 14,
                                                                       date(2027, 6, 30): 14}
    with session_scope(plan) as s, pytest.raises(events.EventError, match="has no milestones"):
        events.add_milestone(s, plan=plan_of(s), task_code="1.1", due_on=date(2027, 3, 15))


def test_nothing_is_owed_before_the_plan_is_active_or_after_it_is_archived(plan: Engine) -> None:
    set_active_from(plan, date(2027, 4, 1))
    assert _due(plan, "6.1b", date(2027, 1, 1), date(2027, 12, 31)) == {
        date(2027, 6, 30): 1, date(2027, 9, 30): 1, date(2027, 12, 31): 1}
    # cadences repeat while the plan is active: years later it still owes
    assert _due(plan, "6.1b", date(2031, 1, 1), date(2031, 3, 31)) == {date(2031, 3, 31): 1}
    with session_scope(plan) as s:
        s.execute(update(Plan).values(archived_at=utcnow()))
        p = s.exec(select(Plan)).one()
        assert deadlines_between(s, p, date(2027, 1, 1), date(2027, 12, 31), RULES) == []


def test_due_days_come_from_settings(plan: Engine) -> None:
    settings = load_settings(due_quarterly="20-03,20-06,20-09,20-12", due_semiannual="15-06,15-12",
                             due_annual="25-12")
    rules = schedule_rules(settings).due
    assert set(_due(plan, "6.1b", date(2027, 1, 1), date(2027, 12, 31), rules)) == {
        date(2027, 3, 20), date(2027, 6, 20), date(2027, 9, 20), date(2027, 12, 20)}
    assert set(_due(plan, "1.4", date(2027, 1, 1), date(2027, 12, 31), rules)) == {
        date(2027, 6, 15), date(2027, 12, 15)}
    assert set(_due(plan, "2.1", date(2027, 1, 1), date(2027, 12, 31), rules)) == {date(2027, 12, 25)}


@pytest.mark.parametrize(("name", "value", "message"), [
    ("due_semiannual", "31-06,31-12", "June has only 30 days"),
    ("due_quarterly", "31-03,30-06,31-09,31-12", "September has only 30 days"),
    ("due_annual", "29-02", "February 29"),
    ("due_quarterly", "31-03,30-06", "needs 4 due days"),
])
def test_a_due_day_that_does_not_exist_is_refused(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as info:
        load_settings(**{name: value})
    assert "DONDOC_DUE_" in str(info.value)


@time_machine.travel(local(2026, 12, 1, 10), tick=False)
def test_sync_items_is_idempotent(plan: Engine) -> None:
    with session_scope(plan) as s:
        first = sync_items(s, plan_of(s), date(2026, 12, 1), RULES)
        again = sync_items(s, plan_of(s), date(2026, 12, 1), RULES)
        count = s.exec(select(func.count()).select_from(Item)).one()
    assert first == count > 0 and again == 0


@pytest.mark.parametrize(("code", "occurred", "days", "message"), [
    ("9.9", date(2026, 11, 20), 30, "no such task"),
    ("1.1", date(2026, 11, 20), 30, "not event-driven"),
    ("2.3a", date(2026, 10, 1), 30, "too far in the past"),
    ("2.3a", date(2027, 3, 1), 30, "too far in the future"),
    ("2.3a", date(2026, 11, 20), 0, "days allowed"),
    ("2.3a", date(2026, 11, 20), 367, "days allowed"),
])
@time_machine.travel(local(2026, 12, 1, 10), tick=False)
def test_bad_events_are_refused_and_change_nothing(plan: Engine, code: str, occurred: date, days: int,
                                                   message: str) -> None:
    with session_scope(plan) as s, pytest.raises(events.EventError, match=message):
        events.record_event(s, plan=plan_of(s), task_code=code, occurred_on=occurred, days_allowed=days,
                            today=date(2026, 12, 1), limits=LIMITS)
    with session_scope(plan) as s:
        assert s.exec(select(func.count()).select_from(Event)).one() == 0
        assert s.exec(select(func.count()).select_from(Milestone)).one() == 0
        assert s.exec(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "event.record")).one() == 0


def test_event_limits_are_inclusive() -> None:
    today = date(2026, 12, 1)
    events.check_event_date(today - timedelta(days=30), today=today, limits=LIMITS)
    events.check_event_date(today + timedelta(days=60), today=today, limits=LIMITS)

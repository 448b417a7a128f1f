"""Explanation requests as services (issue 13, item 4): who may ask and answer, one open request
per item, the ledger rows they queue, the rows the exports read (models.explanations)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, update
from sqlmodel import col, select

from domain.access import Actor, NotAllowed, Scope
from domain.calendar import WorkingCalendar
from domain.slots import COORDINATOR, FOCAL_POINT, ReminderPolicy, explanation_slots
from models import explanations as svc
from models import ledger
from models.changes import EXPLANATIONS, counters
from models.db import session_scope
from models.members import load_actor
from models.reports import EvidenceFile
from models.rollup import parse_period
from models.tables import (
    Agency,
    Delivery,
    DeliveryState,
    ExplanationRequest,
    Item,
    Member,
    MemberRole,
    Plan,
)
from tests.leaders_world import COORD_EN, COORD_VI, FP_EN, FP_VI, LEADER_VI, OTHER_FP, World, build

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=TZ)  # a Wednesday
OUTSIDER = 5010  # a leader of Móng Cái: Hạ Long is outside his scope


@pytest.fixture
def world(plan_engine: Engine) -> World:
    found = build(plan_engine, NOW.date())
    with session_scope(plan_engine) as s:
        s.execute(update(Item).where(col(Item.id) == found.item)
                  .values(due_on=NOW.date() - timedelta(days=10)))
        s.add(Member(telegram_user_id=OUTSIDER, agency_id=found.mong_cai, role=MemberRole.LEADER.value,
                     full_name="Ông Bình", language="vi"))
    return found


def who(engine: Engine, telegram_id: int) -> Actor:
    with session_scope(engine) as s:
        return load_actor(s, telegram_id, frozenset())


def ask(engine: Engine, telegram_id: int, item_id: int, question: str = "") -> svc.Asked:
    actor = who(engine, telegram_id)
    draft = svc.start_request(engine, actor, item_id, NOW, TZ)
    assert isinstance(draft, svc.AskDraft)
    if question:
        svc.set_question(engine, actor, question, NOW, TZ)
    return svc.send_request(engine, actor, draft.draft_id, NOW, TZ, days=3)


def notices(engine: Engine, prefix: str) -> dict[int, str]:
    with session_scope(engine) as s:
        return {d.chat_id: d.state for d in s.exec(select(Delivery)) if d.key.startswith(prefix)}


def test_a_request_reaches_the_agency_once_and_is_due_in_three_working_days(
        plan_engine: Engine, world: World) -> None:
    before = counters_now(plan_engine)
    asked = ask(plan_engine, COORD_EN, world.item, "Vì sao chậm?")
    assert asked.new and asked.told == 3
    # Wednesday + 3 working days: Monday (the weekend does not count).
    assert asked.due_on == WorkingCalendar().add_working_days(NOW.date(), 3) == date(2026, 12, 7)
    assert notices(plan_engine, f"explain:{asked.request_id}:") == {
        FP_VI: "pending", FP_EN: "pending", LEADER_VI: "pending"}
    assert counters_now(plan_engine) > before  # the planner hears of it (migration 0015)
    # Pressing again shows the open request; a second draft sent meanwhile asks nothing more.
    again = svc.start_request(plan_engine, who(plan_engine, COORD_VI), world.item, NOW, TZ)
    assert isinstance(again, svc.AlreadyAsked) and again.request_id == asked.request_id
    with session_scope(plan_engine) as s:
        requests = list(s.exec(select(ExplanationRequest)))
    assert [(r.item_id, r.state, r.question) for r in requests] == [(world.item, "open", "Vì sao chậm?")]


def test_a_second_draft_sent_after_the_first_joins_the_open_request(
        plan_engine: Engine, world: World) -> None:
    late = who(plan_engine, COORD_VI)
    draft = svc.start_request(plan_engine, late, world.item, NOW, TZ)
    assert isinstance(draft, svc.AskDraft)
    first = ask(plan_engine, COORD_EN, world.item)
    second = svc.send_request(plan_engine, late, draft.draft_id, NOW, TZ)
    assert second.request_id == first.request_id and not second.new and second.told == 0
    assert len(notices(plan_engine, "explain:")) == 3


def counters_now(engine: Engine) -> int:
    with session_scope(engine) as s:
        return counters(s)[EXPLANATIONS]


def test_who_may_ask(plan_engine: Engine, world: World) -> None:
    with pytest.raises(NotAllowed):  # a focal point asks nobody to explain
        svc.start_request(plan_engine, who(plan_engine, FP_VI), world.item, NOW, TZ)
    with pytest.raises(NotAllowed) as refused:  # a leader outside his scope
        svc.start_request(plan_engine, who(plan_engine, OUTSIDER), world.item, NOW, TZ)
    assert refused.value.reason == "scope"
    # The agency's own leader may (his scope holds it); an item not yet due may not be asked about.
    assert isinstance(svc.start_request(plan_engine, who(plan_engine, LEADER_VI), world.item, NOW, TZ),
                      svc.AskDraft)
    with session_scope(plan_engine) as s:
        s.execute(update(Item).where(col(Item.id) == world.item).values(due_on=NOW.date()))
    with pytest.raises(svc.Refused) as late:
        svc.start_request(plan_engine, who(plan_engine, COORD_EN), world.item, NOW, TZ)
    assert late.value.code == "not_overdue"
    with session_scope(plan_engine) as s:
        assert list(s.exec(select(ExplanationRequest))) == []


def test_the_answer_is_stored_the_requester_told_and_the_reminders_dropped(
        plan_engine: Engine, world: World) -> None:
    asked = ask(plan_engine, COORD_EN, world.item, "Vì sao chậm?")
    with pytest.raises(NotAllowed):  # another agency's focal point
        svc.start_answer(plan_engine, who(plan_engine, OTHER_FP), asked.request_id, NOW)
    with pytest.raises(NotAllowed):  # the coordinator who asked
        svc.start_answer(plan_engine, who(plan_engine, COORD_EN), asked.request_id, NOW)
    answerer = who(plan_engine, FP_EN)
    draft = svc.start_answer(plan_engine, answerer, asked.request_id, NOW)
    assert draft.question == "Vì sao chậm?" and draft.requester == "Hoa (SNV)"
    with pytest.raises(svc.Refused) as empty:
        svc.submit_answer(plan_engine, answerer, draft.draft_id, NOW)
    assert empty.value.code == "empty"
    with pytest.raises(svc.Refused) as kind:
        svc.set_answer_file(plan_engine, answerer, EvidenceFile("document", "f0", "u0", "x.exe", "", 10), NOW)
    assert kind.value.code == "file_type"
    svc.set_answer_text(plan_engine, answerer, "Chờ kinh phí", NOW)
    svc.set_answer_file(plan_engine, answerer, EvidenceFile("document", "f1", "u1", "giai-trinh.pdf",
                                                            "application/pdf", 100), NOW)
    done = svc.submit_answer(plan_engine, answerer, draft.draft_id, NOW + timedelta(hours=1))
    assert done.requester == "Hoa (SNV)"
    with session_scope(plan_engine) as s:
        request = s.get(ExplanationRequest, asked.request_id)
        assert request is not None
        assert (request.state, request.answer_text, request.answer_file_id, request.answer_file_name) == (
            "answered", "Chờ kinh phí", "f1", "giai-trinh.pdf")
        rows = list(s.exec(select(Delivery).where(col(Delivery.ref_id) == asked.request_id)))
    asks = {r.chat_id: (r.state, r.last_error) for r in rows if r.slot_kind == ledger.EXPLAIN_NOTICE}
    assert set(asks.values()) == {(DeliveryState.SKIPPED.value, "the request was answered")}
    assert [r.chat_id for r in rows if r.slot_kind == ledger.EXPLAINED_NOTICE] == [COORD_EN]
    with pytest.raises(svc.Refused) as closed:  # answered: nobody answers it again
        svc.start_answer(plan_engine, who(plan_engine, FP_VI), asked.request_id, NOW)
    assert closed.value.code == "closed"
    # A new request may be made once the first is answered.
    assert isinstance(svc.start_request(plan_engine, who(plan_engine, COORD_VI), world.item, NOW, TZ),
                      svc.AskDraft)


def test_for_period_lists_the_requests_of_the_scope(plan_engine: Engine, world: World) -> None:
    asked = ask(plan_engine, COORD_EN, world.item, "Vì sao chậm?")
    answerer = who(plan_engine, FP_VI)
    draft = svc.start_answer(plan_engine, answerer, asked.request_id, NOW)
    svc.set_answer_text(plan_engine, answerer, "Chờ kinh phí", NOW)
    svc.submit_answer(plan_engine, answerer, draft.draft_id, NOW)
    with session_scope(plan_engine) as s:
        plan = s.exec(select(Plan)).one()
        item = s.get(Item, world.item)
        assert plan.id is not None and item is not None
        period = parse_period(item.period_key)
        (row,) = svc.for_period(s, plan.id, period, Scope())
        assert (row.task_code, row.agency, row.requested_by, row.question, row.state, row.answered_by,
                row.answer_text) == ("1.1", "UBND thành phố Hạ Long", "Hoa (SNV)", "Vì sao chậm?",
                                     "answered", "Lan <Hạ Long>", "Chờ kinh phí")
        assert row.due_on == date(2026, 12, 7) and row.answered_at is not None
        assert svc.for_period(s, plan.id, period, Scope(world.mong_cai, subtree=False)) == []
        assert svc.for_period(s, plan.id, parse_period("2025-Q1"), Scope()) == []
        ha_long = s.get(Agency, world.ha_long)
        assert ha_long is not None and svc.for_item(s, world.item) == [row]


def test_explanation_slots_before_on_and_after_the_due_day() -> None:
    calendar, policy = WorkingCalendar(), ReminderPolicy()
    slots = explanation_slots(date(2026, 12, 2), date(2026, 12, 7), calendar=calendar, policy=policy, tz=TZ)
    assert [(s.at.date(), s.kind, s.offset_days) for s in slots] == [
        (date(2026, 12, 4), "before", 1),  # Friday: the working day before Monday's due day
        (date(2026, 12, 7), "due", 0),
        (date(2026, 12, 8), "overdue", 1), (date(2026, 12, 10), "overdue", 3),
        (date(2026, 12, 16), "overdue", 7)]
    assert {s.at.hour for s in slots} == {8} and slots[0].audience == {FOCAL_POINT}
    assert all(s.audience == {FOCAL_POINT, COORDINATOR} for s in slots[2:])  # late: the requester too
    # Asked the day before it is due: no reminder on the day it was asked.
    soon = explanation_slots(date(2026, 12, 4), date(2026, 12, 7), calendar=calendar, policy=policy, tz=TZ)
    assert [s.at.date() for s in soon][:2] == [date(2026, 12, 7), date(2026, 12, 8)]

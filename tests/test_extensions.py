"""Extension requests: the rules (domain/extensions.py) and the services (models/extensions.py)
on both backends: asking, the limits, approving, shortening, refusing, deciding twice, the
item's first date kept, the notices on the ledger and the rows the reports read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.access import EVERYTHING, NotAllowed
from domain.extensions import (
    ExtensionLimits,
    ExtensionRefused,
    check_may_ask,
    check_new_date,
    check_shortened,
)
from domain.periods import DueRules, Period
from models import extensions as ext
from models import items as items_service
from models.db import session_scope
from models.members import actor_of
from models.reporting import Clock
from models.tables import (
    AuditLog,
    Delivery,
    ExtensionDraft,
    ExtensionRequest,
    Item,
    ItemState,
    Member,
    MemberRole,
    Plan,
)
from scheduler.deadlines import sync_items
from tests.test_reports import HA_LONG, SO_NOI_VU, add_member

TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
CLOCK = Clock(NOW, TODAY, timedelta(hours=2))
LIMITS = ExtensionLimits(max_per_item=2, latest_days=30)


# --------------------------------------------------------------------------- the rules

def test_a_request_must_ask_for_a_later_date_not_in_the_past() -> None:
    due = date(2026, 12, 31)
    check_new_date(date(2027, 1, 15), due_on=due, today=TODAY)
    for day, reason in ((date(2026, 11, 1), "past"), (due, "not_later"), (date(2026, 12, 1), "not_later"),
                        (date(2028, 1, 1), "too_far")):
        with pytest.raises(ExtensionRefused) as refused:
            check_new_date(day, due_on=due, today=TODAY)
        assert refused.value.reason == reason


def test_limits_pending_closed_and_too_late() -> None:
    due = date(2026, 11, 20)
    check_may_ask(due_on=due, today=TODAY, is_open=True, pending=False, earlier=1, limits=LIMITS)
    cases: list[tuple[dict[str, object], str]] = [
        ({"is_open": False}, "closed"), ({"pending": True}, "pending"), ({"earlier": 2}, "limit")]
    for change, reason in cases:
        args = {"due_on": due, "today": TODAY, "is_open": True, "pending": False, "earlier": 0, **change}
        with pytest.raises(ExtensionRefused) as refused:
            check_may_ask(limits=LIMITS, **args)  # type: ignore[arg-type]
        assert refused.value.reason == reason
    with pytest.raises(ExtensionRefused) as late:
        check_may_ask(due_on=TODAY - timedelta(days=31), today=TODAY, is_open=True, pending=False, earlier=0,
                      limits=LIMITS)
    assert late.value.reason == "too_late" and late.value.params == {"n": 30}
    check_may_ask(due_on=TODAY - timedelta(days=30), today=TODAY, is_open=True, pending=False, earlier=0,
                  limits=LIMITS)


def test_a_shortened_date_lies_between_the_date_in_force_and_the_one_asked() -> None:
    due, asked = date(2026, 12, 31), date(2027, 2, 28)
    check_shortened(date(2027, 1, 31), due_on=due, requested=asked, today=TODAY)
    for day in (due, asked, date(2027, 3, 1)):
        with pytest.raises(ExtensionRefused) as refused:
            check_shortened(day, due_on=due, requested=asked, today=TODAY)
        assert refused.value.reason == "not_shorter"


# --------------------------------------------------------------------------- the services

@pytest.fixture
def world(plan_engine: Engine) -> dict[str, int]:
    with session_scope(plan_engine) as s:
        plan = s.exec(select(Plan)).one()
        sync_items(s, plan, TODAY, DueRules())
        ids = {"fp": add_member(s, 101, HA_LONG, MemberRole.FOCAL_POINT, name="Trần Thị Đầu Mối").id,
               "coord": add_member(s, 301, SO_NOI_VU, MemberRole.COORDINATOR, name="Lê Văn Điều Phối").id,
               "coord2": add_member(s, 302, SO_NOI_VU, MemberRole.COORDINATOR).id,
               "local": add_member(s, 303, 22, MemberRole.COORDINATOR).id,
               "other": add_member(s, 201, 22, MemberRole.FOCAL_POINT).id}
        ids["item"] = items_service.reportable_items(s, HA_LONG, TODAY)[0].item_id
        ids["plan"] = plan.id or 0
    return ids  # type: ignore[return-value]


def who(engine: Engine, ids: dict[str, int], name: str):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        member = s.get(Member, ids[name])
        return actor_of(s, member)


def item(engine: Engine, ids: dict[str, int]) -> Item:
    with Session(engine) as s:
        found = s.get(Item, ids["item"])
        assert found is not None
        return found


def request(engine: Engine, ids: dict[str, int], day: str = "15/1/2027",
            reason: str = "Chờ số liệu của cấp xã") -> ext.ExtensionRow:
    fp = who(engine, ids, "fp")
    asking = ext.ask(engine, fp, ids["item"], CLOCK, LIMITS)
    assert asking.step == ext.STEP_DATE
    typed = ext.take_typed(engine, fp, CLOCK, LIMITS, day)
    assert typed is not None and typed.outcome == "asking" and typed.asking is not None
    assert typed.asking.step == ext.STEP_REASON
    typed = ext.take_typed(engine, fp, CLOCK, LIMITS, reason)
    assert typed is not None and typed.asking is not None and typed.asking.step == ext.STEP_CONFIRM
    return ext.confirm(engine, fp, CLOCK, LIMITS, typed.asking.draft_id)


def notices(engine: Engine, detail: str) -> list[Delivery]:
    with Session(engine) as s:
        query = select(Delivery).where(col(Delivery.slot_kind) == detail).order_by(col(Delivery.id))
        return list(s.exec(query))


def test_request_then_approve_moves_the_date_and_keeps_the_first(plan_engine: Engine,
                                                                  world: dict[str, int]) -> None:
    first_due = item(plan_engine, world).due_on
    asked = request(plan_engine, world)
    assert (asked.state, asked.requested_due_on, asked.due_on_before) == \
        ("pending", date(2027, 1, 15), first_due)
    # Told: the coordinators whose scope holds Hạ Long (Sở Nội vụ's two), not Móng Cái's.
    told = {d.member_id for d in notices(plan_engine, "ext_ask")}
    assert told == {world["coord"], world["coord2"]}
    decided = ext.press(plan_engine, who(plan_engine, world, "coord"), CLOCK, asked.request_id, ext.APPROVE)
    assert isinstance(decided, ext.ExtensionRow)
    assert (decided.state, decided.decided_due_on, decided.decided_by) == \
        ("approved", date(2027, 1, 15), "Lê Văn Điều Phối")
    now = item(plan_engine, world)
    assert (now.due_on, now.original_due_on) == (date(2027, 1, 15), first_due)
    assert {d.member_id for d in notices(plan_engine, "ext_done")} == {world["fp"]}
    # Pressed again, or by the other coordinator: decided once.
    for name in ("coord", "coord2"):
        with pytest.raises(ExtensionRefused) as again:
            ext.press(plan_engine, who(plan_engine, world, name), CLOCK, asked.request_id, ext.APPROVE)
        assert again.value.reason == "decided"
    with Session(plan_engine) as s:
        actions = [a.action for a in s.exec(select(AuditLog).where(AuditLog.entity == "extension_request"))]
        rows = ext.for_period(s, world["plan"], Period("2026-Q4", "quarter", date(2026, 10, 1),
                                                       date(2026, 12, 31), first_due), EVERYTHING)
    assert actions == ["extension.request", "extension.approved"]
    assert [(r.state, r.original_due_on, r.decided_due_on, r.requested_by) for r in rows] == \
        [("approved", first_due, date(2027, 1, 15), "Trần Thị Đầu Mối")]


def test_a_second_approved_extension_keeps_the_very_first_date(plan_engine: Engine,
                                                               world: dict[str, int]) -> None:
    first_due = item(plan_engine, world).due_on
    coord = who(plan_engine, world, "coord")
    ext.press(plan_engine, coord, CLOCK, request(plan_engine, world).request_id, ext.APPROVE)
    ext.press(plan_engine, coord, CLOCK, request(plan_engine, world, "20/2/2027").request_id, ext.APPROVE)
    now = item(plan_engine, world)
    assert (now.due_on, now.original_due_on) == (date(2027, 2, 20), first_due)
    with pytest.raises(ExtensionRefused) as limit:  # two per item
        ext.ask(plan_engine, who(plan_engine, world, "fp"), world["item"], CLOCK, LIMITS)
    assert limit.value.reason == "limit"


def test_shorten_and_refuse_take_typed_text(plan_engine: Engine, world: dict[str, int]) -> None:
    first_due = item(plan_engine, world).due_on
    coord = who(plan_engine, world, "coord")
    asked = request(plan_engine, world, "28/2/2027")
    asking = ext.press(plan_engine, coord, CLOCK, asked.request_id, ext.SHORTEN)
    assert isinstance(asking, ext.Asking) and asking.step == ext.STEP_SHORTEN
    wrong = ext.take_typed(plan_engine, coord, CLOCK, LIMITS, "1/3/2027")  # later than asked
    assert wrong is not None and wrong.outcome == "retry" and wrong.error is not None
    assert wrong.error.reason == "not_shorter"
    done = ext.take_typed(plan_engine, coord, CLOCK, LIMITS, "31/1/2027")
    assert done is not None and done.outcome == "decided" and done.decided is not None
    assert (done.decided.state, done.decided.decided_due_on) == ("shortened", date(2027, 1, 31))
    assert item(plan_engine, world).due_on == date(2027, 1, 31)
    # The second request is refused with a reason: the date stays.
    asked = request(plan_engine, world, "28/2/2027")
    ext.press(plan_engine, coord, CLOCK, asked.request_id, ext.REFUSE)
    refused = ext.take_typed(plan_engine, coord, CLOCK, LIMITS, "Không có căn cứ")
    assert refused is not None and refused.decided is not None
    assert (refused.decided.state, refused.decided.decision_reason) == ("refused", "Không có căn cứ")
    now = item(plan_engine, world)
    assert (now.due_on, now.original_due_on) == (date(2027, 1, 31), first_due)
    with Session(plan_engine) as s:
        assert s.exec(select(ExtensionDraft)).all() == []


def test_refusals_change_nothing(plan_engine: Engine, world: dict[str, int]) -> None:
    fp, other = who(plan_engine, world, "fp"), who(plan_engine, world, "other")
    with pytest.raises(NotAllowed):  # not the agency's item
        ext.ask(plan_engine, other, world["item"], CLOCK, LIMITS)
    ext.ask(plan_engine, fp, world["item"], CLOCK, LIMITS)
    for text, reason in (("not a date", "not_date"), ("1/1/2020", "past"), ("32/1/2027", "not_date")):
        typed = ext.take_typed(plan_engine, fp, CLOCK, LIMITS, text)
        assert typed is not None and typed.outcome == "retry" and typed.error is not None
        assert typed.error.reason == reason
    asked = request(plan_engine, world)
    with pytest.raises(ExtensionRefused) as pending:
        ext.ask(plan_engine, fp, world["item"], CLOCK, LIMITS)
    assert pending.value.reason == "pending"
    with pytest.raises(NotAllowed):  # a focal point cannot decide
        ext.press(plan_engine, fp, CLOCK, asked.request_id, ext.APPROVE)
    with pytest.raises(NotAllowed):  # Móng Cái's coordinator: not in scope
        ext.press(plan_engine, who(plan_engine, world, "local"), CLOCK, asked.request_id, ext.APPROVE)
    with Session(plan_engine) as s:
        assert [r.state for r in s.exec(select(ExtensionRequest))] == ["pending"]


def test_a_request_on_an_item_finished_meanwhile_is_withdrawn(plan_engine: Engine,
                                                              world: dict[str, int]) -> None:
    asked = request(plan_engine, world)
    with session_scope(plan_engine) as s:
        found = s.get(Item, world["item"])
        assert found is not None
        found.state = ItemState.REPORTED.value
        s.add(found)
    with pytest.raises(ExtensionRefused) as closed:
        ext.press(plan_engine, who(plan_engine, world, "coord"), CLOCK, asked.request_id, ext.APPROVE)
    assert closed.value.reason == "closed"
    with Session(plan_engine) as s:
        assert [r.state for r in s.exec(select(ExtensionRequest))] == ["withdrawn"]


def test_the_item_sync_leaves_an_extended_date_alone(plan_engine: Engine, world: dict[str, int]) -> None:
    first_due = item(plan_engine, world).due_on
    ext.press(plan_engine, who(plan_engine, world, "coord"), CLOCK, request(plan_engine, world).request_id,
              ext.APPROVE)
    with session_scope(plan_engine) as s:  # every begun period stored again, as after a registry change
        plan = s.exec(select(Plan)).one()
        sync_items(s, plan, TODAY + timedelta(days=40), DueRules())
    again = item(plan_engine, world)
    assert (again.due_on, again.original_due_on) == (date(2027, 1, 15), first_due)

"""Planning reminders: turn open items and the reminder policy into delivery-ledger rows.

Rows are keyed (item, recipient, slot), inserted with ON CONFLICT DO NOTHING, so planning can
run any number of times, on any number of instances, and a row is never planned twice. Only
slots near now are planned (from ``now - grace`` to ``now + LOOKAHEAD``): a slot missed by
more than the grace window is never planned, so it collapses into the next one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, col, select

from domain.calendar import WorkingCalendar
from domain.rules import ScheduleRules, item_window
from domain.slots import COORDINATOR, FOCAL_POINT, LEADER, OVERDUE, Slot, SlotCache, explanation_slots
from models import ledger
from models.explanations import OpenExplanation, open_for_planning
from models.tables import (
    OPEN_STATES,
    DeliveryState,
    Item,
    Member,
    MemberRole,
    Plan,
    Task,
)

LOOKAHEAD = timedelta(hours=36)
REMINDER = "reminder"


def reminder_key(item_id: int, member_id: int, slot_at: datetime) -> str:
    return f"rem:{item_id}:{member_id}:{slot_at.astimezone(UTC):%Y%m%dT%H%M}"


@dataclass(frozen=True)
class Person:
    """A reachable member, as the planner needs them (a plain row, not an ORM object)."""

    id: int
    telegram_user_id: int


@dataclass(frozen=True)
class Recipients:
    """Who hears about an agency's items, by audience."""

    focal_points: dict[int, list[Person]]
    leaders: dict[int, list[Person]]
    coordinators: list[Person]

    def for_slot(self, agency_id: int, slot: Slot) -> list[tuple[str, Person]]:
        found = [(FOCAL_POINT, m) for m in self.focal_points.get(agency_id, [])]
        if LEADER in slot.audience:
            found += [(LEADER, m) for m in self.leaders.get(agency_id, [])]
        if COORDINATOR in slot.audience:
            found += [(COORDINATOR, m) for m in self.coordinators]
        return found

    def agencies(self) -> set[int]:
        """Agencies with someone of their own to remind."""
        return set(self.focal_points) | set(self.leaders)


def reachable_members(session: Session) -> Recipients:
    query = select(Member.id, Member.telegram_user_id, Member.role, Member.agency_id).where(
        col(Member.active), col(Member.unreachable_at).is_(None))
    focal: dict[int, list[Person]] = defaultdict(list)
    leaders: dict[int, list[Person]] = defaultdict(list)
    coordinators: list[Person] = []
    for member_id, user_id, role, agency_id in session.exec(query):
        assert member_id is not None
        person = Person(member_id, user_id)
        if role == MemberRole.COORDINATOR.value:
            coordinators.append(person)
        elif agency_id is not None and role == MemberRole.FOCAL_POINT.value:
            focal[agency_id].append(person)
        elif agency_id is not None and role == MemberRole.LEADER.value:
            leaders[agency_id].append(person)
    return Recipients(dict(focal), dict(leaders), coordinators)


@dataclass(frozen=True)
class OpenItem:
    id: int
    agency_id: int
    due_on: date
    created_at: datetime


def _plan_ids(plans: Plan | Sequence[Plan]) -> list[int]:
    return [int(p.id or 0) for p in ([plans] if isinstance(plans, Plan) else plans)
            if p.archived_at is None]


def open_items_due_on(session: Session, plans: Plan | Sequence[Plan], days: Iterable[date],
                      agencies: set[int] | None = None) -> list[OpenItem]:
    """Open items of the plans (closed ones left out) due on one of ``days`` (of ``agencies``
    only, if given), as rows."""
    wanted = sorted(set(days))
    plan_ids = _plan_ids(plans)
    if not wanted or agencies == set() or not plan_ids:
        return []
    query = (select(col(Item.id), col(Item.agency_id), col(Item.due_on), col(Item.created_at))
             .join(Task, col(Task.id) == Item.task_id)
             .where(col(Task.plan_id).in_(plan_ids), col(Task.retired_at).is_(None),
                    col(Item.state).in_(OPEN_STATES), col(Item.due_on).in_(wanted)))
    if agencies is not None and len(agencies) <= _IN_LIMIT:
        query = query.where(col(Item.agency_id).in_(sorted(agencies)))
    found = [OpenItem(int(i or 0), a, d, c) for i, a, d, c in session.exec(query)]
    if agencies is not None and len(agencies) > _IN_LIMIT:
        found = [i for i in found if i.agency_id in agencies]
    return found


_IN_LIMIT = 2000  # beyond this many agencies, filter the rows here rather than in the query


def _rows_for_item(item: OpenItem, slots: Iterable[Slot], recipients: Recipients,
                   now: datetime) -> list[dict[str, object]]:
    rows = []
    for slot in slots:
        at = slot.at.astimezone(UTC)
        for audience, member in recipients.for_slot(item.agency_id, slot):
            rows.append({
                "key": reminder_key(item.id, member.id, slot.at), "kind": REMINDER,
                "chat_id": member.telegram_user_id, "member_id": member.id, "item_id": item.id,
                "slot_at": at, "slot_kind": slot.kind, "offset_days": slot.offset_days,
                "audience": audience, "state": DeliveryState.PENDING.value, "attempts": 0,
                "next_attempt_at": at, "last_error": "", "created_at": now})
    return rows


def plan_reminders(session: Session, plans: Plan | Sequence[Plan], now: datetime, rules: ScheduleRules,
                   calendar: WorkingCalendar, cache: SlotCache | None = None) -> int:
    """Add the ledger rows of every reminder slot in [now - grace, now + LOOKAHEAD] for the
    items of ``plans`` (the plans in force: all of them at once, since the pending rows of the
    window that are not planned again are skipped; a closed plan's items get none).

    Slots are computed once per due day (``cache``); only the items due on a day with a slot
    in the window are read, and of agencies with nobody to remind only those a coordinator
    would hear about."""
    lo, hi = now - rules.grace, now + LOOKAHEAD
    today = now.astimezone(rules.tz).date()
    cache = cache or SlotCache(calendar, rules.policy, rules.tz)
    first, last = item_window(today, rules)
    in_window: dict[date, list[Slot]] = {}
    day = first
    while day <= last:
        slots = [s for s in cache.slots(day) if lo <= s.at <= hi]
        if slots:
            in_window[day] = slots
        day += timedelta(days=1)
    recipients = reachable_members(session)
    own = recipients.agencies()
    reach_all = {d for d, slots in in_window.items()
                 if recipients.coordinators and any(COORDINATOR in s.audience for s in slots)}
    items = (open_items_due_on(session, plans, reach_all)
             + open_items_due_on(session, plans, set(in_window) - reach_all, own))
    stamp = datetime.now(UTC)
    rows: list[dict[str, object]] = []
    for item in items:
        opened = item.created_at.astimezone(rules.tz).date()
        slots = [s for s in in_window[item.due_on] if s.at.date() >= opened]
        if slots:
            rows += _rows_for_item(item, slots, recipients, stamp)
    ledger.skip_unplanned_reminders(session, item_ids=None, wanted={str(r["key"]) for r in rows},
                                    since=lo, until=hi)
    return ledger.plan(session, rows)


def explanation_key(request_id: int, member_id: int, slot_at: datetime) -> str:
    return f"exr:{request_id}:{member_id}:{slot_at.astimezone(UTC):%Y%m%dT%H%M}"


def plan_explanation_reminders(session: Session, now: datetime, rules: ScheduleRules,
                               calendar: WorkingCalendar) -> int:
    """Ledger rows for the open explanation requests' reminders in [now - grace, now +
    LOOKAHEAD] (domain.slots.explanation_slots): to the asked agency's focal points and
    leaders, and once late to the requester too. Run with the reminders' planning, i.e. when the
    change counters (an ``explanations`` one among them) or the day moved."""
    lo, hi = now - rules.grace, now + LOOKAHEAD
    requests = open_for_planning(session, rules.tz)
    people = reachable_members(session) if requests else None
    askers = _reachable_by_id(session, {r.requested_by for r in requests})
    rows: list[dict[str, object]] = []
    for request in requests:
        assert people is not None
        agency = [*people.focal_points.get(request.agency_id, []), *people.leaders.get(request.agency_id, [])]
        for slot in explanation_slots(request.asked_on, request.due_on, calendar=calendar,
                                      policy=rules.policy, tz=rules.tz):
            if lo <= slot.at <= hi:
                rows += _explanation_rows(request, slot, agency, askers.get(request.requested_by), now)
    ledger.skip_unplanned_explanation_notices(session, wanted={str(r["key"]) for r in rows}, since=lo,
                                              until=hi)
    return ledger.plan(session, rows)


def _explanation_rows(request: OpenExplanation, slot: Slot, agency: list[Person], asker: Person | None,
                      now: datetime) -> list[dict[str, object]]:
    detail = ledger.EXPLAIN_LATE_NOTICE if slot.kind == OVERDUE else ledger.EXPLAIN_DUE_NOTICE
    told = [(person, detail, FOCAL_POINT) for person in agency]
    if asker is not None and COORDINATOR in slot.audience:
        told.append((asker, ledger.EXPLAIN_ESCALATED_NOTICE, COORDINATOR))
    at = slot.at.astimezone(UTC)
    return [ledger.new_row(key=explanation_key(request.id, person.id, slot.at), kind=ledger.NOTICE,
                           chat_id=person.telegram_user_id, at=at, now=now, member_id=person.id,
                           item_id=request.item_id, ref_id=request.id, detail=what, audience=audience,
                           offset_days=slot.offset_days)
            for person, what, audience in told]


def _reachable_by_id(session: Session, ids: set[int]) -> dict[int, Person]:
    if not ids:
        return {}
    query = select(Member.id, Member.telegram_user_id).where(
        col(Member.id).in_(sorted(ids)), col(Member.active), col(Member.unreachable_at).is_(None))
    return {int(i or 0): Person(int(i or 0), int(t)) for i, t in session.exec(query)}



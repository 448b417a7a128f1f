"""Planning reminders: turn open items and the reminder policy into delivery-ledger rows.

Rows are keyed (item, recipient, slot), inserted with ON CONFLICT DO NOTHING, so planning can
run any number of times, on any number of instances, and a row is never planned twice. Only
slots near now are planned (from ``now - grace`` to ``now + LOOKAHEAD``): a slot missed by
more than the grace window is never planned, so it collapses into the next one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, col, select

from domain.calendar import WorkingCalendar
from domain.rules import ScheduleRules
from domain.slots import COORDINATOR, FOCAL_POINT, LEADER, Slot, plan_slots
from models import ledger
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
class Recipients:
    """Who hears about an agency's items, by audience."""

    focal_points: dict[int, list[Member]]
    leaders: dict[int, list[Member]]
    coordinators: list[Member]

    def for_slot(self, agency_id: int, slot: Slot) -> list[tuple[str, Member]]:
        found = [(FOCAL_POINT, m) for m in self.focal_points.get(agency_id, [])]
        if LEADER in slot.audience:
            found += [(LEADER, m) for m in self.leaders.get(agency_id, [])]
        if COORDINATOR in slot.audience:
            found += [(COORDINATOR, m) for m in self.coordinators]
        return found


def reachable_members(session: Session) -> Recipients:
    query = select(Member).where(col(Member.active), col(Member.unreachable_at).is_(None))
    focal: dict[int, list[Member]] = defaultdict(list)
    leaders: dict[int, list[Member]] = defaultdict(list)
    coordinators: list[Member] = []
    for member in session.exec(query):
        if member.role == MemberRole.COORDINATOR.value:
            coordinators.append(member)
        elif member.agency_id is not None and member.role == MemberRole.FOCAL_POINT.value:
            focal[member.agency_id].append(member)
        elif member.agency_id is not None and member.role == MemberRole.LEADER.value:
            leaders[member.agency_id].append(member)
    return Recipients(dict(focal), dict(leaders), coordinators)


def open_items_due_between(session: Session, plan: Plan, first: date, last: date) -> list[Item]:
    query = (select(Item).join(Task, col(Task.id) == Item.task_id)
             .where(Task.plan_id == plan.id, col(Task.retired_at).is_(None),
                    col(Item.state).in_(OPEN_STATES), col(Item.due_on) >= first,
                    col(Item.due_on) <= last))
    return list(session.exec(query))


def _rows_for_item(item: Item, slots: Iterable[Slot], recipients: Recipients, lo: datetime,
                   hi: datetime) -> list[dict[str, object]]:
    assert item.id is not None
    rows = []
    for slot in slots:
        if not lo <= slot.at <= hi:
            continue
        for audience, member in recipients.for_slot(item.agency_id, slot):
            assert member.id is not None
            rows.append({
                "key": reminder_key(item.id, member.id, slot.at), "kind": REMINDER,
                "chat_id": member.telegram_user_id, "member_id": member.id, "item_id": item.id,
                "slot_at": slot.at.astimezone(UTC), "slot_kind": slot.kind,
                "offset_days": slot.offset_days, "audience": audience,
                "state": DeliveryState.PENDING.value, "attempts": 0,
                "next_attempt_at": slot.at.astimezone(UTC), "last_error": "",
                "created_at": datetime.now(UTC)})
    return rows


def plan_reminders(session: Session, plan: Plan, now: datetime, rules: ScheduleRules,
                   calendar: WorkingCalendar) -> int:
    """Add the ledger rows of every reminder slot in [now - grace, now + LOOKAHEAD]."""
    lo, hi = now - rules.grace, now + LOOKAHEAD
    today = now.astimezone(rules.tz).date()
    first, last = item_window(today, rules)
    items = open_items_due_between(session, plan, first, last)
    recipients = reachable_members(session)
    rows: list[dict[str, object]] = []
    for item in items:
        opened = item.created_at.astimezone(rules.tz).date()
        slots = plan_slots(item.due_on, calendar=calendar, policy=rules.policy, tz=rules.tz,
                           not_before=opened)
        rows += _rows_for_item(item, slots, recipients, lo, hi)
    _drop_unplanned(session, [i.id for i in items if i.id is not None], {str(r["key"]) for r in rows},
                    lo, hi)
    return ledger.plan(session, rows)


# Reminders move onto working days: a "14 days before" slot can land ~10 days earlier still
# when Tết closes offices, and overdue slots count working days, so look well past the offsets.
_SHIFT_MARGIN = timedelta(days=30)


def item_window(today: date, rules: ScheduleRules) -> tuple[date, date]:
    """Due days of the items that may have a reminder slot around ``today``."""
    longest_before = max(rules.policy.before_days, default=0)
    longest_overdue = max(rules.policy.overdue_working_days, default=0)
    return (today - timedelta(days=2 * longest_overdue) - _SHIFT_MARGIN,
            today + timedelta(days=longest_before) + _SHIFT_MARGIN)


def _drop_unplanned(session: Session, item_ids: list[int], wanted: set[str], lo: datetime,
                    hi: datetime) -> None:
    """Pending reminders in the window that the policy no longer plans (an admin added a day off,
    a member left) are skipped, so a moved reminder is not sent at its old time too."""
    ledger.skip_unplanned_reminders(session, item_ids=item_ids, wanted=wanted, since=lo, until=hi)

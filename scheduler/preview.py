"""What the reminder policy will send in a window: the plan checked before going live.

Computed from the cadences, recorded events and milestones and the owing agencies (whether or
not anyone is registered yet), with the same ``deadlines_between`` and ``plan_slots`` the
planner uses, so the preview and the real schedule cannot drift apart.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from domain.calendar import WorkingCalendar
from domain.rules import ScheduleRules
from domain.slots import FOCAL_POINT, plan_slots
from models.tables import OPEN_STATES, Agency, Event, Item, Member, MemberRole, Plan, Task
from scheduler.deadlines import Deadline, deadlines_between
from scheduler.planner import item_window

AUDIENCE_ORDER = ("focal_point", "leader", "coordinator")

@dataclass(frozen=True)
class PreviewItem:
    task: str
    period: str
    due_on: date

@dataclass(frozen=True)
class PreviewEntry:
    """One reminder message an agency's people would get: when, why, and for which tasks."""

    at: datetime  # aware, local time
    agency: str
    agency_code: str
    kind: str  # before | due | overdue
    offset_days: int
    audience: tuple[str, ...]
    items: tuple[PreviewItem, ...]
    focal_points: int  # registered and reachable focal points of the agency today

    @property
    def tasks(self) -> list[str]:
        return sorted({i.task for i in self.items}, key=_code_key)

    def to_json(self) -> dict[str, object]:
        return {"at": self.at.isoformat(), "agency": self.agency, "agency_code": self.agency_code,
                "tasks": self.tasks, "kind": self.kind, "offset_days": self.offset_days,
                "audience": list(self.audience), "focal_points": self.focal_points,
                "items": [{"task": i.task, "period": i.period, "due_on": i.due_on.isoformat()}
                          for i in self.items]}

def _code_key(code: str) -> tuple[tuple[int, int, str], ...]:
    """Document order of task codes: 2.1 < 2.2a < 2.2b < 2.10."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.findall(r"\d+|\D+", code)
                 if p != ".")

def _not_before(deadline: Deadline, plan: Plan, events: dict[int, Event], tz: object) -> date:
    """The day the item opens (reminders dated earlier are never sent)."""
    opened = max(plan.active_from, deadline.period_start)
    event = events.get(deadline.event_id) if deadline.event_id is not None else None
    if event is not None:
        opened = max(plan.active_from, event.created_at.astimezone(tz).date())  # type: ignore[arg-type]
    elif deadline.milestone_id is not None:
        opened = plan.active_from
    return opened

def _closed_items(session: Session, task_ids: list[int]) -> set[tuple[int, int, str]]:
    query = select(Item.task_id, Item.agency_id, Item.period_key).where(
        col(Item.task_id).in_(task_ids), col(Item.state).not_in(OPEN_STATES))
    return {(t, a, p) for t, a, p in session.exec(query)}

def _focal_counts(session: Session) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    query = select(Member.agency_id).where(Member.role == MemberRole.FOCAL_POINT.value, col(Member.active),
                                           col(Member.unreachable_at).is_(None))
    for agency_id in session.exec(query):
        if agency_id is not None:
            counts[agency_id] += 1
    return counts

def preview(session: Session, plan: Plan, first: date, last: date, *, rules: ScheduleRules,
            calendar: WorkingCalendar, agency_id: int | None = None) -> list[PreviewEntry]:
    """Every reminder the policy plans with a local date in [first, last], by agency and time."""
    lo, _ = item_window(first, rules)
    _, hi = item_window(last, rules)
    deadlines = [d for d in deadlines_between(session, plan, lo, hi, rules.due)
                 if agency_id is None or d.agency_id == agency_id]
    if not deadlines:
        return []
    task_ids = sorted({d.task_id for d in deadlines})
    codes = dict(session.exec(select(Task.id, Task.code).where(col(Task.id).in_(task_ids))).all())
    agencies = {a.id: a for a in session.exec(select(Agency).where(
        col(Agency.id).in_({d.agency_id for d in deadlines})))}
    events = {e.id: e for e in session.exec(select(Event).where(col(Event.task_id).in_(task_ids)))
              if e.id is not None}
    closed = _closed_items(session, task_ids)
    focal = _focal_counts(session)
    grouped: dict[tuple[datetime, int, str, int], tuple[set[str], list[PreviewItem]]] = {}
    for deadline in deadlines:
        if deadline.key in closed:
            continue
        slots = plan_slots(deadline.due_on, calendar=calendar, policy=rules.policy, tz=rules.tz,
                           not_before=_not_before(deadline, plan, events, rules.tz))
        for slot in slots:
            if not first <= slot.at.date() <= last:
                continue
            key = (slot.at, deadline.agency_id, slot.kind, slot.offset_days)
            audience, items = grouped.setdefault(key, (set(), []))
            audience.update(slot.audience)
            items.append(PreviewItem(codes[deadline.task_id], deadline.period_key, deadline.due_on))
    entries = []
    for (at, agency, kind, offset), (audience, items) in grouped.items():
        found = agencies[agency]
        entries.append(PreviewEntry(
            at=at, agency=found.name, agency_code=found.code, kind=kind, offset_days=offset,
            audience=tuple(a for a in AUDIENCE_ORDER if a in audience or a == FOCAL_POINT),
            items=tuple(sorted(items, key=lambda i: (i.due_on, _code_key(i.task)))),
            focal_points=focal.get(agency, 0)))
    return sorted(entries, key=lambda e: (e.at, e.agency_code, e.kind, e.offset_days))

def window_days(first: date, last: date, limit: int = 800) -> int:
    """Days in the window, refusing absurd ones (the preview is for reading)."""
    days = (last - first).days + 1
    if days < 1:
        raise ValueError(f"--to {last.isoformat()} is before --from {first.isoformat()}")
    if days > limit:
        raise ValueError(f"the window is {days} days long; preview at most {limit} days at once")
    return days

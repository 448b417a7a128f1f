"""What the reminder policy will send in a window: the plan checked before going live.

Computed from the cadences, recorded events and milestones and the owing agencies (whether or
not anyone is registered yet), with the planner's slots (``domain.slots.SlotCache``: once per
due day), so the preview and the real schedule cannot drift apart.

Built for a country: agencies that owe the same tasks get the same reminders, so each distinct
set of tasks is worked out once and its :class:`SlotGroup` objects are shared by all the
agencies that owe it (an agency with finished items gets its own). The result is streamed in
time order, one local send time at a time, and never held whole.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import repeat
from operator import attrgetter, itemgetter
from typing import NamedTuple

from sqlmodel import Session, col, select

from domain.calendar import WorkingCalendar
from domain.periods import periods_between
from domain.rules import ScheduleRules, item_window
from domain.slots import FOCAL_POINT, SlotCache
from models.obligations import live_tasks, owing
from models.tables import CLOSED_STATES, Agency, Event, Item, Member, MemberRole, Milestone, Plan

AUDIENCE_ORDER = ("focal_point", "leader", "coordinator")


@dataclass(frozen=True)
class PreviewItem:
    task: str
    period: str
    due_on: date


@dataclass(frozen=True)
class SlotGroup:
    """One reminder message: when, why and for which items (shared by every agency owing the
    same tasks, so render it once per object)."""

    at: datetime  # aware, local time
    kind: str  # before | due | overdue
    offset_days: int
    audience: tuple[str, ...]
    items: tuple[PreviewItem, ...]

    @property
    def tasks(self) -> list[str]:
        return sorted({i.task for i in self.items}, key=_code_key)

    def to_json(self) -> dict[str, object]:
        """The message's part of a preview entry. Its items come as sets sharing a period and a
        due day (``{"due_on", "period", "tasks"}``, by due day and period; tasks in document
        order): the same items, each period and due day written once."""
        sets: dict[tuple[date, str], list[str]] = {}
        for i in self.items:
            sets.setdefault((i.due_on, i.period), []).append(i.task)
        return {"at": self.at.isoformat(), "kind": self.kind, "offset_days": self.offset_days,
                "audience": list(self.audience),
                "items": [{"due_on": due.isoformat(), "period": period, "tasks": sets[due, period]}
                          for due, period in sorted(sets)]}


@dataclass(frozen=True)
class PreviewAgency:
    id: int
    name: str
    code: str
    focal_points: int  # registered and reachable focal points today
    rank: int = 0  # place in (code, id) order among the agencies of one preview

    def to_json(self) -> dict[str, object]:
        return {"agency": self.name, "agency_code": self.code, "focal_points": self.focal_points}


class PreviewEntry(NamedTuple):
    """One reminder message an agency's people would get."""

    agency: PreviewAgency
    group: SlotGroup

    def to_json(self) -> dict[str, object]:
        """What ``dondoc schedule --format json`` writes for it (``JSON_SEPARATORS``)."""
        return {**self.agency.to_json(), **self.group.to_json()}


JSON_SEPARATORS = (",", ":")  # a year for a country is some 120 MB even so


Row = tuple[int, PreviewAgency, SlotGroup]  # (order key, agency, group)


def _code_key(code: str) -> tuple[tuple[int, int, str], ...]:
    """Document order of task codes: 2.1 < 2.2a < 2.2b < 2.10."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.findall(r"\d+|\D+", code)
                 if p != ".")


# (task id, period key, due day, the day the item opens: reminders dated earlier are never sent)
_Deadline = tuple[int, str, date, date]


def _deadlines(session: Session, plan: Plan, task_ids: list[int], cadences: dict[int, str],
               lo: date, hi: date, rules: ScheduleRules,
               dates: dict[int, date | None]) -> dict[int, list[_Deadline]]:
    found: dict[int, list[_Deadline]] = defaultdict(list)
    for task_id in task_ids:
        for period in periods_between(cadences[task_id], lo, hi, rules.due,
                                      due_on=dates.get(task_id), opens=plan.active_from):
            found[task_id].append((task_id, period.key, period.due, max(plan.active_from, period.start)))
    for event in session.exec(select(Event).where(col(Event.task_id).in_(task_ids),
                                                  col(Event.due_on) >= lo, col(Event.due_on) <= hi)):
        opened = max(plan.active_from, event.created_at.astimezone(rules.tz).date())
        found[event.task_id].append((event.task_id, f"E{event.id}", event.due_on, opened))
    for milestone in session.exec(select(Milestone).where(
            col(Milestone.task_id).in_(task_ids), col(Milestone.due_on) >= lo,
            col(Milestone.due_on) <= hi)):
        found[milestone.task_id].append((milestone.task_id, f"M{milestone.id}", milestone.due_on,
                                         plan.active_from))
    return found


def _groups(deadlines: Iterable[_Deadline], codes: dict[int, str], first: date, last: date,
            cache: SlotCache, closed: Collection[tuple[int, str]] = ()) -> list[SlotGroup]:
    grouped: dict[tuple[datetime, str, int], tuple[set[str], list[PreviewItem]]] = {}
    for task_id, period_key, due, opened in deadlines:
        if (task_id, period_key) in closed:
            continue
        item = PreviewItem(codes[task_id], period_key, due)
        for slot in cache.slots(due, opened):
            if not first <= slot.at.date() <= last:
                continue
            audience, items = grouped.setdefault((slot.at, slot.kind, slot.offset_days), (set(), []))
            audience.update(slot.audience)
            items.append(item)
    return [SlotGroup(at, kind, offset,
                      tuple(a for a in AUDIENCE_ORDER if a in audience or a == FOCAL_POINT),
                      tuple(sorted(items, key=lambda i: (i.due_on, _code_key(i.task)))))
            for (at, kind, offset), (audience, items) in grouped.items()]


def _focal_counts(session: Session) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    query = select(Member.agency_id).where(Member.role == MemberRole.FOCAL_POINT.value, col(Member.active),
                                           col(Member.unreachable_at).is_(None))
    for agency_id in session.exec(query):
        if agency_id is not None:
            counts[agency_id] += 1
    return counts


def preview_stream(session: Session, plan: Plan, first: date, last: date, *, rules: ScheduleRules,
                   calendar: WorkingCalendar, agency_id: int | None = None,
                   cache: SlotCache | None = None) -> Iterator[list[Row]]:
    """Every reminder the policy plans with a local date in [first, last], one list per send
    time (in time order) of (order key, agency, group), ordered by agency code, kind and
    offset."""
    lo, _ = item_window(first, rules)
    _, hi = item_window(last, rules)
    lo = max(lo, plan.active_from)
    if hi < lo or plan.archived_at is not None:
        return
    cache = cache or SlotCache(calendar, rules.policy, rules.tz)
    tasks = live_tasks(session, plan)
    codes = {t.id: t.code for t in tasks if t.id is not None}
    task_ids = list(codes)
    owed = owing(session, task_ids)
    deadlines = _deadlines(session, plan, task_ids, {t.id: t.cadence for t in tasks if t.id is not None},
                           lo, hi, rules, {t.id: t.due_on for t in tasks if t.id is not None})
    # Agencies in the same classes, leading the same tasks by name, owe the same: worked out once.
    alike: dict[tuple[tuple[int, ...], tuple[int, ...]], list[int]] = defaultdict(list)
    for owner in owed.agencies() if agency_id is None else owed.agencies() & {agency_id}:
        alike[tuple(sorted(owed.classes.get(owner, ()))),
              tuple(sorted(owed.direct.get(owner, ())))].append(owner)
    by_agency: dict[int, tuple[int, ...]] = {}
    for owners in alike.values():
        owed_tasks = tuple(sorted(t for t in owed.tasks_of(owners[0]) if deadlines.get(t)))
        if owed_tasks:
            by_agency.update(dict.fromkeys(owners, owed_tasks))
    if not by_agency:
        return
    closed: dict[int, set[tuple[int, str]]] = defaultdict(set)
    for owner, task_id, period_key in session.exec(
            select(Item.agency_id, Item.task_id, Item.period_key).where(
                col(Item.task_id).in_(task_ids), col(Item.state).in_(CLOSED_STATES),
                col(Item.due_on) >= lo, col(Item.due_on) <= hi)):
        if owner in by_agency:
            closed[owner].add((task_id, period_key))
    focal = _focal_counts(session)
    names = {a: (n, c) for a, n, c in session.exec(
        select(Agency.id, Agency.name, Agency.code).where(col(Agency.id).in_(list(by_agency))))
        if a is not None} if len(by_agency) < 2000 else {
        a: (n, c) for a, n, c in session.exec(select(Agency.id, Agency.name, Agency.code))
        if a is not None and a in by_agency}
    order = sorted(by_agency, key=lambda a: (names[a][1], a))
    people = {a: PreviewAgency(a, names[a][0], names[a][1], focal.get(a, 0), rank)
              for rank, a in enumerate(order)}
    # Agencies owing the same tasks share their groups; those with finished items get their own.
    shared: dict[tuple[int, ...], list[PreviewAgency]] = defaultdict(list)
    by_time: dict[datetime, list[tuple[list[PreviewAgency], SlotGroup]]] = defaultdict(list)
    for owner, owed_tasks in by_agency.items():
        if owner in closed:
            own = _groups((d for t in owed_tasks for d in deadlines[t]), codes, first, last, cache,
                          closed[owner])
            for group in own:
                by_time[group.at].append(([people[owner]], group))
        else:
            shared[owed_tasks].append(people[owner])
    for signature, sharing in shared.items():
        sharing.sort(key=attrgetter("rank"))
        for group in _groups((d for t in signature for d in deadlines[t]), codes, first, last, cache):
            by_time[group.at].append((sharing, group))
    keys = {id(sharing): [a.rank * 1024 for a in sharing] for sharing, _ in
            (pair for pairs in by_time.values() for pair in pairs)}
    for at in sorted(by_time):
        groups = by_time.pop(at)
        # One agency has at most one group per (kind, offset) at one time: (rank, kind) orders.
        kinds = {k: i for i, k in enumerate(sorted({(g.kind, g.offset_days) for _, g in groups}))}
        rows: list[Row] = []
        for sharing, g in groups:
            kind = kinds[g.kind, g.offset_days]
            ranks = keys[id(sharing)] if kind == 0 else [r + kind for r in keys[id(sharing)]]
            rows.extend(zip(ranks, sharing, repeat(g, len(sharing)), strict=True))
        rows.sort(key=itemgetter(0))  # runs already in order: a merge
        yield rows


def preview(session: Session, plan: Plan, first: date, last: date, *, rules: ScheduleRules,
            calendar: WorkingCalendar, agency_id: int | None = None) -> list[PreviewEntry]:
    """:func:`preview_stream` as one list (for small windows and tests)."""
    return [PreviewEntry(a, g) for batch in preview_stream(
        session, plan, first, last, rules=rules, calendar=calendar, agency_id=agency_id)
        for _, a, g in batch]


def window_days(first: date, last: date, limit: int = 800) -> int:
    """Days in the window, refusing absurd ones (the preview is for reading)."""
    days = (last - first).days + 1
    if days < 1:
        raise ValueError(f"--to {last.isoformat()} is before --from {first.isoformat()}")
    if days > limit:
        raise ValueError(f"the window is {days} days long; preview at most {limit} days at once")
    return days
